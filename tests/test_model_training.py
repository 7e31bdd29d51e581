"""Training on a tiny configuration with the real encoder, and the artifact it writes."""

import dataclasses
import json
import subprocess
import sys

import pytest
import torch
from safetensors.torch import load_file

import skillspec
from modeling.artifact import load_artifact
from modeling.runtime import DialogueManager
from modeling.train import TrainConfig, split, train
from skillspec.annotated import write_dialogues

from .conftest import ROOT, TINY


def test_training_writes_a_self_describing_artifact(flights_artifact, flights_skill):
    out, metrics, _ = flights_artifact
    assert sorted(p.name for p in out.iterdir()) == [
        "README.md",
        "config.json",
        "loss_curves.svg",
        "metrics.json",
        "model.safetensors",
        "skill.json",
        "vocab.json",
    ]
    weights = load_file(str(out / "model.safetensors"))
    assert {k.split(".")[0] for k in weights} == {"ner", "ap", "af"}
    config = json.loads((out / "config.json").read_text())
    assert config["spec_hash"] == skillspec.spec_hash(flights_skill)
    assert config["encoder"]["name"] == "model" and config["encoder"]["hidden"] == 384
    assert config["train"]["epochs"] == TINY["epochs"]
    assert config["data"]["train_dialogues"] == 360 and config["data"]["validation_dialogues"] == 40
    vocab = json.loads((out / "vocab.json").read_text())
    assert "wait_for_user" in vocab["actions"] and "B-city" in vocab["bio"]
    card = (out / "README.md").read_text()
    for expected in (config["spec_hash"], "torch", "transformers", "360 dialogues", "NER", "parameters"):
        assert expected in card
    import xml.etree.ElementTree as ET

    svg = ET.fromstring((out / "loss_curves.svg").read_text())
    lines = svg.findall("{http://www.w3.org/2000/svg}polyline")
    assert len(lines) == 4  # training loss and the three validation losses
    assert all(len(pl.get("points").split()) == metrics["epochs_run"] for pl in lines)
    assert "loss_curves.svg" in card
    saved = json.loads((out / "metrics.json").read_text())
    assert saved["validation"] == metrics["validation"]
    assert len(saved["history"]) == saved["epochs_run"]


def test_the_tiny_model_learns(flights_artifact):
    _, metrics, _ = flights_artifact
    val = metrics["validation"]
    # Teacher-forced step accuracy on held-out dialogues; a constant predictor gets ~0.3 on AP.
    assert val["ap"]["accuracy"] > 0.9
    assert val["af"]["accuracy"] > 0.9
    assert val["ner"]["accuracy"] > 0.95
    first, last = metrics["history"][0], metrics["history"][-1]
    assert last["train_loss"] < first["train_loss"]


def test_progress_reports_every_phase_in_order(flights_artifact):
    _, metrics, reports = flights_artifact
    phases = [r.phase for r in reports]
    assert phases[0] == "encode" and phases[-1] == "done"
    order = [p for i, p in enumerate(phases) if i == 0 or phases[i - 1] != p]
    assert order[:4] == ["encode", "featurize", "train", "validate"]
    validations = [r for r in reports if r.phase == "validate"]
    assert len(validations) == metrics["epochs_run"]
    assert all(r.metrics and "ap" in r.metrics and r.loss is not None for r in validations)
    train_steps = [r for r in reports if r.phase == "train"]
    assert all(0 < r.done <= r.total for r in train_steps) and all(r.loss is not None for r in train_steps)


def test_the_artifact_loads_back_into_the_same_models(flights_artifact):
    out, _, _ = flights_artifact
    config, vocab, skill, models = load_artifact(out)
    assert skill.name == "Flights" and vocab.actions[0] == "wait_for_user"
    state = load_file(str(out / "model.safetensors"))
    for name, module in models.all():
        for k, v in module.state_dict().items():
            assert (state[f"{name}.{k}"] == v).all()
    assert not models.ap.training


def test_the_same_seed_trains_the_same_weights(tmp_path, flights_skill, flights_dialogues, encoder):
    data = flights_dialogues[0][:20]
    config = TrainConfig(**{**TINY, "epochs": 1, "min_batches_per_epoch": 1})
    train(flights_skill, data, tmp_path / "a", config, encoder=encoder)
    train(flights_skill, data, tmp_path / "b", config, encoder=encoder)
    a, b = load_file(str(tmp_path / "a" / "model.safetensors")), load_file(str(tmp_path / "b" / "model.safetensors"))
    assert all((a[k] == b[k]).all() for k in a)


def test_test_conversations_and_other_skills_are_refused(tmp_path, flights_skill, flights_dialogues, encoder):
    d = flights_dialogues[0][0]
    with pytest.raises(ValueError, match="no training dialogues"):
        train(flights_skill, [d.model_copy(update={"test": True})], tmp_path / "x", encoder=encoder)
    with pytest.raises(ValueError, match="is for skill 'Pizza'"):
        train(flights_skill, [d.model_copy(update={"skill": "Pizza"})], tmp_path / "x", encoder=encoder)
    assert not (tmp_path / "x").exists()


def test_split_holds_out_a_seeded_fraction_or_reuses_tiny_sets(flights_dialogues):
    import random

    data = flights_dialogues[0][:50]
    tr, va = split(data, 0.1, random.Random(0))
    assert len(tr) == 45 and len(va) == 5 and not {d.id for d in tr} & {d.id for d in va}
    assert split(data, 0.1, random.Random(0)) == (tr, va)
    one = data[:1]
    assert split(one, 0.1, random.Random(0)) == (one, one)


def test_loading_something_that_is_not_an_artifact_fails_clearly(tmp_path, flights_artifact, encoder):
    with pytest.raises(FileNotFoundError, match="not a Colloquy model artifact"):
        DialogueManager.load(tmp_path, encoder=encoder)
    out = tmp_path / "copy"
    import shutil

    shutil.copytree(flights_artifact[0], out)
    config = json.loads((out / "config.json").read_text())
    config["format"] = "colloquy-model/99"
    (out / "config.json").write_text(json.dumps(config))
    with pytest.raises(ValueError, match="unsupported artifact format"):
        DialogueManager.load(out, encoder=encoder)
    config["format"] = "colloquy-model/1"
    config["encoder"]["identity"] = "some-other-encoder"
    (out / "config.json").write_text(json.dumps(config))
    with pytest.raises(ValueError, match="COLLOQUY_ENCODER"):
        DialogueManager.load(out, encoder=encoder)


def test_the_train_and_chat_commands_work_end_to_end(tmp_path, flights_dialogues, flights_artifact):
    import subprocess
    import sys

    from skillspec.annotated import write_dialogues

    from .conftest import ROOT

    data = tmp_path / "train.jsonl"
    with open(data, "w") as f:
        write_dialogues(flights_dialogues[0][:12], f)
    out = tmp_path / "artifact"
    cmd = [sys.executable, "-m", "modeling", "train", "examples/flights.json", str(data), "-o", str(out)]
    done = subprocess.run([*cmd, "--epochs", "1", "--batch-size", "8"], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "epoch 1" in done.stderr and "encode" in done.stderr  # progress bars and the epoch summary
    assert f"wrote {out}" in done.stdout and (out / "model.safetensors").is_file()
    # The recipe of a studio build: the file's 12 dialogues and the skill's own sample dialogues.
    from simulator.samples import samples_to_annotated

    skill = skillspec.parse_skill((ROOT / "examples" / "flights.json").read_bytes())
    own = sum(1 for d in samples_to_annotated(skill) if not d.test)
    counts = json.loads((out / "config.json").read_text())["data"]
    assert own > 0 and counts["train_dialogues"] + counts["validation_dialogues"] == 12 + own


def test_sample_dialogues_can_count_more_than_simulated_ones(tmp_path, flights_skill, flights_dialogues, encoder):
    sim = flights_dialogues[0][:6]
    samples = [d.model_copy(update={"source": "sample", "id": f"sample-{i}"}) for i, d in enumerate(sim[:2])]
    config = TrainConfig(**{**TINY, "epochs": 1, "min_batches_per_epoch": 1, "validation_fraction": 0.0})
    once = train(flights_skill, [*sim, *samples], tmp_path / "a", config, encoder=encoder)
    thrice = train(
        flights_skill,
        [*sim, *samples],
        tmp_path / "b",
        TrainConfig(**{**config.__dict__, "sample_weight": 3}),
        encoder=encoder,
    )
    steps = lambda out: json.loads((out / "config.json").read_text())["data"]["ap_steps"]  # noqa: E731
    per_sample = sum(sum(1 for t in d.turns if t.speaker == "system" for _ in t.actions) for d in samples)
    assert steps(tmp_path / "b") - steps(tmp_path / "a") == 2 * per_sample
    assert once["epochs_run"] == thrice["epochs_run"] == 1


def test_the_recipe_adds_the_skills_own_samples_once(tmp_path, flights_skill, flights_dialogues):
    from simulator.samples import samples_to_annotated, training_set

    own = [d for d in samples_to_annotated(flights_skill) if not d.test]
    assert own, "the example skill has sample dialogues"
    sim = flights_dialogues[0][:6]
    ids = [d.id for d in training_set(flights_skill, sim)]
    assert ids == [d.id for d in sim] + [d.id for d in own]
    # Data that has them already (``simulator samples`` output) does not get them twice.
    assert [d.id for d in training_set(flights_skill, [*sim, own[0]])] == ids
    assert [d.id for d in training_set(flights_skill, sim, samples=False)] == ids[:6]
    # `modeling train --no-samples` trains on the files alone (the end-to-end test sees them added).
    data = tmp_path / "sim.jsonl"
    with open(data, "w") as f:
        write_dialogues(sim, f)
    out = tmp_path / "model"
    cmd = [sys.executable, "-m", "modeling", "train", "examples/flights.json", str(data), "-o", str(out), "-q"]
    done = subprocess.run([*cmd, "--epochs", "1", "--no-samples"], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    counts = json.loads((out / "config.json").read_text())["data"]
    assert counts["train_dialogues"] + counts["validation_dialogues"] == len(sim)


def test_a_batch_of_dialogues_without_system_turns_still_collates(flights_skill, flights_dialogues, encoder):
    """A dialogue can end on its first user turn (the user hung up): nothing for AP or AF to learn."""
    import datetime

    from modeling.data import collate, replay
    from modeling.features import SkillIndex

    first = flights_dialogues[0][0]
    hung_up = first.model_copy(update={"turns": first.turns[:1]})
    index = SkillIndex(flights_skill, hidden=encoder.hidden_size, today=datetime.date(2026, 1, 15))
    encodings = {first.turns[0].text: encoder.encode(first.turns[0].text)}
    batch, labels = collate([replay(index, hung_up, encodings)], encodings, index.hidden, index.turn_size)
    assert batch["ap_utterance"].shape == (0, encoder.hidden_size) and len(labels["ap"]) == 0
    assert batch["tokens"].shape[0] == 1 and int((labels["ner"] != -100).sum()) == len(
        encodings[first.turns[0].text].offsets
    )


def test_a_warm_start_begins_from_an_earlier_artifact_when_it_fits(tmp_path, flights_skill, flights_dialogues, encoder):
    data = flights_dialogues[0][:20]
    config = TrainConfig(**{**TINY, "epochs": 1, "min_batches_per_epoch": 1})
    train(flights_skill, data, tmp_path / "a", config, encoder=encoder)
    # With a zero learning rate the warm-started weights are exactly the earlier artifact's.
    still = dataclasses.replace(config, lr=0.0, epochs=5, init_from=str(tmp_path / "a"))
    metrics = train(flights_skill, data, tmp_path / "b", still, encoder=encoder)
    assert metrics["warm_start"] == {"from": str(tmp_path / "a"), "used": True, "reason": None}
    assert metrics["epochs_run"] <= still.warm_epochs
    a, b = load_file(str(tmp_path / "a" / "model.safetensors")), load_file(str(tmp_path / "b" / "model.safetensors"))
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    # Another label space (a template more) or another model size: a cold start that says why.
    extra = flights_skill.response_templates[0].model_copy(update={"name": "extra_template"})
    grown = flights_skill.model_copy(update={"response_templates": [*flights_skill.response_templates, extra]})
    earlier = str(tmp_path / "a")
    cold = train(grown, data, tmp_path / "c", dataclasses.replace(config, init_from=earlier), encoder=encoder)
    assert cold["warm_start"]["used"] is False and "label spaces" in cold["warm_start"]["reason"]
    bigger = dataclasses.replace(config, ner_hidden=32, init_from=earlier)
    assert train(flights_skill, data, tmp_path / "d", bigger, encoder=encoder)["warm_start"]["reason"] == (
        "its ner model has another configuration"
    )
    missing = dataclasses.replace(config, init_from=str(tmp_path / "nothing"))
    reason = train(flights_skill, data, tmp_path / "e", missing, encoder=encoder)["warm_start"]["reason"]
    assert "cannot be read" in reason


def test_the_ner_learns_each_distinct_tagged_utterance_once_per_pass(flights_skill, flights_dialogues, encoder):
    from modeling.data import collate, replay
    from modeling.features import SkillIndex
    from skillspec.annotated import REFERENCE_DATE

    index = SkillIndex(flights_skill, hidden=encoder.hidden_size, today=REFERENCE_DATE)
    data = flights_dialogues[0][:60]
    texts = list(dict.fromkeys(t.text for d in data for t in d.turns if hasattr(t, "spans")))
    encodings = dict(zip(texts, encoder.encode_many(texts), strict=True))
    examples = [replay(index, d, encodings) for d in data]
    every = [(t, lab.tobytes()) for e in examples for t, lab in zip(e.ner_text, e.ner_labels, strict=True)]
    assert len(set(every)) < len(every)  # the simulator says some utterances more than once
    seen: set[tuple[str, bytes]] = set()
    rows = batches = 0
    for b in range(0, len(examples), 8):
        batch, labels = collate(examples[b : b + 8], encodings, index.hidden, index.turn_size, ner_seen=seen)
        assert batch["tokens"].shape[0] == labels["ner"].shape[0] == len(batch["ner_context"])
        assert len(labels["ap"]) == sum(len(e.ap_labels) for e in examples[b : b + 8])  # AP and AF keep all
        rows += labels["ner"].shape[0]
        batches += 1
    assert batches == 8 and rows == len(set(every)) and seen == set(every)
    _, labels = collate(examples, encodings, index.hidden, index.turn_size)
    assert labels["ner"].shape[0] == len(every)  # without ner_seen: every occurrence
