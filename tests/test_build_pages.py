"""Build pages through Django's test client: content, escaping, htmx polling, access, errors."""

from __future__ import annotations

import json

import pytest
from django.utils import timezone

from studio.builds import services
from studio.builds.models import Build, BuildLogLine, StageProgress
from studio.skills import services as skill_services

from .factories import UserFactory

XSS = "<script>alert(1)</script>"
HISTORY = [
    {
        "epoch": e,
        "train_loss": 2.0 / e,
        **{m: {"loss": 1.0 / e, "accuracy": 0.5 + 0.1 * e, "items": 10} for m in ("ner", "ap", "af")},
    }
    for e in (1, 2, 3)
]
METRICS = {
    "ner_f1": 0.9,
    "action_accuracy": 0.8,
    "argument_accuracy": 0.95,
    "action_signature_accuracy": 0.75,
    "api_call_f1": 0.7,
    "dialogue_accuracy": 0.5,
    "dialogues": 10,
    "turns": 40,
    "per_action": {"offer_flight": {"precision": 1.0, "recall": 0.5, "f1": 0.6667, "support": 4}},
    "confusion": [{"gold": "offer_flight", "predicted": "request_date", "count": 3}],
}


@pytest.fixture
def named_skill(user, mini_spec):
    mini_spec["name"] = f"Mini {XSS}"
    return skill_services.skill_import(owner=user, data=mini_spec)


def make_build(skill, user, **fields) -> Build:
    spec = services.skill_selectors.skill_to_spec(skill=skill)
    defaults = dict(
        skill=skill,
        number=Build.objects.filter(skill=skill).count() + 1,
        started_by=user,
        settings=services.dataclasses.asdict(services.BuildSettings()),
        spec=json.loads(services.skillspec.dump_skill(spec)),
        spec_hash="ab" * 32,
    )
    return Build.objects.create(**{**defaults, **fields})


def test_the_list_page_offers_presets_and_lists_builds(web, named_skill, user):
    make_build(named_skill, user, status="ready", metrics={"heldout": METRICS, "test": None})
    page = web.get(f"/skills/{named_skill.pk}/builds/")
    html = page.content.decode()
    assert page.status_code == 200
    assert 'value="draft"' in html and "1,000 dialogues" in html
    assert "Build 1" in html and "0.750" in html
    assert XSS not in html and "&lt;script&gt;" in html


def test_bad_settings_are_refused_field_by_field(web, named_skill):
    page = web.post(f"/skills/{named_skill.pk}/builds/", {"preset": "draft", "epochs": "lots", "dialogues": "3"})
    html = page.content.decode()
    assert page.status_code == 400 and "epochs: must be a whole number" in html
    assert not Build.objects.exists()
    page = web.post(f"/skills/{named_skill.pk}/builds/", {"preset": "draft", "dialogues": "3"})
    assert page.status_code == 400 and "dialogues: must be between 10 and 200,000" in page.content.decode()
    assert 'value="3"' in page.content.decode()  # what was typed is kept


def test_a_running_build_page_polls_and_a_finished_one_stops(web, named_skill, user):
    settings = services.dataclasses.asdict(services.BuildSettings(dialogues=2500, shards=1))
    build = make_build(
        named_skill, user, status="running", stage="simulate", started_at=timezone.now(), settings=settings
    )
    StageProgress.objects.create(
        build=build, stage="simulate", part=0, done=120, total=2500, unit="dialogues", heartbeat_at=timezone.now()
    )
    BuildLogLine.objects.create(build=build, stage="validate", message=f"spec ok {XSS}")
    full = web.get(f"/builds/{build.pk}/")
    html = full.content.decode()
    assert 'hx-trigger="every 1s"' in html and "120/2500 dialogues" in html and "Cancel" in html
    assert XSS not in html and "spec ok &lt;script&gt;" in html
    fragment = web.get(f"/builds/{build.pk}/", HTTP_HX_REQUEST="true").content.decode()
    assert fragment.startswith('<div id="build-live"') and "<html" not in fragment

    Build.objects.filter(pk=build.pk).update(
        status="ready", stage="package", history=HISTORY, metrics={"heldout": METRICS, "test": None}
    )
    html = web.get(f"/builds/{build.pk}/", HTTP_HX_REQUEST="true").content.decode()
    assert "hx-trigger" not in html and "Deploy" in html
    assert html.count("<svg") == 2 and "Loss per epoch" in html and "Validation accuracy per epoch" in html
    assert "0.750" in html and "request_date" in html and "offer_flight" in html
    assert "no test conversations" in html


def test_a_failed_build_shows_stage_reason_and_retry(web, named_skill, user):
    build = make_build(named_skill, user, status="failed", stage="train", error=f"out of memory {XSS}")
    html = web.get(f"/builds/{build.pk}/").content.decode()
    assert "Failed at the train stage" in html and "out of memory &lt;script&gt;" in html and "Retry" in html
    # Deploying it is refused with the reason, not an error page.
    page = web.post(f"/builds/{build.pk}/deploy/", follow=True)
    assert page.status_code == 200 and "only a ready build can be deployed" in page.content.decode()


def test_nobody_else_sees_or_touches_a_build(client, named_skill, user):
    build = make_build(named_skill, user, status="running")
    client.force_login(UserFactory())
    for url in (f"/builds/{build.pk}/", f"/builds/{build.pk}/dialogues/", f"/skills/{named_skill.pk}/builds/"):
        assert client.get(url).status_code == 404
    for url in (f"/builds/{build.pk}/cancel/", f"/builds/{build.pk}/deploy/", f"/skills/{named_skill.pk}/rollback/"):
        assert client.post(url).status_code == 404
    assert Build.objects.get(pk=build.pk).status == "running"


def test_generated_dialogues_are_browsable_with_their_annotations(web, named_skill, user, settings, tmp_path):
    settings.COLLOQUY_ARTIFACTS_DIR = tmp_path
    build = make_build(named_skill, user, status="ready")
    path = services.shard_path(build.pk, 0)
    path.parent.mkdir(parents=True)
    text = f"fly to Boston {XSS}"
    dialogue = {
        "id": "sim-1-000000",
        "phenomena": ["anaphora"],
        "turns": [
            {
                "speaker": "user",
                "text": text,
                "acts": ["invoke"],
                "spans": [{"start": 7, "end": 13, "slot_type": "city", "value": "Boston", "entity": "e1"}],
            },
            {
                "speaker": "system",
                "text": "Found one.",
                "actions": [
                    {
                        "kind": "api",
                        "name": "SearchFlights",
                        "arguments": [{"name": "destination", "entity": "e1", "value": "Boston"}],
                    },
                    {"kind": "wait", "name": "wait_for_user"},
                ],
            },
        ],
    }
    path.write_text(json.dumps(dialogue) + "\n")
    html = web.get(f"/builds/{build.pk}/dialogues/").content.decode()
    assert 'title="city = Boston (e1)">Boston<sub>city</sub></mark>' in html
    assert "&lt;script&gt;" in html and XSS not in html
    assert "destination=Boston ← e1" in html and "anaphora" in html


def test_compare_shows_both_builds_side_by_side(web, named_skill, user):
    a = make_build(named_skill, user, status="ready", metrics={"heldout": METRICS, "test": None})
    better = {**METRICS, "action_signature_accuracy": 0.85}
    b = make_build(named_skill, user, status="ready", metrics={"heldout": better, "test": None})
    html = web.get(f"/skills/{named_skill.pk}/builds/compare/?a={a.pk}&b={b.pk}").content.decode()
    assert f"Build {a.number} vs build {b.number}" in html and "+0.1" in html
    assert web.get(f"/skills/{named_skill.pk}/builds/compare/?a={a.pk}").status_code == 404
