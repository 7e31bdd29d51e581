"""Conversations with a build's dialogue manager, and how each API of a skill is answered."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models

from studio.builds.models import Build
from studio.skills.models import Skill


class ApiBinding(models.Model):
    """How the runtime answers one API of a skill: the mock backend (the default, no row) or a webhook."""

    class Mode(models.TextChoices):
        MOCK = "mock", "Mock (results drawn from the catalogues)"
        WEBHOOK = "webhook", "HTTPS webhook"

    skill = models.ForeignKey(Skill, on_delete=models.CASCADE, related_name="api_bindings")
    api = models.CharField(max_length=200)  # the API's name in the spec
    mode = models.CharField(max_length=8, choices=Mode.choices, default=Mode.MOCK)
    url = models.URLField(max_length=500, blank=True, default="")
    secret = models.CharField(max_length=200, blank=True, default="")  # HMAC-SHA256 key of the signature header
    timeout = models.FloatField(default=5.0)  # seconds
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["skill", "api"], name="unique_api_binding")]
        ordering = ["api"]

    def __str__(self) -> str:
        return f"{self.api}: {self.mode}"


class ConversationSession(models.Model):
    """One conversation with one build's manager; its turns are stored as they happen, so a
    restarted web process carries on where it was."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    skill = models.ForeignKey(Skill, on_delete=models.CASCADE, related_name="sessions")
    build = models.ForeignKey(Build, on_delete=models.CASCADE, related_name="sessions")
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    seed = models.PositiveIntegerField(default=0)  # of the mock backend's draws
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"session {self.pk}"


class ConversationTurn(models.Model):
    """A user utterance and everything the manager did with it (``modeling.runtime.TurnResult.to_dict``),
    plus the developer's correction of it, if any."""

    session = models.ForeignKey(ConversationSession, on_delete=models.CASCADE, related_name="turns")
    number = models.PositiveIntegerField()  # 0, 1, ... within the session
    text = models.TextField()
    result = models.JSONField()
    # The corrected annotation: {"spans": [...], "actions": [...]} in the sample-dialogue format, or null.
    correction = models.JSONField(null=True, blank=True)
    seconds = models.FloatField(default=0.0)  # the manager's time for the turn
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["session", "number"]
        constraints = [models.UniqueConstraint(fields=["session", "number"], name="unique_turn_number")]

    def __str__(self) -> str:
        return f"turn {self.number}: {self.text[:40]}"
