"""skillspec.index: a skill's components by name, one rule (the first of a repeated name wins) everywhere."""

import re

import skillspec
from skillspec.index import by_name

from .conftest import ROOT


def test_the_first_of_a_repeated_name_keeps_it_as_validation_expects():
    data = {
        "name": "Dup",
        "slot_types": [{"name": "city", "values": [{"value": "A"}]}, {"name": "city", "values": [{"value": "B"}]}],
    }
    skill = skillspec.Skill.model_validate(data)
    assert by_name(skill.slot_types)["city"].values[0].value == "A"
    # Validation reports the second one: the one a lookup does not see.
    assert [i.path for i in skillspec.validate_skill(skill)] == ["slot_types[1].name"]
    assert by_name([]) == {}


AD_HOC = re.compile(
    r"\{(\w+)\.name: \1 for \1 in (?:reversed\()?[\w.]*(?:apis|response_templates|slot_types|utterance_sets)\b"
    r"|next\(\((\w+) for \2 in [\w.]*(?:apis|response_templates|slot_types|utterance_sets) if \2\.name =="
)


def test_no_layer_builds_its_own_lookup_of_components_by_name():
    files = [p for pkg in ("skillspec", "simulator", "modeling", "studio") for p in sorted((ROOT / pkg).rglob("*.py"))]
    assert len(files) > 50
    found = [
        f"{p.relative_to(ROOT)}:{n}"
        for p in files
        for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1)
        if AD_HOC.search(line)
    ]
    assert found == []
    # The pattern does catch the copies it stands for.
    assert AD_HOC.search("apis = {a.name: a for a in reversed(skill.apis)}")
    assert AD_HOC.search("st = next((s for s in skill.slot_types if s.name == name), None)")
