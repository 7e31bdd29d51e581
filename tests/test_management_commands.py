import json
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

import skillspec
from studio.skills import models, selectors
from studio.skills.management.commands.import_skill import Command as ImportSkill

from .conftest import ROOT

FLIGHTS = ROOT / "examples" / "flights.json"


def run(*args: str) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


@pytest.fixture
def bad_file(tmp_path, mini_spec):
    mini_spec["apis"][0]["arguments"][0]["slot_type"] = "town"
    mini_spec["response_templates"][0]["variants"] = ["How about {flght}?"]
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(mini_spec))
    return path


BAD_FILE_PROBLEMS = [
    "  apis[0].arguments[0].slot_type: unknown slot type 'town'",
    "  response_templates[0].variants[0]: placeholder {flght} is not an argument",
    "  response_templates[0].variants[0]: argument 'flight' has no {flight} placeholder",
    "  sample_dialogues[0].turns[3].actions[0].arguments.origin: entity e1 is a city, but 'origin' takes a town",
]


def test_import_skill_creates_the_skill_for_the_owner(user):
    out = run("import_skill", str(FLIGHTS), "--owner", user.username)
    skill = models.Skill.objects.get(owner=user)
    assert skill.name == "Flights"
    assert f"Imported skill 'Flights' (id {skill.pk}) for {user.username}: " in out
    assert "2 apis" in out
    assert "warning" not in out
    assert skillspec.parse_skill(selectors.skill_export(skill=skill)) == skillspec.parse_skill(FLIGHTS.read_text())


def test_import_skill_reports_every_problem_and_creates_nothing(user, bad_file):
    with pytest.raises(CommandError) as exc:
        run("import_skill", str(bad_file), "--owner", user.username)
    assert str(exc.value).splitlines() == [f"{bad_file} is not a valid skill (4 problem(s)):", *BAD_FILE_PROBLEMS]
    assert not models.Skill.objects.exists()


def test_import_skill_rejects_invalid_json_and_missing_files(user, tmp_path):
    broken = tmp_path / "broken.json"
    broken.write_text('{"name": "x",')
    expected = r"broken\.json is not a valid skill \(1 problem\(s\)\):\n  not valid JSON: "
    with pytest.raises(CommandError, match=expected):
        run("import_skill", str(broken), "--owner", user.username)
    with pytest.raises(CommandError, match=r"cannot read .*missing\.json: No such file or directory"):
        run("import_skill", str(tmp_path / "missing.json"), "--owner", user.username)
    assert not models.Skill.objects.exists()


def test_import_skill_needs_an_existing_owner(db):
    with pytest.raises(CommandError, match=r"no user 'nobody'"):
        run("import_skill", str(FLIGHTS), "--owner", "nobody")
    assert not models.Skill.objects.exists()


def test_import_skill_prints_lint_warnings(user, tmp_path, mini_spec):
    mini_spec["slot_types"].append({"name": "cabin"})
    path = tmp_path / "warn.json"
    path.write_text(json.dumps(mini_spec))
    out = run("import_skill", str(path), "--owner", user.username)
    assert "warning: slot_types[3].values: the catalogue is empty" in out


def test_import_skill_exits_non_zero_on_a_bad_file(bad_file):
    # As from the command line; the file is checked before the database is touched.
    err = StringIO()
    with pytest.raises(SystemExit) as exc:
        ImportSkill(stdout=StringIO(), stderr=err).run_from_argv(["manage.py", "import_skill", str(bad_file)])
    assert exc.value.code == 1
    assert err.getvalue().splitlines()[-4:] == BAD_FILE_PROBLEMS


def test_load_demo_creates_the_demo_account_with_the_examples(db):
    out = run("load_demo")
    demo = get_user_model().objects.get(username="demo")
    assert demo.check_password("demo-password")
    assert sorted(models.Skill.objects.filter(owner=demo).values_list("name", flat=True)) == ["Flights", "Pizza"]
    assert "Created user 'demo'" in out
    assert "Imported flights.json as skill 'Flights'" in out
    assert "Imported pizza.json as skill 'Pizza'" in out
    flights = models.Skill.objects.get(owner=demo, name="Flights")
    assert selectors.skill_validation(skill=flights) == ([], [])


def test_load_demo_is_idempotent_and_keeps_what_exists(db):
    demo = get_user_model().objects.create_user(username="demo", password="changed-by-the-user")
    run("import_skill", str(FLIGHTS), "--owner", "demo")
    out = run("load_demo")
    assert "User 'demo' already exists" in out
    assert "Skipped flights.json: demo already has a skill named 'Flights'" in out
    assert "Imported pizza.json as skill 'Pizza'" in out
    demo.refresh_from_db()
    assert demo.check_password("changed-by-the-user")
    assert models.Skill.objects.filter(owner=demo).count() == 2

    again = run("load_demo")
    assert "Imported" not in again
    assert models.Skill.objects.filter(owner=demo).count() == 2
