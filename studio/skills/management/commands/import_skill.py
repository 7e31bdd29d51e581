"""``manage.py import_skill FILE [--owner USERNAME]``: add a skill from a skill-spec JSON file."""

from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

import skillspec
from studio.skills import selectors, services


class Command(BaseCommand):
    help = "Import a skill-spec JSON file as a new skill of USERNAME (default: demo)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path, help="skill-spec JSON file")
        parser.add_argument(
            "--owner", default="demo", metavar="USERNAME", help="owner of the new skill (default: demo)"
        )

    def handle(self, *args: Any, file: Path, owner: str, **options: Any) -> None:
        try:
            data = file.read_bytes()
        except OSError as exc:
            raise CommandError(f"cannot read {file}: {exc.strerror}") from None
        # Check the file before touching the database, so a bad file fails the same way everywhere.
        try:
            skillspec.parse_skill(data)
        except skillspec.SpecValidationError as exc:
            lines = "\n".join(f"  {issue}" for issue in exc.issues)
            raise CommandError(f"{file} is not a valid skill ({len(exc.issues)} problem(s)):\n{lines}") from None
        user = get_user_model().objects.filter(username=owner).first()
        if user is None:
            raise CommandError(f"no user {owner!r}; create it first (or run load_demo for the demo user)")
        skill = services.skill_import(owner=user, data=data)
        counts = ", ".join(f"{n} {field.replace('_', ' ')}" for field, n in selectors.skill_counts(skill=skill).items())
        self.stdout.write(self.style.SUCCESS(f"Imported skill {skill.name!r} (id {skill.pk}) for {owner}: {counts}"))
        _, warnings = selectors.skill_validation(skill=skill)
        for warning in warnings:
            self.stdout.write(self.style.WARNING(f"warning: {warning}"))
