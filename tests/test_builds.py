"""Builds on a real Celery worker process, with the real Redis broker and PostgreSQL.

The worker is started once per test session (``worker`` in conftest) against the test database and a
Redis database of its own; builds use tiny settings so that each finishes in seconds.
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from studio.builds import services
from studio.builds.models import Build, BuildLogLine
from studio.skills import services as skill_services

from .conftest import ROOT, STALE_SECONDS
from .factories import UserFactory

TINY = {"dialogues": 40, "heldout": 10, "epochs": 1, "shards": 2, "seed": 3}


@pytest.fixture
def owner(transactional_db):
    return UserFactory()


@pytest.fixture
def client_for(owner):
    def make(user):
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.get_or_create(user=user)[0].key}")
        return client

    return make


@pytest.fixture
def flights(owner):
    return skill_services.skill_import(owner=owner, data=(ROOT / "examples" / "flights.json").read_bytes())


def wait_for(client, build_id: int, statuses: set[str], timeout: float = 180, stage: str | None = None) -> dict:
    """Poll the API until the build has one of ``statuses`` (and, if given, is running ``stage`` on a worker)."""
    deadline = time.monotonic() + timeout
    while True:
        body = client.get(f"/api/builds/{build_id}/").json()
        if body["status"] in statuses and (stage is None or body["stages"][stage]["state"] == "running"):
            return body
        if body["status"] in {"ready", "failed", "cancelled"} - statuses:
            raise AssertionError(f"build {build_id} ended {body['status']}: {body['error']}")
        if time.monotonic() > deadline:
            raise AssertionError(f"build {build_id} still {body['status']} / {body['stage']} after {timeout} s")
        time.sleep(0.3)


def test_settings_are_checked_field_by_field():
    assert services.build_settings_parse({"preset": "draft"}).dialogues == 1000
    assert services.build_settings_parse(None) == services.BuildSettings()
    with pytest.raises(services.SpecValidationError) as exc:
        services.build_settings_parse({"preset": "huge", "dialogues": 5, "epochs": "3", "colour": 1, "seed": True})
    issues = {i.path: i.message for i in exc.value.issues}
    assert issues["preset"].startswith("unknown preset 'huge'")
    assert issues["dialogues"] == "must be between 10 and 200,000"
    assert issues["epochs"] == issues["seed"] == "must be a whole number"
    assert issues["colour"].startswith("unknown setting")


def test_the_studio_builds_with_the_recipes_that_modeling_and_the_benchmark_use():
    from modeling.presets import PRESETS

    assert set(services.PRESETS) == set(PRESETS)
    for name, preset in PRESETS.items():
        studio = services.dataclasses.asdict(services.PRESETS[name])
        assert {k: studio[k] for k in services.dataclasses.asdict(preset)} == services.dataclasses.asdict(preset)
    assert services.BuildSettings().dialogues == PRESETS["default"].dialogues == 10_000


@pytest.mark.django_db(transaction=True)
def test_a_build_runs_every_stage_on_a_worker_and_deploys(worker, owner, flights, client_for):
    api = client_for(owner)
    created = api.post(f"/api/skills/{flights.pk}/builds/", TINY, format="json")
    assert created.status_code == 201, created.json()
    build_id = created.json()["id"]
    assert created.json()["status"] == "queued" and created.json()["number"] == 1
    # Editing the skill during the build does not change what is built.
    skill_services.skill_update(skill=flights, name="Flights, renamed", description="")

    body = wait_for(api, build_id, {"ready"})
    assert body["progress"] == 1.0 and body["stage"] == "package"
    assert all(s["state"] == "done" for s in body["stages"].values())
    assert body["stages"]["simulate"]["done"] == TINY["dialogues"]
    heldout = body["metrics"]["heldout"]
    for key in ("ner_f1", "action_accuracy", "action_signature_accuracy", "api_call_f1", "dialogue_accuracy"):
        assert 0.0 <= heldout[key] <= 1.0
    assert heldout["dialogues"] == TINY["heldout"]
    assert body["metrics"]["test"]["dialogues"] == 1  # flights has one test conversation
    build = Build.objects.get(pk=build_id)
    assert [h["epoch"] for h in build.history] == [1]
    assert build.spec["name"] == "Flights"
    artifact = Path(build.artifact_path)
    assert json.loads((artifact / "skill.json").read_text())["name"] == "Flights"
    assert json.loads((artifact / "MANIFEST.json").read_text())["sha256"] == build.artifact_checksum
    assert not (artifact.parent / "work" / "artifact.tmp").exists()
    messages = [line.message for line in build.log_lines.all()]
    assert messages[0].startswith("queued by") and messages[-1].startswith("ready: artifact")

    deployed = api.post(f"/api/builds/{build_id}/deploy/")
    assert deployed.status_code == 200 and deployed.json()["live"] is True
    # Another user sees none of it.
    stranger = client_for(UserFactory())
    assert stranger.get(f"/api/builds/{build_id}/").status_code == 404
    assert stranger.post(f"/api/builds/{build_id}/deploy/").status_code == 404
    assert stranger.get(f"/api/skills/{flights.pk}/builds/").status_code == 404
    # A damaged artifact cannot be deployed.
    with (artifact / "model.safetensors").open("ab") as f:
        f.write(b"\0")
    refused = api.post(f"/api/builds/{build_id}/deploy/")
    assert refused.status_code == 409 and "do not match the checksum" in refused.json()["errors"][0]["message"]


@pytest.mark.django_db(transaction=True)
def wait_for_log(worker, pattern: str, timeout: float = 60) -> None:
    """Wait until the worker's log has a line matching ``pattern``."""
    deadline = time.monotonic() + timeout
    while not re.search(pattern, worker.log.read_text(errors="replace")):
        if time.monotonic() > deadline:
            raise AssertionError(f"the worker's log never said {pattern!r}")
        time.sleep(0.3)


def test_two_builds_of_one_skill_run_at_once_and_roll_back(worker, owner, flights, client_for):
    api = client_for(owner)
    ids = [
        api.post(f"/api/skills/{flights.pk}/builds/", {**TINY, "seed": seed}, format="json").json()["id"]
        for seed in (5, 6)
    ]
    bodies = [wait_for(api, i, {"ready"}) for i in ids]
    builds = [Build.objects.get(pk=i) for i in ids]
    assert [b.number for b in builds] == [1, 2]
    assert builds[0].artifact_path != builds[1].artifact_path
    assert builds[0].artifact_checksum != builds[1].artifact_checksum
    # They ran at the same time: each started before the other finished.
    assert builds[0].started_at < builds[1].finished_at and builds[1].started_at < builds[0].finished_at
    assert all(b["progress"] == 1.0 for b in bodies)

    assert api.post(f"/api/skills/{flights.pk}/rollback/").status_code == 409  # nothing deployed yet
    api.post(f"/api/builds/{ids[0]}/deploy/")
    api.post(f"/api/builds/{ids[1]}/deploy/")
    assert [b["live"] for b in (api.get(f"/api/builds/{i}/").json() for i in ids)] == [False, True]
    listed = api.get(f"/api/skills/{flights.pk}/builds/").json()["results"]  # newest first
    assert [(b["id"], b["live"]) for b in listed] == [(ids[1], True), (ids[0], False)]
    rolled = api.post(f"/api/skills/{flights.pk}/rollback/")
    assert rolled.status_code == 200 and rolled.json()["id"] == ids[0] and rolled.json()["live"] is True


@pytest.mark.django_db(transaction=True)
def test_cancel_stops_a_build_and_retry_builds_it_again(worker, owner, flights, client_for):
    api = client_for(owner)
    build_id = api.post(
        f"/api/skills/{flights.pk}/builds/", {**TINY, "dialogues": 20000, "shards": 1}, format="json"
    ).json()["id"]
    wait_for(api, build_id, {"running"}, stage="simulate")
    cancelled = api.post(f"/api/builds/{build_id}/cancel/")
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    time.sleep(2)  # the worker notices at its next progress report and stops
    build = Build.objects.get(pk=build_id)
    assert build.status == "cancelled" and not build.artifact_path
    assert api.post(f"/api/builds/{build_id}/cancel/").status_code == 409
    assert api.post(f"/api/builds/{build_id}/deploy/").status_code == 409

    retry = api.post(f"/api/builds/{build_id}/retry/")
    assert retry.status_code == 201 and retry.json()["number"] == 2
    assert Build.objects.get(pk=retry.json()["id"]).spec == build.spec
    api.post(f"/api/builds/{retry.json()['id']}/cancel/")
    # Both stop in the worker before the test ends: the database is emptied after it, and a stage
    # still writing then deadlocks with that.
    for stopped in (build_id, retry.json()["id"]):
        wait_for_log(worker, rf"build {stopped}: \w+ stage stopped")


@pytest.mark.django_db(transaction=True)
def test_bad_requests_get_specific_errors(worker, owner, flights, client_for):
    api = client_for(owner)
    bad = api.post(f"/api/skills/{flights.pk}/builds/", {"preset": "huge", "epochs": 0}, format="json")
    assert bad.status_code == 400
    assert {e["path"] for e in bad.json()["errors"]} == {"preset", "epochs"}
    assert Build.objects.count() == 0
    assert api.get("/api/builds/999999/").status_code == 404


@pytest.mark.django_db(transaction=True)
def test_a_killed_worker_leaves_the_build_failed_not_running(worker, owner, flights, client_for):
    api = client_for(owner)
    build_id = api.post(
        f"/api/skills/{flights.pk}/builds/", {**TINY, "dialogues": 300, "epochs": 20}, format="json"
    ).json()["id"]
    wait_for(api, build_id, {"running"}, stage="train")
    worker.kill()
    try:
        body = wait_for(api, build_id, {"failed"}, timeout=STALE_SECONDS + 30)
        assert body["stage"] == "train"
        assert "stopped responding" in body["error"] and "Retry" in body["error"]
        assert not Path(Build.objects.get(pk=build_id).artifact_path or "/nonexistent").exists()
    finally:
        worker.start()
    retry = api.post(f"/api/builds/{build_id}/retry/", format="json")
    assert retry.status_code == 201
    api.post(f"/api/builds/{retry.json()['id']}/cancel/")


@pytest.mark.django_db(transaction=True)
def test_without_redis_the_filesystem_broker_runs_builds(worker, owner, flights, client_for, tmp_path):
    """`make run` with no services: the web process and the worker meet in a folder."""
    from studio import broker
    from studio.celery import ensure_broker_dirs

    from .conftest import Worker, use_broker

    queue = tmp_path / "celery"
    options = {"data_folder_in": str(queue / "queue"), "data_folder_out": str(queue / "queue")}
    options |= {"processed_folder": str(queue / "processed"), "control_folder": str(queue / "control")}
    env = {k: v for k, v in worker.env.items() if k != "REDIS_URL"} | {"COLLOQUY_DATA_DIR": str(tmp_path)}
    saved = use_broker(broker.URL, options)  # what settings choose without REDIS_URL
    ensure_broker_dirs()
    local = Worker(env, tmp_path / "worker.log")
    try:
        local.start()
        api = client_for(owner)
        build_id = api.post(f"/api/skills/{flights.pk}/builds/", TINY, format="json").json()["id"]
        assert wait_for(api, build_id, {"ready"})["progress"] == 1.0
        # This worker ran it: the session's Redis worker never saw it.
        assert "builds.package" in local.log.read_text()
    finally:
        local.stop()
        use_broker(**saved)


@pytest.mark.django_db(transaction=True)
def test_a_broker_that_cannot_take_the_build_fails_it_with_the_reason(owner, flights, client_for):
    from .conftest import use_broker

    saved = use_broker("redis://127.0.0.1:9/0", {})  # nothing listens on port 9: the broker is down
    try:
        api = client_for(owner)
        created = api.post(f"/api/skills/{flights.pk}/builds/", TINY, format="json")
        assert created.status_code == 201
        body = api.get(f"/api/builds/{created.json()['id']}/").json()
        assert body["status"] == "failed" and body["stage"] == "validate"
        assert body["error"].startswith("could not queue the validate stage:")
    finally:
        use_broker(**saved)


@pytest.mark.django_db(transaction=True)
def test_progress_reports_ride_out_a_database_blip(owner, flights):
    """A running stage whose database goes away for a moment keeps working and reports again after."""
    from django.db import OperationalError, connection

    from studio.builds.models import StageProgress

    build = Build.objects.create(
        skill=flights, number=1, status="running", settings=TINY, spec={}, spec_hash="0" * 64, started_by=owner
    )
    report = services._Part(build.pk, "train", 0)

    def database_away(execute, sql, params, many, context):
        raise OperationalError("server closed the connection unexpectedly")

    with connection.execute_wrapper(database_away):
        report(5, 10, force=True)  # does not raise: the stage goes on
    report(6, 10, force=True)
    assert StageProgress.objects.get(build=build, stage="train").done == 6
    Build.objects.filter(pk=build.pk).update(status="cancelled")
    with pytest.raises(services.BuildStopped):
        report(7, 10, force=True)


def test_an_artifact_trained_elsewhere_becomes_a_ready_deployable_build(flights_deployed):
    from studio.builds.artifacts import artifact_problem

    skill, build = flights_deployed
    assert build.status == "ready" and build.number == 1 and artifact_problem(build) is None
    manifest = json.loads((Path(build.artifact_path) / "MANIFEST.json").read_text())
    assert manifest["sha256"] == build.artifact_checksum and "model.safetensors" in manifest["files"]
    assert "MANIFEST.json" not in manifest["files"] and manifest["spec_hash"] == build.spec_hash


def test_a_rebuild_starts_from_the_last_ready_builds_models(worker, owner, flights, client_for):
    api = client_for(owner)
    first = api.post(f"/api/skills/{flights.pk}/builds/", TINY, format="json").json()["id"]
    wait_for(api, first, {"ready"})
    second = api.post(f"/api/skills/{flights.pk}/builds/", {**TINY, "epochs": 4}, format="json").json()["id"]
    wait_for(api, second, {"ready"})
    logs = list(BuildLogLine.objects.filter(build_id=second).values_list("message", flat=True))
    assert "started from build 1's models" in logs
    build = Build.objects.get(pk=second)
    assert len(build.history) == 1  # 4 epochs asked, a warm start trains TrainConfig.warm_epochs (1)
    cold = api.post(f"/api/skills/{flights.pk}/builds/", {**TINY, "warm_start": 0}, format="json").json()["id"]
    wait_for(api, cold, {"ready"})
    said = BuildLogLine.objects.filter(build_id=cold).values_list("message", flat=True)
    assert said and not any("models" in m for m in said)
    bad = api.post(f"/api/skills/{flights.pk}/builds/", {"warm_start": 2}, format="json")
    assert bad.status_code == 400 and bad.json()["errors"][0]["path"] == "warm_start"
