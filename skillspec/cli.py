"""Helpers shared by the command lines (``python -m simulator``, ``python -m modeling``)."""

from __future__ import annotations

from pathlib import Path

from .models import Skill
from .validation import SpecValidationError, parse_skill


def load_skill_or_exit(path: Path) -> Skill:
    """The skill in ``path``; a missing file or an invalid skill exits with every problem, by path."""
    try:
        return parse_skill(path.read_bytes())
    except OSError as exc:
        raise SystemExit(f"{path}: {exc.strerror}") from None
    except SpecValidationError as exc:
        lines = "\n".join(f"{path}: {issue}" for issue in exc.issues)
        raise SystemExit(f"{lines}\n{path}: not a valid skill ({len(exc.issues)} problem(s))") from None
