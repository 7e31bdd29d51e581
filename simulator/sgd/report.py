"""The outcome of an import: :class:`SgdImport` (the skill, the gold dialogues and the
report), :class:`SgdReport` (what was converted and, above all, what was not, and why, as
counts, examples and a readable summary) and :class:`SgdImportError` (the input cannot be
imported at all)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from skillspec import Skill
from skillspec.annotated import AnnotatedDialogue

EXAMPLES_KEPT = 5


class SgdImportError(ValueError):
    """The input cannot be imported at all (bad files, unknown service); the message says why."""


@dataclass
class SgdReport:
    """What the import did and, above all, what it could not convert, and why."""

    service: str
    dialogues_total: int = 0
    samples: list[str] = field(default_factory=list)
    converted: int = 0
    skipped: int = 0
    skipped_by_reason: Counter[str] = field(default_factory=Counter)
    skip_examples: dict[str, list[str]] = field(default_factory=dict)
    values_not_located: int = 0
    not_located_by_reason: Counter[str] = field(default_factory=Counter)
    not_located_by_slot: Counter[str] = field(default_factory=Counter)
    not_located_examples: list[str] = field(default_factory=list)
    notes: Counter[str] = field(default_factory=Counter)
    renamed: dict[str, str] = field(default_factory=dict)
    replaced_samples: list[str] = field(default_factory=list)
    builtin_slots: dict[str, str] = field(default_factory=dict)
    slot_types: int = 0
    apis: int = 0
    response_templates: int = 0
    # Templates whose signature no sample shows: their one variant is generated from the schema.
    templates_without_sample_text: int = 0
    utterance_sets: int = 0

    def skip(self, dialogue_id: str, reason: str, detail: str) -> None:
        self.skipped += 1
        self.skipped_by_reason[reason] += 1
        examples = self.skip_examples.setdefault(reason, [])
        if len(examples) < EXAMPLES_KEPT:
            examples.append(f"{dialogue_id}: {detail}" if detail else dialogue_id)

    def as_dict(self) -> dict[str, Any]:
        """Plain data (for JSON output)."""
        return {
            "service": self.service,
            "dialogues_total": self.dialogues_total,
            "samples": list(self.samples),
            "converted": self.converted,
            "skipped": self.skipped,
            "skipped_by_reason": dict(self.skipped_by_reason.most_common()),
            "skip_examples": {k: list(v) for k, v in self.skip_examples.items()},
            "values_not_located": self.values_not_located,
            "not_located_by_reason": dict(self.not_located_by_reason.most_common()),
            "not_located_by_slot": dict(self.not_located_by_slot.most_common()),
            "not_located_examples": list(self.not_located_examples),
            "notes": dict(self.notes.most_common()),
            "renamed": dict(self.renamed),
            "replaced_samples": list(self.replaced_samples),
            "builtin_slots": dict(self.builtin_slots),
            "skill": {
                "slot_types": self.slot_types,
                "apis": self.apis,
                "response_templates": self.response_templates,
                "templates_without_sample_text": self.templates_without_sample_text,
                "utterance_sets": self.utterance_sets,
            },
        }

    def __str__(self) -> str:
        return self.summary()

    def summary(self) -> str:
        """A human-readable account, several lines."""
        lines = [
            f"SGD service {self.service}: {self.dialogues_total} dialogues given",
            f"  samples: {len(self.samples)} ({', '.join(self.samples)})" if self.samples else "  samples: 0",
            f"  converted to gold: {self.converted}; skipped: {self.skipped}",
        ]
        for reason, n in self.skipped_by_reason.most_common():
            lines.append(f"    skipped, {reason}: {n} (e.g. {'; '.join(self.skip_examples.get(reason, []))})")
        lines.append(
            f"  skill: {self.slot_types} slot types, {self.apis} APIs, {self.response_templates} response templates"
            f" ({self.templates_without_sample_text} with schema-generated variants: signature not in the samples),"
            f" {self.utterance_sets} utterance sets"
        )
        lines.append(f"  user values not located in the text (not annotated): {self.values_not_located}")
        for reason, n in self.not_located_by_reason.most_common():
            lines.append(f"    {reason}: {n}")
        if self.not_located_by_slot:
            by_slot = ", ".join(f"{s} {n}" for s, n in self.not_located_by_slot.most_common())
            lines.append(f"    by slot: {by_slot}")
        for example in self.not_located_examples:
            lines.append(f"    e.g. {example}")
        for note, n in self.notes.most_common():
            lines.append(f"  {note}: {n}")
        for replaced in self.replaced_samples:
            lines.append(f"  sample candidate replaced: {replaced}")
        if self.builtin_slots:
            lines.append("  built-in slot types: " + ", ".join(f"{k} {v}" for k, v in self.builtin_slots.items()))
        if self.renamed:
            lines.append("  renamed: " + ", ".join(f"{k} -> {v}" for k, v in self.renamed.items()))
        return "\n".join(lines)


@dataclass
class SgdImport:
    """The result of :func:`import_sgd`."""

    skill: Skill
    gold: list[AnnotatedDialogue]
    report: SgdReport
