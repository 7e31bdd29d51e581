"""Web studio pages: skills and their slot types, APIs, response templates and utterance sets.

Every page works without JavaScript. With htmx, forms and buttons swap only the
fragment they change: a view renders its ``_fragment.html`` template when
``request.htmx`` and the full page otherwise. Sample dialogues have their own
pages (``dialogue_views``).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.text import slugify
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRedirect

import skillspec
from skillspec import builtins as skillspec_builtins
from studio.web import HtmxHttpRequest, login_required

from . import models, selectors, services
from .components import APIS, KINDS, RESPONSE_TEMPLATES, SLOT_TYPES, UTTERANCE_SETS, ComponentKind
from .forms import ComponentForm, IssueView, SkillForm, describe_issues, issue_messages

EDITABLE = {k.slug: k for k in (SLOT_TYPES, APIS, RESPONSE_TEMPLATES, UTTERANCE_SETS)}

# (value, a few examples) for each built-in slot type, shown next to it in forms and lists.
BUILTIN_CHOICES = [
    (b.value, [str(x) for x in getattr(skillspec_builtins, "EXAMPLES", {}).get(b, [])[:5]])
    for b in skillspec.BuiltinType
]


def _editable_kind(slug: str) -> ComponentKind:
    kind = EDITABLE.get(slug)
    if kind is None:
        raise Http404("No such kind of component")
    return kind


def _read_upload(request: HtmxHttpRequest, name: str) -> tuple[str | None, str | None]:
    """(text, None) for an uploaded UTF-8 file, or (None, why not)."""
    upload = request.FILES.get(name)
    if upload is None:
        return None, "choose a file to upload"
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    if upload.size is not None and upload.size > limit:
        return None, f"the file is {upload.size // 1024} KiB, more than the {limit // 1024} KiB allowed"
    try:
        return upload.read().decode("utf-8-sig"), None
    except UnicodeDecodeError:
        return None, "the file is not UTF-8 text"


# ------------------------------------------------------------------ skills


def _skill_badge(skill: models.Skill) -> tuple[str, str]:
    errors, warnings = selectors.skill_validation(skill=skill)
    if errors:
        return "bad", f"{len(errors)} error{'s' if len(errors) != 1 else ''}"
    if warnings:
        return "warn", f"valid, {len(warnings)} warning{'s' if len(warnings) != 1 else ''}"
    return "ok", "valid"


def _render_skill_list(
    request: HtmxHttpRequest, *, create_form: SkillForm | None = None, import_errors: list[str] | None = None
) -> HttpResponse:
    skills = list(selectors.skill_list(user=request.user))
    rows = [(s, *_skill_badge(s)) for s in skills]
    return render(
        request,
        "skills/list.html",
        {
            "rows": rows,
            "create_form": create_form or SkillForm.initial(),
            "import_errors": import_errors or [],
        },
    )


@login_required
@require_GET
def skill_list_view(request: HtmxHttpRequest) -> HttpResponse:
    return _render_skill_list(request)


@login_required
@require_POST
def skill_create_view(request: HtmxHttpRequest) -> HttpResponse:
    form = SkillForm.bind(request.POST)
    try:
        skill = services.skill_create(
            owner=request.user, name=form.values["name"], description=form.values["description"]
        )
    except skillspec.SpecValidationError as exc:
        form.add_issues(exc.issues)
        if request.htmx:
            return render(request, "skills/_skill_create_form.html", {"create_form": form})
        return _render_skill_list(request, create_form=form)
    url = reverse("skills:detail", args=[skill.pk])
    if request.htmx:
        return HttpResponseClientRedirect(url)
    messages.success(request, f"Created skill “{skill.name}”.")
    return redirect(url)


@login_required
@require_POST
def skill_import_view(request: HtmxHttpRequest) -> HttpResponse:
    text, problem = _read_upload(request, "file")
    errors: list[str] = [problem] if problem else []
    if text is not None:
        try:
            skill = services.skill_import(owner=request.user, data=text)
        except skillspec.SpecValidationError as exc:
            errors = issue_messages(exc.issues)
        else:
            url = reverse("skills:detail", args=[skill.pk])
            if request.htmx:
                return HttpResponseClientRedirect(url)
            messages.success(request, f"Imported skill “{skill.name}”.")
            return redirect(url)
    if request.htmx:
        return render(request, "skills/_skill_import_form.html", {"import_errors": errors})
    return _render_skill_list(request, import_errors=errors)


@login_required
@require_GET
def skill_detail_view(request: HtmxHttpRequest, skill_id: int) -> HttpResponse:
    skill = selectors.skill_get(user=request.user, skill_id=skill_id)
    if request.htmx:
        return render(request, "skills/_skill_header.html", {"skill": skill})
    errors, warnings = selectors.skill_validation(skill=skill)
    pages = _pages(skill)
    counts = selectors.skill_counts(skill=skill)
    return render(
        request,
        "skills/detail.html",
        {
            "skill": skill,
            "section": "dashboard",
            "counts": [(k, counts[k.field], pages[k.field]) for k in KINDS],
            "errors": _describe(skill, errors, pages),
            "warnings": _describe(skill, warnings, pages),
        },
    )


def _pages(skill: models.Skill) -> dict[str, str]:
    """The page of each kind of component, by spec field."""
    return {
        k.field: reverse("skills:components", args=[skill.pk, k.slug])
        if k.slug in EDITABLE
        else reverse("skills:dialogues", args=[skill.pk])
        for k in KINDS
    }


def _describe(
    skill: models.Skill, issues: list[skillspec.Issue], pages: dict[str, str] | None = None
) -> list[IssueView]:
    if not issues:
        return []
    rows = {k.field: list(selectors.component_list(skill=skill, kind=k)) for k in KINDS}
    return describe_issues(issues, rows, pages or _pages(skill))


@login_required
@require_http_methods(["GET", "POST"])
def skill_edit_view(request: HtmxHttpRequest, skill_id: int) -> HttpResponse:
    skill = selectors.skill_get(user=request.user, skill_id=skill_id)
    form = SkillForm.initial(skill)
    if request.method == "POST":
        form = SkillForm.bind(request.POST)
        try:
            services.skill_update(skill=skill, name=form.values["name"], description=form.values["description"])
        except skillspec.SpecValidationError as exc:
            form.add_issues(exc.issues)
        else:
            if request.htmx:
                return render(request, "skills/_skill_header.html", {"skill": skill, "renamed": True})
            messages.success(request, "Saved.")
            return redirect("skills:detail", skill_id=skill.pk)
    context = {"skill": skill, "section": "dashboard", "form": form}
    return render(request, "skills/_skill_header_form.html" if request.htmx else "skills/skill_edit.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def skill_delete_view(request: HtmxHttpRequest, skill_id: int) -> HttpResponse:
    skill = selectors.skill_get(user=request.user, skill_id=skill_id)
    if request.method == "GET":
        return render(request, "skills/skill_delete.html", {"skill": skill, "section": "dashboard"})
    name = skill.name
    services.skill_delete(skill=skill)
    messages.success(request, f"Deleted skill “{name}”.")
    url = reverse("skills:list")
    return HttpResponseClientRedirect(url) if request.htmx else redirect(url)


@login_required
@require_GET
def skill_export_view(request: HtmxHttpRequest, skill_id: int) -> HttpResponse:
    skill = selectors.skill_get(user=request.user, skill_id=skill_id)
    response = HttpResponse(selectors.skill_export(skill=skill), content_type="application/json; charset=utf-8")
    filename = f"{slugify(skill.name) or 'skill'}.json"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


# -------------------------------------------------------------- components


def _templates(kind: ComponentKind) -> dict[str, str]:
    singular = kind.field.removesuffix("s")
    return {"row_body": f"skills/_{singular}_row.html", "form_fields": f"skills/_{singular}_form.html"}


def _component_context(skill: models.Skill, kind: ComponentKind, **extra: Any) -> dict[str, Any]:
    """What every component template needs: the kind and the choices its selects offer."""
    apis = list(selectors.component_list(skill=skill, kind=APIS))
    return {
        "skill": skill,
        "section": kind.slug,
        "kind": kind,
        **_templates(kind),
        "slot_type_choices": list(
            selectors.component_list(skill=skill, kind=SLOT_TYPES).values_list("name", flat=True)
        ),
        "api_choices": [a.name for a in apis],
        "api_arguments": {a.name: [arg["name"] for arg in a.data.get("arguments", [])] for a in apis},
        "act_choices": [a.value for a in (skillspec.DialogAct if kind is RESPONSE_TEMPLATES else skillspec.UserAct)],
        "builtin_choices": BUILTIN_CHOICES,
        **extra,
    }


def _requested_context(
    form_id: str, api: str, selected: list[str], api_arguments: dict[str, list[str]]
) -> dict[str, Any]:
    choices = list(api_arguments.get(api, []))
    choices += [s for s in selected if s not in choices]  # keep what was ticked, even if the API lacks it
    return {"form_id": form_id, "requested_choices": choices, "requested_selected": selected}


def _form_context(
    skill: models.Skill, kind: ComponentKind, form: ComponentForm, component: models.SkillComponent | None
) -> dict[str, Any]:
    form_id = f"row-{component.pk}" if component else "new-form"
    ctx = _component_context(skill, kind, form=form, component=component, form_id=form_id)
    if kind is RESPONSE_TEMPLATES:
        ctx |= _requested_context(form_id, form.values["api"], form.values["requested"], ctx["api_arguments"])
    ctx["blank_rows"] = form.blank_rows()
    if component:
        ctx["action"] = reverse("skills:component_edit", args=[skill.pk, kind.slug, component.pk])
        ctx["cancel"] = reverse("skills:component", args=[skill.pk, kind.slug, component.pk])
    else:
        ctx["action"] = reverse("skills:component_create", args=[skill.pk, kind.slug])
    return ctx


def _render_list_page(
    request: HtmxHttpRequest,
    skill: models.Skill,
    kind: ComponentKind,
    create_form: ComponentForm | None = None,
    **extra: Any,
) -> HttpResponse:
    components = list(selectors.component_list(skill=skill, kind=kind))
    form = create_form or ComponentForm.initial(kind)
    ctx = _form_context(skill, kind, form, None)
    ctx |= {"components": components, "count": len(components), "open": bool(create_form) or not components}
    return render(request, "skills/components.html", ctx | extra)


def _render_row(
    request: HtmxHttpRequest, skill: models.Skill, kind: ComponentKind, component: models.SkillComponent, **extra: Any
) -> HttpResponse:
    return render(request, "skills/_component_row.html", _component_context(skill, kind, component=component, **extra))


@login_required
@require_GET
def component_list_view(request: HtmxHttpRequest, skill_id: int, slug: str) -> HttpResponse:
    skill = selectors.skill_get(user=request.user, skill_id=skill_id)
    return _render_list_page(request, skill, _editable_kind(slug))


@login_required
@require_http_methods(["GET", "POST"])
def component_create_view(request: HtmxHttpRequest, skill_id: int, slug: str) -> HttpResponse:
    skill = selectors.skill_get(user=request.user, skill_id=skill_id)
    kind = _editable_kind(slug)
    if request.method == "GET":
        if request.htmx:
            ctx = _form_context(skill, kind, ComponentForm.initial(kind), None) | {"open": True}
            return render(request, "skills/_component_form.html", ctx)
        return redirect(reverse("skills:components", args=[skill.pk, kind.slug]) + "#new-form")
    form = ComponentForm.bind(kind, request.POST)
    component = None
    if not form.has_errors:
        try:
            component = services.component_create(skill=skill, kind=kind, data=form.data)
        except skillspec.SpecValidationError as exc:
            form.add_issues(exc.issues)
    if component is None:
        if request.htmx:
            ctx = _form_context(skill, kind, form, None) | {"open": True}
            return render(request, "skills/_component_form.html", ctx)
        return _render_list_page(request, skill, kind, create_form=form)
    if request.htmx:
        ctx = _form_context(skill, kind, ComponentForm.initial(kind), None)
        count = selectors.component_list(skill=skill, kind=kind).count()
        ctx |= {"open": True, "created": component, "count": count}
        return render(request, "skills/_component_created.html", ctx)
    messages.success(request, f"Created {kind.label} “{component.name}”.")
    return redirect(reverse("skills:components", args=[skill.pk, kind.slug]) + f"#row-{component.pk}")


@login_required
@require_GET
def component_view(request: HtmxHttpRequest, skill_id: int, slug: str, pk: int) -> HttpResponse:
    skill = selectors.skill_get(user=request.user, skill_id=skill_id)
    kind = _editable_kind(slug)
    component = selectors.component_get(skill=skill, kind=kind, pk=pk)
    if request.htmx:
        return _render_row(request, skill, kind, component)
    return redirect(reverse("skills:components", args=[skill.pk, kind.slug]) + f"#row-{component.pk}")


@login_required
@require_http_methods(["GET", "POST"])
def component_edit_view(request: HtmxHttpRequest, skill_id: int, slug: str, pk: int) -> HttpResponse:
    skill = selectors.skill_get(user=request.user, skill_id=skill_id)
    kind = _editable_kind(slug)
    component = selectors.component_get(skill=skill, kind=kind, pk=pk)
    if request.method == "GET":
        form = ComponentForm.initial(kind, component.data)
    else:
        form = ComponentForm.bind(kind, request.POST)
        if not form.has_errors:
            try:
                component = services.component_update(component=component, data=form.data)
            except skillspec.SpecValidationError as exc:
                form.add_issues(exc.issues)
            else:
                if request.htmx:
                    return _render_row(request, skill, kind, component, saved=True)
                messages.success(request, f"Saved {kind.label} “{component.name}”.")
                return redirect(reverse("skills:components", args=[skill.pk, kind.slug]) + f"#row-{component.pk}")
    ctx = _form_context(skill, kind, form, component)
    return render(request, "skills/_component_form.html" if request.htmx else "skills/component_edit.html", ctx)


@login_required
@require_http_methods(["GET", "POST"])
def component_delete_view(request: HtmxHttpRequest, skill_id: int, slug: str, pk: int) -> HttpResponse:
    skill = selectors.skill_get(user=request.user, skill_id=skill_id)
    kind = _editable_kind(slug)
    component = selectors.component_get(skill=skill, kind=kind, pk=pk)
    refusal: list[str] = []
    if request.method == "POST":
        name = component.name
        try:
            services.component_delete(component=component)
        except skillspec.SpecValidationError as exc:
            refusal = [str(i) for i in _describe(skill, exc.issues)]
        else:
            if request.htmx:
                count = selectors.component_list(skill=skill, kind=kind).count()
                return render(request, "skills/_component_deleted.html", {"kind": kind, "count": count})
            messages.success(request, f"Deleted {kind.label} “{name}”.")
            return redirect("skills:components", skill_id=skill.pk, slug=kind.slug)
        if request.htmx:
            return _render_row(request, skill, kind, component, delete_errors=refusal)
    ctx = _component_context(skill, kind, component=component, delete_errors=refusal)
    return render(request, "skills/component_delete.html", ctx)


@login_required
@require_POST
def slot_type_values_view(request: HtmxHttpRequest, skill_id: int, pk: int) -> HttpResponse:
    """Add catalogue values from an uploaded CSV or text file, or replace them all."""
    skill = selectors.skill_get(user=request.user, skill_id=skill_id)
    component = selectors.component_get(skill=skill, kind=SLOT_TYPES, pk=pk)
    replace = request.POST.get("mode") == "replace"
    text, problem = _read_upload(request, "file")
    errors = [problem] if problem else []
    if text is not None:
        before = len(component.data.get("values", []))
        try:
            component = services.slot_type_values_import(slot_type=component, text=text, replace=replace)
        except skillspec.SpecValidationError as exc:
            errors = issue_messages(exc.issues)
        else:
            after = len(component.data.get("values", []))
            note = f"{after} values now ({'replaced' if replace else f'{after - before} added'})."
            if request.htmx:
                return _render_row(request, skill, SLOT_TYPES, component, import_note=note, import_pk=component.pk)
            messages.success(request, f"Imported values into “{component.name}”: {note}")
            return redirect(reverse("skills:components", args=[skill.pk, SLOT_TYPES.slug]) + f"#row-{component.pk}")
    failed: dict[str, Any] = {"import_errors": errors, "import_pk": component.pk}
    if request.htmx:
        return _render_row(request, skill, SLOT_TYPES, component, **failed)
    return _render_list_page(request, skill, SLOT_TYPES, **failed)


@login_required
@require_GET
def requested_field_view(request: HtmxHttpRequest, skill_id: int) -> HttpResponse:
    """The "requested arguments" checkboxes of a response template form, for the API just chosen."""
    skill = selectors.skill_get(user=request.user, skill_id=skill_id)
    form_id = request.GET.get("form_id", "")
    if form_id != "new-form" and not (form_id.startswith("row-") and form_id[4:].isdigit()):
        raise Http404("No such form")
    ctx = _component_context(skill, RESPONSE_TEMPLATES)
    selected = [r for r in request.GET.getlist("requested") if r]
    ctx |= _requested_context(form_id, request.GET.get("api", ""), selected, ctx["api_arguments"])
    return render(request, "skills/_requested_field.html", ctx)
