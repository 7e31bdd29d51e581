"""Builds: a frozen snapshot of a skill turned into a dialogue manager, stage by stage, on workers.

A build's ``spec`` is the skill spec as it was when the build was created; editing the
skill afterwards does not touch it. Workers write progress (``StageProgress`` rows),
metrics and the epoch history (JSON) as they go; the pages and the API read them. See
docs/builds.md.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from studio.skills.models import Skill


class Build(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued"
        RUNNING = "running"
        READY = "ready"
        FAILED = "failed"
        CANCELLED = "cancelled"

    class Stage(models.TextChoices):
        VALIDATE = "validate"
        SIMULATE = "simulate"
        TRAIN = "train"
        EVALUATE = "evaluate"
        PACKAGE = "package"

    skill = models.ForeignKey(Skill, on_delete=models.CASCADE, related_name="builds")
    number = models.PositiveIntegerField()  # 1, 2, ... per skill
    started_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    retry_of = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="retries")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    stage = models.CharField(max_length=16, choices=Stage.choices, default=Stage.VALIDATE)
    settings = models.JSONField()  # dialogues, heldout, epochs, seed, shards (services.BuildSettings)
    spec = models.JSONField()  # the skill spec, frozen when the build was created
    spec_hash = models.CharField(max_length=64)
    history = models.JSONField(default=list)  # one row per training epoch: losses and accuracies (the curves)
    metrics = models.JSONField(default=dict)  # "heldout" and "test": the evaluation contract's figures
    error = models.TextField(blank=True, default="")
    shards_done = models.PositiveIntegerField(default=0)
    artifact_path = models.CharField(max_length=500, blank=True, default="")
    artifact_checksum = models.CharField(max_length=64, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-number"]
        constraints = [models.UniqueConstraint(fields=["skill", "number"], name="unique_build_number")]

    def __str__(self) -> str:
        return f"{self.skill.name} build {self.number}"

    @property
    def finished(self) -> bool:
        return self.status in (self.Status.READY, self.Status.FAILED, self.Status.CANCELLED)


class StageProgress(models.Model):
    """One part of a stage (a simulation shard, or the whole of another stage) as a worker runs it.

    The worker stamps ``heartbeat_at`` while the part runs; a running part whose stamp is old
    lost its worker (``services.build_fail_stale``). A part waiting in the queue has no row yet.
    """

    class State(models.TextChoices):
        RUNNING = "running"
        DONE = "done"

    build = models.ForeignKey(Build, on_delete=models.CASCADE, related_name="stage_progress")
    stage = models.CharField(max_length=16, choices=Build.Stage.choices)
    part = models.PositiveIntegerField(default=0)
    state = models.CharField(max_length=8, choices=State.choices, default=State.RUNNING)
    done = models.PositiveIntegerField(default=0)
    total = models.PositiveIntegerField(default=0)
    unit = models.CharField(max_length=16, blank=True, default="")
    detail = models.CharField(max_length=200, blank=True, default="")
    started_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    heartbeat_at = models.DateTimeField()

    class Meta:
        ordering = ["stage", "part"]
        constraints = [models.UniqueConstraint(fields=["build", "stage", "part"], name="unique_stage_part")]

    def __str__(self) -> str:
        return f"{self.stage} {self.part}: {self.done}/{self.total}"


class BuildLogLine(models.Model):
    build = models.ForeignKey(Build, on_delete=models.CASCADE, related_name="log_lines")
    created_at = models.DateTimeField(auto_now_add=True)
    stage = models.CharField(max_length=16, blank=True, default="")
    level = models.CharField(max_length=8, default="info")
    message = models.TextField()

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.message


class Deployment(models.Model):
    """Which build serves a skill: at most one live deployment per skill; the rest is history."""

    skill = models.ForeignKey(Skill, on_delete=models.CASCADE, related_name="deployments")
    build = models.ForeignKey(Build, on_delete=models.CASCADE, related_name="deployments")
    live = models.BooleanField(default=True)
    deployed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(fields=["skill"], condition=models.Q(live=True), name="one_live_deployment")
        ]

    def __str__(self) -> str:
        return f"build {self.build_id} of skill {self.skill_id}{' (live)' if self.live else ''}"
