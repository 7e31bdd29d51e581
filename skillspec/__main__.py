"""``python -m skillspec validate FILE`` / ``python -m skillspec schema``."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from .io import json_schema
from .validation import SpecValidationError, lint_skill, parse_skill


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m skillspec", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    v = sub.add_parser("validate", help="validate a skill JSON file")
    v.add_argument("file", type=Path)
    s = sub.add_parser("schema", help="print the JSON Schema of the skill format")
    s.add_argument("-o", "--output", type=Path)
    args = parser.parse_args(argv)
    if args.command == "schema":
        text = json.dumps(json_schema(), indent=2) + "\n"
        if args.output:
            args.output.write_text(text)
        else:
            sys.stdout.write(text)
        return 0
    try:
        skill = parse_skill(args.file.read_bytes())
    except OSError as exc:
        print(f"{args.file}: {exc.strerror}", file=sys.stderr)
        return 2
    except SpecValidationError as exc:
        for issue in exc.issues:
            print(f"{args.file}: {issue}", file=sys.stderr)
        print(f"{len(exc.issues)} problem(s)", file=sys.stderr)
        return 1
    for issue in lint_skill(skill):
        print(f"{args.file}: warning: {issue}")
    print(f"{args.file}: valid skill {skill.name!r}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
