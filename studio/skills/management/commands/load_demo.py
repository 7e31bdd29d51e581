"""``manage.py load_demo``: the demo account with the example skills. Safe to run again."""

from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

import skillspec
from studio.skills import selectors, services

USERNAME = "demo"
PASSWORD = "demo-password"


class Command(BaseCommand):
    help = (
        f"Create the user {USERNAME!r} (password {PASSWORD!r}) if absent and import every examples/*.json "
        "into it, skipping skills it already has by name."
    )

    @transaction.atomic
    def handle(self, *args: Any, **options: Any) -> None:
        user, created = get_user_model().objects.get_or_create(username=USERNAME)
        if created:
            user.set_password(PASSWORD)
            user.save(update_fields=["password"])
            self.stdout.write(f"Created user {USERNAME!r} with password {PASSWORD!r}")
        else:
            self.stdout.write(f"User {USERNAME!r} already exists")
        have = set(selectors.skill_list(user=user).values_list("name", flat=True))
        examples = sorted((settings.BASE_DIR / "examples").glob("*.json"))
        for path in examples:
            try:
                name = skillspec.parse_skill(path.read_bytes()).name
            except skillspec.SpecValidationError as exc:
                raise CommandError(f"{path.name} is not a valid skill:\n{exc}") from None
            if name in have:
                self.stdout.write(f"Skipped {path.name}: {USERNAME} already has a skill named {name!r}")
                continue
            skill = services.skill_import(owner=user, data=path.read_bytes())
            have.add(name)
            self.stdout.write(self.style.SUCCESS(f"Imported {path.name} as skill {name!r} (id {skill.pk})"))
