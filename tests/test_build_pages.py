"""Build pages through Django's test client: content, escaping, htmx polling, access, errors."""

from __future__ import annotations

import datetime
import json
import re

import pytest
from django.utils import timezone

from studio.builds import artifacts, selectors, services
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
    path = artifacts.shard_path(build.pk, 0)
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


# --- the build form: expected duration per preset, preset offered first -----------------------------


def checked_preset(html: str) -> str:
    checked = re.findall(r'name="preset" value="(\w+)" checked', html)
    assert len(checked) == 1, checked
    return checked[0]


def estimate_text(html: str, preset: str) -> str:
    found = re.search(rf'<span class="estimate" data-preset="{preset}"[^>]*>([^<]*)</span>', html)
    assert found, f"no estimate for {preset}"
    return found.group(1)


def timed_build(skill, user, preset: str, seconds: float, **fields) -> Build:
    finished = timezone.now()
    return make_build(
        skill,
        user,
        status=fields.pop("status", "ready"),
        settings=services.dataclasses.asdict(services.PRESETS[preset]) | fields.pop("settings", {}),
        started_at=finished - datetime.timedelta(seconds=seconds),
        finished_at=finished,
        **fields,
    )


def test_without_earlier_builds_the_estimates_follow_the_benchmarks(skill):
    draft = selectors.build_estimate_seconds(skill=skill, settings=services.PRESETS["draft"])
    default = selectors.build_estimate_seconds(skill=skill, settings=services.PRESETS["default"])
    # docs/benchmarks.md, a 2-core CPU: a draft of flights in about 34 s, a default build in about 196 s.
    assert (draft.basis, draft.builds) == ("estimated", 0) and 26 <= draft.seconds <= 36
    assert default.basis == "estimated" and 190 <= default.seconds <= 215


def test_a_new_skill_offers_draft_first_with_each_presets_expected_duration(web, named_skill):
    html = web.get(f"/skills/{named_skill.pk}/builds/").content.decode()
    assert checked_preset(html) == "draft"
    assert estimate_text(html, "draft") == "about 30 s (estimated)"
    assert estimate_text(html, "default") == "about 3 min (estimated)"


def test_the_estimates_come_from_the_skills_past_builds(web, named_skill, user):
    timed_build(named_skill, user, "draft", 80)
    # Neither a failed build nor one made from an artifact trained elsewhere says how long a build takes.
    timed_build(named_skill, user, "draft", 5, status="failed")
    # (services.build_from_artifact's builds have no settings and no start)
    make_build(named_skill, user, status="ready", settings={}, finished_at=timezone.now())
    html = web.get(f"/skills/{named_skill.pk}/builds/").content.decode()
    assert estimate_text(html, "draft") == "about 80 s (from 1 earlier build)"
    # The default preset has never been built: the draft's time, scaled by the formula's ratio (~206 / ~29 s).
    assert estimate_text(html, "default") == "about 10 min (scaled from 1 earlier build)"
    assert checked_preset(html) == "draft"  # the last build (from an artifact) is closest to nothing: draft

    timed_build(named_skill, user, "default", 400)
    timed_build(named_skill, user, "default", 500, settings={"seed": 7})  # the seed changes nothing
    html = web.get(f"/skills/{named_skill.pk}/builds/").content.decode()
    assert estimate_text(html, "default") == "about 8 min (from 2 earlier builds)"
    assert estimate_text(html, "draft") == "about 80 s (from 1 earlier build)"
    assert checked_preset(html) == "default"  # the last used preset, now that the skill has a ready build

    estimate = selectors.build_estimate_seconds(skill=named_skill, settings=services.PRESETS["default"])
    assert (estimate.seconds, estimate.basis, estimate.builds) == (450, "from 2 earlier builds", 2)


def test_a_skill_without_builds_goes_by_its_owners_other_skills_only(web, named_skill, user, mini_spec):
    other_skill = skill_services.skill_create(owner=user, name="Other", description="")
    timed_build(other_skill, user, "draft", 120)
    strangers = skill_services.skill_import(owner=UserFactory(), data=mini_spec)
    timed_build(strangers, strangers.owner, "draft", 1000)
    html = web.get(f"/skills/{named_skill.pk}/builds/").content.decode()
    assert estimate_text(html, "draft") == "about 2 min (from 1 build of your other skills)"
    assert checked_preset(html) == "draft"
    strangers_page = selectors.build_estimate_seconds(skill=strangers, settings=services.PRESETS["draft"])
    assert strangers_page.basis == "from 1 earlier build" and strangers_page.seconds == 1000


def test_the_api_gives_each_presets_estimate_and_documents_it(api, named_skill, user, tmp_path):
    timed_build(named_skill, user, "default", 400)
    response = api.get(f"/api/skills/{named_skill.pk}/builds/estimates/")
    assert response.status_code == 200
    by_preset = {e["preset"]: e for e in response.json()}
    assert set(by_preset) == set(services.PRESETS)
    assert by_preset["default"] == {
        "preset": "default",
        "settings": services.dataclasses.asdict(services.PRESETS["default"]),
        "seconds": 400.0,
        "basis": "from 1 earlier build",
        "builds": 1,
        "suggested": True,
    }
    assert by_preset["draft"]["basis"] == "scaled from 1 earlier build" and not by_preset["draft"]["suggested"]
    assert api.get(f"/api/skills/{named_skill.pk + 1000}/builds/estimates/").status_code == 404
    schema = api.get("/api/schema/", {"format": "json"}).json()
    operation = schema["paths"]["/api/skills/{skill_id}/builds/estimates/"]["get"]
    assert operation["operationId"] == "builds_estimates"
    assert "BuildEstimate" in schema["components"]["schemas"]
