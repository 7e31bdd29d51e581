"""Diversity statistics of a set of annotated dialogues."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from skillspec import Skill
from skillspec.annotated import AnnotatedActionKind
from skillspec.fallback import response_templates


@dataclass
class Stats:
    """Accumulates statistics dialogue by dialogue (``update``), then reports (``compute``)."""

    skill: Skill
    dialogues: int = 0
    turns: int = 0
    user_texts: set[str] = field(default_factory=set)
    paths: set[tuple[str, ...]] = field(default_factory=set)
    apis: Counter[str] = field(default_factory=Counter)
    templates: Counter[str] = field(default_factory=Counter)
    slot_types: Counter[str] = field(default_factory=Counter)
    phenomena: Counter[str] = field(default_factory=Counter)

    def update(self, dialogue: dict[str, Any]) -> None:
        self.dialogues += 1
        self.turns += len(dialogue["turns"])
        path: list[str] = []
        for turn in dialogue["turns"]:
            if turn["speaker"] == "user":
                self.user_texts.add(turn["text"])
                self.slot_types.update(s["slot_type"] for s in turn["spans"])
                path.append("|".join(turn.get("acts", [])))
            else:
                for action in turn["actions"]:
                    path.append(action["name"])
                    if action["kind"] == AnnotatedActionKind.API:
                        self.apis[action["name"]] += 1
                        self.slot_types.update(r["slot_type"] for r in action.get("results", []))
                    elif action["kind"] == AnnotatedActionKind.RESPONSE:
                        self.templates[action["name"]] += 1
        self.paths.add(tuple(path))
        self.phenomena.update(dialogue.get("phenomena", []))

    def merge(self, other: Stats) -> None:
        """Add the statistics of ``other`` (e.g. of another worker's dialogues) to these."""
        self.dialogues += other.dialogues
        self.turns += other.turns
        self.user_texts |= other.user_texts
        self.paths |= other.paths
        self.apis.update(other.apis)
        self.templates.update(other.templates)
        self.slot_types.update(other.slot_types)
        self.phenomena.update(other.phenomena)

    def compute(self) -> dict[str, Any]:
        def coverage(used: Counter[str], names: list[str]) -> dict[str, Any]:
            missing = [n for n in names if not used[n]]
            return {"covered": len(names) - len(missing), "total": len(names), "missing": missing}

        return {
            "dialogues": self.dialogues,
            "mean_turns": round(self.turns / self.dialogues, 2) if self.dialogues else 0,
            "distinct_user_texts": len(self.user_texts),
            "distinct_action_paths": len(self.paths),
            "apis": coverage(self.apis, [a.name for a in self.skill.apis]),
            "templates": coverage(self.templates, [t.name for t in response_templates(self.skill)]),
            "slot_types": coverage(self.slot_types, [s.name for s in self.skill.slot_types]),
            "phenomena": dict(sorted(self.phenomena.items())),
        }


def format_stats(stats: dict[str, Any]) -> str:
    lines = [
        f"dialogues:              {stats['dialogues']:,} (mean {stats['mean_turns']} turns)",
        f"distinct user texts:    {stats['distinct_user_texts']:,}",
        f"distinct action paths:  {stats['distinct_action_paths']:,}",
    ]
    for key in ("apis", "templates", "slot_types"):
        c = stats[key]
        missing = f"  (never: {', '.join(c['missing'])})" if c["missing"] else ""
        lines.append(f"{key.replace('_', ' ') + ' covered:':24}{c['covered']}/{c['total']}{missing}")
    if stats["phenomena"]:
        n = max(stats["dialogues"], 1)
        lines.append("phenomena:              " + ", ".join(f"{k} {v / n:.0%}" for k, v in stats["phenomena"].items()))
    return "\n".join(lines)
