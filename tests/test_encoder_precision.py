"""The int8 encoder path, the disk cache shared by processes, and batched evaluation encoding."""

import subprocess
import sys
import textwrap

import numpy as np
import pytest

from modeling.artifact import artifact_precision, read_artifact_config
from modeling.encoder import TextEncoder
from modeling.evaluate import evaluate
from modeling.runtime import DialogueManager
from modeling.train import TrainConfig, train

from .conftest import ROOT, TINY


@pytest.fixture(scope="module")
def int8_encoder():
    return TextEncoder(precision="int8", device="cpu")


def _cosine(a: np.ndarray, b: np.ndarray) -> float:
    a, b = a.astype(np.float32).ravel(), b.astype(np.float32).ravel()
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))


def test_the_int8_encoder_is_a_close_but_distinct_encoder(encoder, int8_encoder):
    text = "Find me a flight from Boston to Chicago tomorrow"
    full, quantized = encoder.encode(text), int8_encoder.encode(text)
    assert np.array_equal(full.offsets, quantized.offsets)
    assert not np.array_equal(full.embeddings, quantized.embeddings)
    assert _cosine(full.embeddings, quantized.embeddings) > 0.9
    # Another identity: the two never share disk-cache rows, and artifacts name what they need.
    assert int8_encoder.identity != encoder.identity
    assert int8_encoder.precision == "int8" and encoder.precision == "fp32"


def test_unknown_or_impossible_precisions_are_refused():
    with pytest.raises(ValueError, match="precision .bf16.: one of auto, fp32, int8"):
        TextEncoder(precision="bf16", device="cpu")
    with pytest.raises(ValueError, match="int8 precision is for the CPU"):
        TextEncoder(precision="int8", device="cuda")


def test_an_int8_artifact_records_its_precision_and_loads_with_it(
    tmp_path, flights_skill, flights_dialogues, encoder, int8_encoder
):
    train_set, heldout = flights_dialogues
    config = TrainConfig(**{**TINY, "epochs": 1, "min_batches_per_epoch": 1}, encoder_precision="int8")
    with pytest.raises(ValueError, match="the encoder given is fp32, the config asks for int8"):
        train(flights_skill, train_set[:20], tmp_path / "wrong", config, encoder=encoder)
    train(flights_skill, train_set[:40], tmp_path / "a", config, encoder=int8_encoder)
    assert artifact_precision(read_artifact_config(tmp_path / "a")) == "int8"
    assert "int8" in (tmp_path / "a" / "README.md").read_text()
    with pytest.raises(ValueError, match="point COLLOQUY_ENCODER at the training encoder"):
        DialogueManager.load(tmp_path / "a", device="cpu", encoder=encoder)
    manager = DialogueManager.load(tmp_path / "a", device="cpu")  # makes the int8 encoder itself
    assert manager.encoder.precision == "int8"
    assert evaluate(manager, heldout[:5])["action_accuracy"] >= 0.0


def test_evaluation_encodes_the_gold_texts_in_batches(flights_artifact, flights_dialogues):
    artifact, _, _ = flights_artifact
    manager = DialogueManager.load(artifact, device="cpu", encoder=TextEncoder(device="cpu"))
    calls: list[int] = []
    run = manager.encoder._run
    manager.encoder._run = lambda texts: calls.append(len(texts)) or run(texts)  # type: ignore[method-assign]
    gold = flights_dialogues[1][:20]
    evaluate(manager, gold)
    texts = {t.text for d in gold for t in d.turns if hasattr(t, "spans")}
    assert len(texts) > 64
    assert sum(calls) == len(texts)  # each text once
    assert max(calls) == manager.encoder.batch_size  # batched, not one by one


def test_two_processes_fill_one_disk_cache_at_once(tmp_path):
    script = textwrap.dedent(
        f"""
        import sys
        sys.path.insert(0, {str(ROOT)!r})
        from modeling.encoder import TextEncoder
        enc = TextEncoder(cache_dir={str(tmp_path)!r}, batch_size=8, device="cpu")
        enc.encode_many([f"text {{i}} of {{sys.argv[1]}}" for i in range(120)] + [f"shared {{i}}" for i in range(40)])
        print("ok")
        """
    )
    procs = [
        subprocess.Popen([sys.executable, "-c", script, name], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        for name in ("a", "b")
    ]
    outputs = [p.communicate(timeout=300) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], [err.decode()[-2000:] for _, err in outputs]
    import sqlite3

    count = sqlite3.connect(tmp_path / "embeddings.sqlite3").execute("SELECT COUNT(*) FROM emb").fetchone()[0]
    assert count == 120 + 120 + 40


def test_auto_precision_is_int8_on_the_cpu_and_fp32_elsewhere():
    from modeling.encoder import resolve_precision

    assert resolve_precision("auto", "cpu") == "int8"
    assert resolve_precision("auto", "cuda") == "fp32"
    assert resolve_precision("fp32", "cpu") == "fp32"


TEXTS = [
    "Find me a flight from Boston to Chicago tomorrow",
    "yes",
    "I'd like two tickets, economy, leaving on the 3rd of March around 9 in the morning",
]


@pytest.mark.parametrize("precision", ["fp32", "int8"])
def test_the_lean_forward_pass_is_bit_identical_to_the_models_own(encoder, int8_encoder, precision):
    import torch

    from modeling.encoder import lean_forward

    enc = encoder if precision == "fp32" else int8_encoder
    assert enc.lean, "the default encoder is a plain BERT: the lean path must be the one used"
    checked = 0
    # One text (no padding, no mask), a padded batch, and a batch of equal lengths (all-ones mask).
    for texts in (TEXTS[:1], TEXTS, [TEXTS[0], TEXTS[0].upper()]):
        inputs, _, keep = enc.tokenize(texts)
        with torch.inference_mode():
            own = enc.model(**inputs).last_hidden_state
            lean = lean_forward(enc.model, **inputs)
        assert own.shape == lean.shape
        assert torch.equal(own[torch.from_numpy(keep)], lean[torch.from_numpy(keep)])
        checked += 1
    assert checked == 3


def test_an_encoder_the_lean_pass_does_not_fit_uses_the_models_forward(tmp_path, encoder):
    import shutil

    from modeling.encoder import lean_forward_fits

    assert lean_forward_fits(encoder.model.config)
    for change in ({"hidden_act": "relu"}, {"position_embedding_type": "relative_key"}, {"model_type": "roberta"}):
        config = type(encoder.model.config).from_dict({**encoder.model.config.to_dict(), **change})
        assert not lean_forward_fits(config), change
    # A copy of the encoder whose activation the lean pass does not implement: still encodes, by
    # the model's own forward, and gives other embeddings than the GELU original.
    other = tmp_path / "relu-encoder"
    shutil.copytree(encoder.path, other)
    import json

    config_file = other / "config.json"
    config_file.write_text(json.dumps({**json.loads(config_file.read_text()), "hidden_act": "relu"}))
    relu = TextEncoder(str(other), device="cpu")
    assert not relu.lean
    got, base = relu.encode(TEXTS[0]), encoder.encode(TEXTS[0])
    assert np.array_equal(got.offsets, base.offsets)
    assert not np.array_equal(got.embeddings, base.embeddings)
