"""Fine-tuning the encoder's top layers (the GPU-build option), here on the CPU with the real encoder."""

from __future__ import annotations

import datetime
import json
import shutil

import numpy as np
import pytest
import torch
from safetensors.torch import load_file

from modeling.encoder import TextEncoder
from modeling.features import SkillIndex
from modeling.finetune import FinetuneConfig, finetune_encoder, finetune_examples, top_layer_names
from modeling.runtime import DialogueManager
from modeling.train import TrainConfig, train

from .conftest import TINY

TODAY = datetime.date(2026, 1, 15)


@pytest.fixture(scope="module")
def index(flights_skill, encoder):
    return SkillIndex(flights_skill, hidden=encoder.hidden_size, today=TODAY)


def test_examples_pair_each_user_turn_with_the_next_action(index, flights_dialogues):
    d = flights_dialogues[0][0]
    examples = finetune_examples(index, [d])
    first = examples[0]
    assert first.text == d.turns[0].text
    assert first.spans == tuple((s.start, s.end, s.slot_type) for s in d.turns[0].spans)
    assert index.vocab.actions[first.next_action] == d.turns[1].actions[0].name
    # The same dialogue twice adds nothing: duplicates are kept once.
    assert finetune_examples(index, [d, d]) == examples


def test_layer_range_is_checked(encoder):
    assert {n.split(".")[2] for n in top_layer_names(encoder, 2)} == {"4", "5"}
    for bad in (0, 7):
        with pytest.raises(ValueError, match="between 1 and the encoder's 6 layers"):
            top_layer_names(encoder, bad)


def test_finetuning_trains_only_the_top_layers_and_leaves_the_base_encoder_alone(index, flights_dialogues, encoder):
    examples = finetune_examples(index, flights_dialogues[0][:60])
    before = {n: p.detach().clone() for n, p in encoder.model.named_parameters()}
    text = examples[0].text
    base_embedding = encoder.encode(text).embeddings.copy()
    losses: list[float] = []
    tuned = finetune_encoder(
        encoder,
        index,
        examples,
        FinetuneConfig(layers=1, epochs=3, batch_size=16, lr=1e-4),
        progress=lambda step, steps, epoch, loss: losses.append(loss),
    )
    assert set(tuned) == set(top_layer_names(encoder, 1)) and all(k.startswith("encoder.layer.5.") for k in tuned)
    assert any(not torch.equal(tuned[n], before[n]) for n in tuned)
    assert all(torch.equal(p, before[n]) for n, p in encoder.model.named_parameters())
    # It learns: the last epoch's loss is well below the first steps'.
    per_epoch = len(losses) // 3
    assert np.mean(losses[-per_epoch:]) < 0.7 * np.mean(losses[:3])

    adapted = encoder.adapted(tuned)
    assert adapted.identity != encoder.identity and adapted.base_identity == encoder.identity
    assert not np.allclose(adapted.encode(text).embeddings, base_embedding)
    assert np.array_equal(encoder.encode(text).embeddings, base_embedding)
    # The same weights give the same identity (what the runtime checks an artifact against).
    assert encoder.adapted(tuned).identity == adapted.identity

    with pytest.raises(ValueError, match="no parameters"):
        encoder.adapted({"encoder.layer.9.output.dense.weight": torch.zeros(1)})
    name = next(iter(tuned))
    with pytest.raises(ValueError, match="does not fit"):
        encoder.adapted({name: torch.zeros(3)})
    with pytest.raises(ValueError, match="no user turns"):
        finetune_encoder(encoder, index, [], FinetuneConfig(layers=1))


@pytest.fixture(scope="module")
def tuned_artifact(tmp_path_factory, flights_skill, flights_dialogues, encoder):
    out = tmp_path_factory.mktemp("models") / "flights-ft"
    reports = []
    config = TrainConfig(**{**TINY, "epochs": 2}, finetune_layers=1, finetune_epochs=1)
    metrics = train(flights_skill, flights_dialogues[0][:150], out, config, progress=reports.append, encoder=encoder)
    return out, metrics, reports


def test_a_build_with_finetuning_saves_the_layers_and_serves_with_them(tuned_artifact, encoder, tmp_path):
    out, _, reports = tuned_artifact
    phases = [r.phase for r in reports]
    assert phases[0] == "finetune" and phases.index("encode") > phases.index("finetune")
    steps = [r for r in reports if r.phase == "finetune"]
    assert steps[-1].done == steps[-1].total and all(r.loss is not None for r in steps)

    config = json.loads((out / "config.json").read_text())
    enc = config["encoder"]
    assert enc["finetuned_layers"] == 1 and enc["base_identity"] == encoder.identity
    assert enc["identity"] != encoder.identity
    layers = load_file(str(out / "encoder_top.safetensors"))
    assert set(layers) == set(top_layer_names(encoder, 1))
    assert "top 1 layers fine-tuned" in (out / "README.md").read_text()

    # Loaded with the shared base encoder, the manager applies the tuned layers itself.
    manager = DialogueManager.load(out, encoder=encoder, today=TODAY)
    assert manager.encoder.identity == enc["identity"] and manager.encoder is not encoder
    assert manager.encoder.encode("fly me to Boston").embeddings.tobytes() == (
        encoder.adapted(layers).encode("fly me to Boston").embeddings.tobytes()
    )
    turn = manager.respond(manager.new_session(), "I need a flight from Boston to Denver tomorrow")
    assert turn.actions

    # A fine-tuned artifact without its layers cannot be served with the base encoder.
    broken = tmp_path / "broken"
    shutil.copytree(out, broken)
    (broken / "encoder_top.safetensors").unlink()
    with pytest.raises(FileNotFoundError, match="encoder_top.safetensors: missing"):
        DialogueManager.load(broken, encoder=encoder)


def test_a_finetuned_artifact_refuses_another_base_encoder(tuned_artifact, tmp_path):
    out, _, _ = tuned_artifact
    other = tmp_path / "other-encoder"
    shutil.copytree(TextEncoder().path, other)
    cfg = json.loads((other / "config.json").read_text())
    cfg["attention_probs_dropout_prob"] = 0.25  # another encoder, as far as its identity goes
    (other / "config.json").write_text(json.dumps(cfg))
    with pytest.raises(ValueError, match="fine-tuned from encoder"):
        DialogueManager.load(out, encoder=TextEncoder(str(other)))


def test_the_command_line_takes_the_finetuning_options(tmp_path, flights_dialogues):
    import subprocess
    import sys

    from .conftest import ROOT

    data = tmp_path / "train.jsonl"
    data.write_text("".join(d.model_dump_json() + "\n" for d in flights_dialogues[0][:20]))
    out = tmp_path / "art"
    done = subprocess.run(
        [sys.executable, "-m", "modeling", "train", str(ROOT / "examples" / "flights.json"), str(data), "-o", str(out)]
        + ["--epochs", "1", "--finetune-layers", "9"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert done.returncode != 0 and "between 1 and the encoder's 6 layers, not 9" in done.stderr
    assert not out.exists()
