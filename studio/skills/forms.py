"""Studio forms: posted fields become skill-spec item dicts, and spec issues become errors next to fields.

The spec (and the services that validate against it) is the only judge of what is
valid, so these forms do no validation of their own: they read what the user typed,
hand the item to a service, and place every issue the service reports next to the
input it concerns. What the user typed is kept verbatim so that a form shown again
after an error loses nothing.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from typing import Any

from django.http import QueryDict

import skillspec

from . import models, services
from .components import APIS, KINDS, RESPONSE_TEMPLATES, SLOT_TYPES, UTTERANCE_SETS, ComponentKind

CATALOGUE = "catalogue"
# The repeated rows of each kind: group name -> the inputs of one row.
ROW_GROUPS: dict[str, dict[str, tuple[str, ...]]] = {
    SLOT_TYPES.field: {},
    APIS.field: {"arguments": ("name", "slot_type", "required", "default"), "returns": ("name", "slot_type")},
    RESPONSE_TEMPLATES.field: {"arguments": ("name", "slot_type")},
    UTTERANCE_SETS.field: {"arguments": ("name", "slot_type")},
}
CHECKBOXES = frozenset({"required"})
HAS_DESCRIPTION = (SLOT_TYPES, APIS)
MAX_ROWS = 200
# Spec fields that the form edits through an input of another name.
INPUT_FOR_FIELD = {"builtin": "kind"}
_ROW_KEY = re.compile(r"^(?P<group>[a-z_]+)-(?P<index>\d{1,6})-(?P<field>[a-z_]+)$")
_PATH = re.compile(r"^(?P<field>[A-Za-z_]+)(?:\[(?P<index>\d+)\])?(?:\.(?P<rest>.*))?$")
_SUB = re.compile(r"^(?P<field>[A-Za-z_]+)(?:\[\d+\])?")
_OTHER_NAME = re.compile(r"^[a-z_]+\[\d+\]\.name$")
_TOP = re.compile(r"^(?P<field>[a-z_]+)\[(?P<index>\d+)\](?:\.(?P<rest>.*))?$")


class Errors(dict[str, list[str]]):
    """Error messages by input name; an input without errors has an empty list.

    So that templates can look up any input (``errors.values`` must not fall back to ``dict.values``).
    """

    def __missing__(self, key: str) -> list[str]:
        return []


def issue_messages(issues: list[skillspec.Issue]) -> list[str]:
    return [str(i) for i in issues]


# ------------------------------------------------------------------ skills


@dataclass
class SkillForm:
    """Name and description of a skill."""

    values: dict[str, str]
    errors: dict[str, list[str]] = field(default_factory=Errors)
    other_errors: list[str] = field(default_factory=list)

    @classmethod
    def bind(cls, post: QueryDict) -> SkillForm:
        return cls({"name": post.get("name", ""), "description": post.get("description", "")})

    @classmethod
    def initial(cls, skill: models.Skill | None = None) -> SkillForm:
        return cls({"name": skill.name, "description": skill.description} if skill else {"name": "", "description": ""})

    def add_issues(self, issues: list[skillspec.Issue]) -> None:
        for issue in issues:
            if issue.path in self.values:
                self.errors.setdefault(issue.path, []).append(issue.message)
            else:
                self.other_errors.append(str(issue))


# -------------------------------------------------------------- components


def format_catalogue(values: list[dict[str, Any]]) -> str:
    """Catalogue values as the textarea shows them: ``value, synonym, ...`` one per line, CSV-quoted."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    if values and values[0]["value"].strip().lower() == "value":
        # parse_catalogue skips a first line starting with "value" as a header; keep such a value.
        writer.writerow(["value", "synonyms"])
    for v in values:
        writer.writerow([v["value"], *v.get("synonyms", [])])
    return buf.getvalue()


def _blank_row(fields: tuple[str, ...]) -> dict[str, Any]:
    return {f: (True if f in CHECKBOXES else "") for f in fields} | {"errors": Errors()}


@dataclass
class ComponentForm:
    """The inputs of one component's form.

    ``values`` holds what the inputs show: strings, booleans, and for each row group
    a list of row dicts (each with its own ``errors``). ``data`` is the spec item built
    from them, or None when the post could not even be read into one.
    """

    kind: ComponentKind
    values: dict[str, Any]
    data: dict[str, Any] | None = None
    errors: dict[str, list[str]] = field(default_factory=Errors)
    other_errors: list[str] = field(default_factory=list)

    @property
    def has_errors(self) -> bool:
        return bool(self.errors or self.other_errors or any(r["errors"] for r in self._all_rows()))

    def _all_rows(self) -> list[dict[str, Any]]:
        return [row for group in ROW_GROUPS[self.kind.field] for row in self.values.get(group, [])]

    def blank_rows(self) -> dict[str, dict[str, Any]]:
        return {group: _blank_row(fields) for group, fields in ROW_GROUPS[self.kind.field].items()}

    # -- construction

    @classmethod
    def initial(cls, kind: ComponentKind, data: dict[str, Any] | None = None) -> ComponentForm:
        """The form for a new component (``data`` None) or for editing ``data``."""
        d = data or {}
        values: dict[str, Any] = {"name": d.get("name", "")}
        if kind in HAS_DESCRIPTION:
            values["description"] = d.get("description", "")
        if kind is SLOT_TYPES:
            values["kind"] = d.get("builtin") or CATALOGUE
            values["values"] = format_catalogue(d.get("values", []))
        if kind is APIS:
            values["transactional"] = bool(d.get("transactional", False))
        if kind in (RESPONSE_TEMPLATES, UTTERANCE_SETS):
            values["act"] = d.get("act", "")
            values["api"] = d.get("api") or ""
            values["variants"] = "\n".join(d.get("variants", []))
        if kind is RESPONSE_TEMPLATES:
            values["requested"] = list(d.get("requested", []))
        for group, fields in ROW_GROUPS[kind.field].items():
            values[group] = [
                {f: _row_value(f, item.get(f)) for f in fields} | {"errors": Errors()} for item in d.get(group, [])
            ]
        return cls(kind, values, data=dict(d) if data is not None else None)

    @classmethod
    def bind(cls, kind: ComponentKind, post: QueryDict) -> ComponentForm:
        """Read a form post; ``data`` is the spec item to hand to the services."""
        form = cls(kind, {"name": post.get("name", "")})
        v = form.values
        data: dict[str, Any] = {"name": v["name"].strip()}
        if kind in HAS_DESCRIPTION:
            v["description"] = post.get("description", "")
            data["description"] = v["description"].strip()
        if kind is SLOT_TYPES:
            v["kind"] = post.get("kind", CATALOGUE)
            v["values"] = post.get("values", "")
            data["builtin"] = None if v["kind"] in ("", CATALOGUE) else v["kind"]
            try:
                data["values"] = services.parse_catalogue(v["values"])
            except skillspec.SpecValidationError as exc:
                form.add_issues(exc.issues)
                data["values"] = []
        if kind is APIS:
            v["transactional"] = "transactional" in post
            data["transactional"] = v["transactional"]
        if kind in (RESPONSE_TEMPLATES, UTTERANCE_SETS):
            v["act"] = post.get("act", "")
            v["api"] = post.get("api", "")
            v["variants"] = post.get("variants", "")
            data["act"] = v["act"]
            data["api"] = v["api"] or None
            data["variants"] = [line.strip() for line in v["variants"].splitlines() if line.strip()]
        if kind is RESPONSE_TEMPLATES:
            v["requested"] = [r.strip() for r in post.getlist("requested") if r.strip()]
            data["requested"] = list(dict.fromkeys(v["requested"]))
        for group, fields in ROW_GROUPS[kind.field].items():
            rows = _posted_rows(post, group, fields)
            if len(rows) > MAX_ROWS:
                form.errors.setdefault(group, []).append(f"at most {MAX_ROWS} rows")
                rows = rows[:MAX_ROWS]
            v[group] = rows
            data[group] = [_row_item(row, fields) for row in rows]
        form.data = data
        return form

    # -- errors

    def add_issues(self, issues: list[skillspec.Issue]) -> None:
        """Put each issue next to its input; issues about anything else go to the list at the top."""
        for issue in issues:
            if not self._place(issue):
                self.other_errors.append(str(issue))

    def _place(self, issue: skillspec.Issue) -> bool:
        if _OTHER_NAME.match(issue.path) and repr(self.values["name"].strip()) in issue.message:
            # A clash reported at the other item's name ("duplicate API name 'X'") is about this name too.
            self._error("name", issue.message)
            return True
        m = _PATH.match(issue.path)
        if not m:
            return False
        name, index, rest = m["field"], m["index"], m["rest"]
        name = INPUT_FOR_FIELD.get(name, name)
        if name not in self.values:
            return False
        message = issue.message
        value = self.values[name]
        if name in ROW_GROUPS[self.kind.field]:
            if index is None:
                self._error(name, message)
                return True
            rows = value
            if int(index) >= len(rows):
                return False
            row = rows[int(index)]
            sub = _SUB.match(rest or "")
            key = sub["field"] if sub and sub["field"] in row else "other"
            if key != "other" and row.get(key) == "" and _is_missing(message):
                message = "required"
            row["errors"].setdefault(key, []).append(message)
            return True
        if index is not None:
            message = self._list_item_message(name, int(index), message)
        elif isinstance(value, str) and not value.strip() and (_is_missing(message) or name == "variants"):
            message = "write at least one variant, one per line" if name == "variants" else "required"
        self._error(name, message)
        return True

    def _list_item_message(self, name: str, index: int, message: str) -> str:
        """Say which value or variant an issue is about: the textarea has no per-line markers."""
        data = self.data or {}
        items = data.get(name) or []
        if index >= len(items):
            return message
        item = items[index]
        if name == "values":
            return f"{item['value']}: {message}"
        if name == "variants":
            return f"“{item}”: {message}"
        return message

    def _error(self, name: str, message: str) -> None:
        self.errors.setdefault(name, []).append(message)


def _is_missing(message: str) -> bool:
    # What the spec says about an empty required input: a pattern or enum it cannot match.
    return message.startswith(("must start with a letter", "Input should be", "String should have at least"))


def _row_value(name: str, value: Any) -> Any:
    if name in CHECKBOXES:
        return bool(value) if value is not None else True
    return "" if value is None else str(value)


def _posted_rows(post: QueryDict, group: str, fields: tuple[str, ...]) -> list[dict[str, Any]]:
    """Rows of ``group`` in the order of their indices; rows with nothing typed are dropped."""
    by_index: dict[int, dict[str, str]] = {}
    for key in post:
        m = _ROW_KEY.match(key)
        if m and m["group"] == group and m["field"] in fields:
            by_index.setdefault(int(m["index"]), {})[m["field"]] = post.get(key, "")
    rows = []
    for index in sorted(by_index):
        raw = by_index[index]
        row: dict[str, Any] = {f: ("required" in raw if f == "required" else raw.get(f, "")) for f in fields}
        if not any(str(row[f]).strip() for f in fields if f not in CHECKBOXES):
            continue
        row["errors"] = Errors()
        rows.append(row)
    return rows


def _row_item(row: dict[str, Any], fields: tuple[str, ...]) -> dict[str, Any]:
    item: dict[str, Any] = {}
    for f in fields:
        if f in CHECKBOXES:
            item[f] = bool(row[f])
        elif f == "default":
            item[f] = row[f] if row[f] != "" else None
        else:
            item[f] = row[f].strip()
    return item


# ----------------------------------------------------------- issue display

_LABELS = {k.field: k.label for k in KINDS}
_PLURALS = {k.field: k.label_plural for k in KINDS}


@dataclass(frozen=True)
class IssueView:
    """An issue of a whole skill, told by the component it concerns."""

    where: str  # e.g. 'API “SearchFlights”', or the raw path when no component is concerned
    detail: str  # the rest of the path, e.g. "arguments[1].slot_type"
    message: str
    url: str  # the component's row on its page, or ""

    def __str__(self) -> str:
        where = f"{self.where} {self.detail}" if self.detail else self.where
        return f"{where}: {self.message}" if where else self.message


def describe_issues(
    issues: list[skillspec.Issue], rows: dict[str, list[models.SkillComponent]], pages: dict[str, str]
) -> list[IssueView]:
    """Name the component of each skill-level issue (``apis[0].x`` -> API “SearchFlights”, ``x``).

    ``rows`` maps each spec field to the component rows in spec order, ``pages`` to the page listing them.
    """
    out = []
    for issue in issues:
        m = _TOP.match(issue.path)
        items = rows.get(m["field"], []) if m else []
        if m and int(m["index"]) < len(items):
            row = items[int(m["index"])]
            page = pages.get(m["field"], "")
            out.append(
                IssueView(
                    where=f"{_LABELS[m['field']]} “{row.name}”",
                    detail=m["rest"] or "",
                    message=issue.message,
                    url=f"{page}#row-{row.pk}" if page else "",
                )
            )
        else:
            field_name = issue.path.split("[", 1)[0].split(".", 1)[0]
            where = _PLURALS.get(issue.path, issue.path)
            out.append(IssueView(where, "", issue.message, pages.get(field_name, "")))
    return out
