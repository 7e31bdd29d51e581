"""The "Import from SGD" page: a service of the Schema-Guided Dialogue dataset becomes a new skill."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from studio.web import HtmxHttpRequest, login_required

from .sgd_services import MAX_SAMPLES, SgdImportProblem, SgdUpload, sgd_schema_services, skill_import_sgd

SESSION_KEY = "sgd_import_result"
MAX_DIALOGUE_FILES = 20
MAX_FILES_FACTOR = 4
FIELDS = ("schema", "dialogues", "service", "samples", "seed", "general")


def _read(upload: UploadedFile[bytes], limit: int) -> tuple[SgdUpload | None, str | None]:
    name = upload.name or "the file"
    if upload.size is not None and upload.size > limit:
        return None, f"{name} is {upload.size // 1024} KiB, more than the {limit // 1024} KiB allowed"
    try:
        return SgdUpload(name=name, text=upload.read().decode("utf-8-sig")), None
    except UnicodeDecodeError:
        return None, f"{name} is not UTF-8 text"


def _number(text: str, *, required: bool) -> tuple[int | None, str | None]:
    text = text.strip()
    if not text:
        return None, "enter a whole number" if required else None
    try:
        return int(text), None
    except ValueError:
        return None, f"{text!r} is not a whole number"


def _present(result: dict[str, Any] | None) -> dict[str, Any] | None:
    """The stored result, with the report's tables as lists the template can walk."""
    if result is None:
        return None
    report = result["report"]
    examples = report.get("skip_examples", {})
    return {
        **result,
        "skipped_rows": [(r, n, examples.get(r, [])) for r, n in report.get("skipped_by_reason", {}).items()],
        "not_located_rows": list(report.get("not_located_by_reason", {}).items()),
        "not_located_slots": list(report.get("not_located_by_slot", {}).items()),
        "note_rows": list(report.get("notes", {}).items()),
        "renamed_rows": list(report.get("renamed", {}).items()),
        "builtin_rows": list(report.get("builtin_slots", {}).items()),
    }


def _page(request: HtmxHttpRequest, context: dict[str, Any]) -> HttpResponse:
    template = "skills/_sgd_import_form.html" if request.htmx else "skills/sgd_import.html"
    context["result"] = _present(context.get("result"))
    return render(request, template, {"max_samples": MAX_SAMPLES, **context})


@login_required
@require_http_methods(["GET", "POST"])
def sgd_import_view(request: HtmxHttpRequest) -> HttpResponse:
    if request.method == "GET":
        # After a plain (non-htmx) import the report comes through the session, so that
        # reloading the page does not import again.
        result = request.session.pop(SESSION_KEY, None)
        return _page(request, {"values": {"samples": "10"}, "errors": {}, "result": result})

    values = {k: request.POST.get(k, "")[:200] for k in ("service", "samples", "seed")}
    errors: dict[str, list[str]] = {k: [] for k in FIELDS}
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    schema: SgdUpload | None = None
    if (upload := request.FILES.get("schema")) is None:
        errors["schema"].append("choose the schema.json file")
    else:
        schema, problem = _read(upload, limit)
        if problem:
            errors["schema"].append(problem)
    dialogues: list[SgdUpload] = []
    uploads = request.FILES.getlist("dialogues")
    if not uploads:
        errors["dialogues"].append("choose one or more dialogues files")
    elif len(uploads) > MAX_DIALOGUE_FILES:
        errors["dialogues"].append(f"at most {MAX_DIALOGUE_FILES} files at once")
    else:
        for upload in uploads:
            read, problem = _read(upload, limit)
            if problem:
                errors["dialogues"].append(problem)
            elif read is not None:
                dialogues.append(read)
        # SGD splits a service's dialogues over several files; together they may be a few times one file's limit.
        if not errors["dialogues"] and sum(len(d.text) for d in dialogues) > MAX_FILES_FACTOR * limit:
            errors["dialogues"].append(
                f"the files add up to more than the {MAX_FILES_FACTOR * limit // 1024} KiB allowed"
            )
    samples, problem = _number(values["samples"], required=True)
    if problem:
        errors["samples"].append(problem)
    seed, problem = _number(values["seed"], required=False)
    if problem:
        errors["seed"].append(problem)

    known: list[str] = []
    if schema is not None:
        try:
            known = sgd_schema_services(schema=schema)
        except SgdImportProblem as exc:
            errors[exc.field or "general"].append(exc.message)
    if schema is not None and samples is not None and not any(errors.values()):
        try:
            skill, report = skill_import_sgd(
                owner=request.user,
                schema=schema,
                dialogues=dialogues,
                service=values["service"],
                samples=samples,
                seed=seed,
            )
        except SgdImportProblem as exc:
            errors[exc.field or "general"].append(exc.message)
        else:
            result = {
                "skill_id": skill.pk,
                "skill_name": skill.name,
                "report": report.as_dict(),
            }
            if request.htmx:
                return _page(request, {"values": values, "errors": {}, "result": result, "services": known})
            request.session[SESSION_KEY] = result
            return redirect(reverse("skills:import_sgd"))
    return _page(request, {"values": values, "errors": errors, "services": known, "failed": True})
