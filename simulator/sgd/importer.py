"""The entry point :func:`import_sgd`: it reads the schema and the dialogues, keeps the
single-service dialogues of the service, chooses the samples (replacing a candidate that
cannot be one), builds the catalogue, converts every dialogue, assembles and validates the
skill, checks each gold dialogue with :class:`simulator.checker.Checker` and fills in the
report."""

from __future__ import annotations

import random
import re
from collections.abc import Sequence
from typing import Any

from skillspec import SpecValidationError, parse_skill, spec_hash
from skillspec.annotated import AnnotatedDialogue

from ..checker import Checker
from .assemble import _gold, _skill
from .catalogue import _build_catalogue
from .convert import _Converter
from .report import EXAMPLES_KEPT, SgdImport, SgdImportError, SgdReport
from .schema import _actions, _frames, _Service, _service, load_dialogues, load_schema
from .turns import _Dialogue, _Skip


def _eligible(dialogues: Sequence[dict[str, Any]], service: str, report: SgdReport) -> list[dict[str, Any]]:
    seen: set[str] = set()
    out = []
    for d in dialogues:
        did = d["dialogue_id"]
        services = d.get("services")
        if did in seen:
            report.skip(did, "duplicate dialogue_id", "")
            continue
        seen.add(did)
        if not isinstance(services, list) or service not in services:
            report.skip(did, "does not involve the service", f"services {services}")
        elif len(services) > 1:
            others = ", ".join(str(s) for s in services if s != service)
            report.skip(did, "involves other services", others)
        else:
            out.append(d)
    return sorted(out, key=lambda d: str(d["dialogue_id"]))


def _mark_counting(service: _Service, dialogues: Sequence[dict[str, Any]]) -> None:
    for d in dialogues:
        for frame in _frames(d, service.name):
            call = frame.get("service_call")
            if isinstance(call, dict) and any(a.get("act") == "INFORM_COUNT" for a in _actions(frame)):
                intent = service.intents.get(str(call.get("method")))
                if intent is not None:
                    intent.counts = True


def import_sgd(
    schema_path_or_data: Any,
    dialogue_files: Sequence[Any],
    service: str,
    samples: int = 10,
    seed: int | None = None,
) -> SgdImport:
    """Import SGD service ``service`` as a skill whose sample dialogues are ``samples`` of
    the given dialogues; the other dialogues become gold annotated dialogues.

    ``schema_path_or_data`` is the path of ``schema.json`` or its parsed content;
    ``dialogue_files`` are paths of ``dialogues_*.json`` files or their parsed contents.
    The samples are the first dialogues by ``dialogue_id``, or, with ``seed``, the first
    of a seeded random order. Raises :class:`SgdImportError` when nothing can be imported.
    """
    if samples < 0:
        raise SgdImportError("the number of samples cannot be negative")
    svc = _service(load_schema(schema_path_or_data), service)
    dialogues = load_dialogues(dialogue_files)
    report = SgdReport(service=service, dialogues_total=len(dialogues), renamed=dict(svc.renamed))
    eligible = _eligible(dialogues, service, report)
    if not eligible:
        raise SgdImportError(f"none of the {len(dialogues)} given dialogues is a single-service dialogue of {service}")
    _mark_counting(svc, eligible)
    candidates = list(eligible)
    if seed is not None:
        random.Random(seed).shuffle(candidates)
    excluded: dict[str, _Skip] = {}
    while True:
        chosen = [d for d in candidates if d["dialogue_id"] not in excluded][:samples]
        cat = _build_catalogue(svc, eligible, chosen)
        sample_out: list[_Dialogue] = []
        failed = False
        for d in chosen:
            try:
                sample_out.append(_Converter(svc, cat, evaluation=False).convert(d))
            except _Skip as skip:
                excluded[d["dialogue_id"]] = skip
                failed = True
        if failed:
            continue
        chosen_ids = {d["dialogue_id"] for d in chosen}
        rest: list[tuple[str, _Dialogue | _Skip]] = []
        converter = _Converter(svc, cat, evaluation=True)
        for d in eligible:
            if d["dialogue_id"] in chosen_ids:
                continue
            try:
                rest.append((d["dialogue_id"], converter.convert(d)))
            except _Skip as skip:
                rest.append((d["dialogue_id"], skip))
        converted = [r for _, r in rest if isinstance(r, _Dialogue)]
        by_id = {d.id: d for d in [*sample_out, *converted]}
        everything = [by_id[str(d["dialogue_id"])] for d in eligible if str(d["dialogue_id"]) in by_id]
        local = SgdReport(service=service)
        skill, names = _skill(svc, cat, sample_out, everything, local)
        try:
            skill = parse_skill(skill.model_dump(mode="json"))
        except SpecValidationError as exc:
            bad = _bad_samples(exc, sample_out)
            if not bad:
                raise SgdImportError(f"internal error: the imported skill is not valid:\n{exc}") from None
            for i, issue in bad:
                excluded[sample_out[i].id] = _Skip("not valid as a sample dialogue", str(issue))
            continue
        break

    report.samples = [d.id for d in sample_out]
    report.replaced_samples = [f"{did}: {why.reason} ({why.detail})" for did, why in excluded.items()]
    report.builtin_slots = {svc.slots[s].name: b.value for s, b in cat.builtin.items()}
    report.templates_without_sample_text = local.templates_without_sample_text
    digest = spec_hash(skill)
    checker = Checker(skill)
    gold: list[AnnotatedDialogue] = []
    for did, result in rest:
        if isinstance(result, _Skip):
            report.skip(did, result.reason, result.detail)
            continue
        record = _gold(result, svc, names, skill, digest)
        issues = checker.check(record)
        if issues:
            # Never expected; reported rather than written, so that the gold always checks.
            report.skip(did, "fails the checker: " + _issue_kind(issues[0].message), str(issues[0]))
            continue
        gold.append(record)
        report.converted += 1
    for done in [*sample_out, *converted]:
        report.notes.update(done.notes)
        for reason, slot, example in done.not_located:
            report.values_not_located += 1
            report.not_located_by_reason[reason] += 1
            report.not_located_by_slot[svc.slots[slot].name if slot in svc.slots else slot] += 1
            if len(report.not_located_examples) < 2 * EXAMPLES_KEPT:
                report.not_located_examples.append(f"{done.id}: {example}")
    if cat.conflicts:
        report.notes["surface forms dropped as synonyms (they stand for several values)"] = cat.conflicts
    report.slot_types = len(skill.slot_types)
    report.apis = len(skill.apis)
    report.response_templates = len(skill.response_templates)
    report.utterance_sets = len(skill.utterance_sets)
    if samples > len(report.samples):
        report.notes[f"fewer samples than asked ({samples}): not enough convertible dialogues"] = 1
    return SgdImport(skill=skill, gold=gold, report=report)


def _issue_kind(message: str) -> str:
    """A checker message without its particulars, to count issues of one kind together."""
    return re.sub(r"\d+", "N", re.sub(r"'[^']*'|\"[^\"]*\"", "…", message))


def _bad_samples(exc: SpecValidationError, samples: Sequence[_Dialogue]) -> list[tuple[int, str]]:
    """(sample index, issue) when every issue lies inside a sample dialogue; else []."""
    out: list[tuple[int, str]] = []
    for issue in exc.issues:
        m = re.match(r"sample_dialogues\[(\d+)\]", issue.path)
        if m is None or int(m.group(1)) >= len(samples):
            return []
        out.append((int(m.group(1)), str(issue)))
    return out
