"""A trained dialogue manager on disk: weights, configs, vocabularies, metrics and a model card.

Layout of an artifact directory::

    model.safetensors   the three models' weights (keys prefixed ner., ap., af.)
    encoder_top.safetensors  only with fine-tuning: the encoder's tuned top layers
    config.json         format, encoder, each model's config, training parameters
    vocab.json          the label spaces (slot types, BIO tags, actions, argument keys, result fields)
    skill.json          the skill spec it was trained for (the runtime checks predictions against it)
    metrics.json        validation figures of the chosen epoch, and the per-epoch history
    loss_curves.svg     training and validation loss per epoch, drawn
    README.md           the model card
"""

from __future__ import annotations

import dataclasses
import datetime
import json
import math
import platform
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file, save_file

import skillspec

from .action_prediction import ActionPredictionModel, APConfig
from .argument_filling import AFConfig, ArgumentFillingModel
from .features import SkillVocab
from .ner import NERConfig, NERModel

FORMAT = "colloquy-model/1"
ENCODER_LAYERS = "encoder_top.safetensors"


@dataclasses.dataclass
class Models:
    ner: NERModel
    ap: ActionPredictionModel
    af: ArgumentFillingModel

    def all(self) -> list[tuple[str, torch.nn.Module]]:
        return [("ner", self.ner), ("ap", self.ap), ("af", self.af)]

    def train(self, mode: bool = True) -> None:
        for _, m in self.all():
            m.train(mode)

    def parameters(self) -> list[torch.nn.Parameter]:
        return [p for _, m in self.all() for p in m.parameters()]

    def to(self, device: str) -> Models:
        for _, m in self.all():
            m.to(device)
        return self


def build_models(ner: NERConfig, ap: APConfig, af: AFConfig) -> Models:
    return Models(NERModel(ner), ActionPredictionModel(ap), ArgumentFillingModel(af))


def save_artifact(
    out: Path,
    *,
    skill: skillspec.Skill,
    vocab: SkillVocab,
    models: Models,
    encoder: dict[str, Any],
    train_config: dict[str, Any],
    metrics: dict[str, Any],
    data: dict[str, Any],
    encoder_layers: dict[str, torch.Tensor] | None = None,
) -> None:
    out.mkdir(parents=True, exist_ok=True)
    if encoder_layers:
        save_file(encoder_layers, str(out / ENCODER_LAYERS), metadata={"format": FORMAT})
    state = {
        f"{name}.{k}": v.detach().cpu().contiguous() for name, m in models.all() for k, v in m.state_dict().items()
    }
    save_file(state, str(out / "model.safetensors"), metadata={"format": FORMAT})
    config = {
        "format": FORMAT,
        "skill": skill.name,
        "spec_hash": skillspec.spec_hash(skill),
        "encoder": encoder,
        "ner": dataclasses.asdict(models.ner.config),
        "ap": dataclasses.asdict(models.ap.config),
        "af": dataclasses.asdict(models.af.config),
        "train": train_config,
        "data": data,
    }
    (out / "config.json").write_text(json.dumps(config, indent=2) + "\n")
    (out / "vocab.json").write_text(json.dumps(vocab.to_json(), indent=2) + "\n")
    (out / "skill.json").write_text(skillspec.dump_skill(skill))
    (out / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
    (out / "loss_curves.svg").write_text(loss_curves_svg(metrics.get("history", [])))
    params = {name: sum(p.numel() for p in m.parameters()) for name, m in models.all()}
    (out / "README.md").write_text(_model_card(config, vocab, metrics, params))


def artifact_precision(config: dict[str, Any]) -> str:
    """The encoder precision an artifact was trained with (artifacts from before precisions: fp32)."""
    return str(config["encoder"].get("precision", "fp32"))


def read_artifact_config(path: Path) -> dict[str, Any]:
    """An artifact's config.json, without loading its models."""
    config: dict[str, Any] = json.loads((Path(path) / "config.json").read_text())
    return config


def load_artifact(path: Path, *, device: str = "cpu") -> tuple[dict[str, Any], SkillVocab, skillspec.Skill, Models]:
    """Config, vocabularies, skill and models (in eval mode) of an artifact directory."""
    path = Path(path)
    if not (path / "config.json").is_file():
        raise FileNotFoundError(f"{path}: not a Colloquy model artifact (no config.json)")
    config = json.loads((path / "config.json").read_text())
    if config.get("format") != FORMAT:
        raise ValueError(f"{path}: unsupported artifact format {config.get('format')!r} (expected {FORMAT})")
    vocab = SkillVocab.from_json(json.loads((path / "vocab.json").read_text()))
    skill = skillspec.parse_skill((path / "skill.json").read_bytes())
    if SkillVocab.from_skill(skill) != vocab:
        raise ValueError(f"{path}: vocab.json does not match skill.json")
    models = build_models(NERConfig(**config["ner"]), APConfig(**config["ap"]), AFConfig(**config["af"]))
    state = load_file(str(path / "model.safetensors"))
    for name, m in models.all():
        m.load_state_dict({k[len(name) + 1 :]: v for k, v in state.items() if k.startswith(name + ".")})
    models.to(device).train(False)
    return config, vocab, skill, models


def loss_curves_svg(history: list[dict[str, Any]], width: int = 560, height: int = 300) -> str:
    """Training loss and each model's validation loss per epoch, on a log scale, as an SVG document."""
    series = {"train (sum)": [h["train_loss"] for h in history]}
    for name in ("ner", "ap", "af"):
        series[f"{name} validation"] = [h[name]["loss"] for h in history if name in h]
    return line_chart_svg(series, log=True, y_label="loss (log)", width=width, height=height)


def accuracy_curves_svg(history: list[dict[str, Any]], width: int = 560, height: int = 300) -> str:
    """Each model's validation accuracy per epoch, as an SVG document."""
    series = {f"{name} validation": [h[name]["accuracy"] for h in history if name in h] for name in ("ner", "ap", "af")}
    return line_chart_svg(series, log=False, y_label="accuracy", width=width, height=height)


def line_chart_svg(
    series: dict[str, list[float]], *, log: bool, y_label: str, width: int = 560, height: int = 300
) -> str:
    """Per-epoch series as a line chart (an SVG document); ``log`` for a log-scale y axis, else 0 to 1."""
    colours = ["#444", "#1f77b4", "#d62728", "#2ca02c"]
    if not log:
        colours = colours[1:]
    left, right, top, bottom = 56, 150, 16, 36
    values = [v for s in series.values() for v in s if v > 0 or not log]
    n = max((len(s) for s in series.values()), default=0)
    svg = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-family="sans-serif" '
        f'font-size="11" role="img" aria-label="{y_label} per epoch">',
        f'<rect width="{width}" height="{height}" fill="white"/>',
    ]
    if not values or n < 1:
        svg.append(f'<text x="{left}" y="{height // 2}">no epochs recorded</text></svg>')
        return "\n".join(svg) + "\n"
    if log:
        lo, hi = math.log10(min(values)), math.log10(max(values))
        hi = hi if hi > lo else lo + 1
    else:
        lo, hi = 0.0, 1.0
    plot_w, plot_h = width - left - right, height - top - bottom

    def xy(i: int, v: float) -> tuple[float, float]:
        x = left + (plot_w * i / (n - 1) if n > 1 else plot_w / 2)
        y_value = math.log10(max(v, 10**lo)) if log else min(max(v, 0.0), 1.0)
        return x, top + plot_h * (hi - y_value) / (hi - lo)

    svg.append(f'<rect x="{left}" y="{top}" width="{plot_w}" height="{plot_h}" fill="none" stroke="#ccc"/>')
    ticks = (
        [(10.0**e, f"1e{e}") for e in range(math.floor(lo), math.ceil(hi) + 1) if lo <= e <= hi]
        if log
        else [(t / 4, f"{t / 4:.2f}") for t in range(5)]
    )
    for value, label in ticks:
        y = xy(0, value)[1]
        svg.append(f'<line x1="{left}" x2="{left + plot_w}" y1="{y:.1f}" y2="{y:.1f}" stroke="#eee"/>')
        svg.append(f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">{label}</text>')
    for i in range(n):
        x = xy(i, 1.0)[0]
        svg.append(f'<text x="{x:.1f}" y="{top + plot_h + 16}" text-anchor="middle">{i + 1}</text>')
    svg.append(f'<text x="{left + plot_w / 2}" y="{height - 4}" text-anchor="middle">epoch</text>')
    svg.append(
        f'<text x="12" y="{top + plot_h / 2}" transform="rotate(-90 12 {top + plot_h / 2})" '
        f'text-anchor="middle">{y_label}</text>'
    )
    for k, ((label, ys), colour) in enumerate(zip(series.items(), colours, strict=False)):
        coords = [xy(i, v) for i, v in enumerate(ys) if v > 0 or not log]
        points = " ".join(f"{x:.1f},{y:.1f}" for x, y in coords)
        svg.append(f'<polyline points="{points}" fill="none" stroke="{colour}" stroke-width="2"/>')
        svg.extend(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="2.5" fill="{colour}"/>' for x, y in coords)
        ly = top + 14 + 18 * k
        svg.append(
            f'<line x1="{width - right + 10}" x2="{width - right + 30}" y1="{ly - 4}" y2="{ly - 4}" '
            f'stroke="{colour}" stroke-width="2"/>'
        )
        svg.append(f'<text x="{width - right + 36}" y="{ly}">{label}</text>')
    svg.append("</svg>")
    return "\n".join(svg) + "\n"


def _model_card(config: dict[str, Any], vocab: SkillVocab, metrics: dict[str, Any], params: dict[str, int]) -> str:
    import transformers

    enc = config["encoder"]
    train = config["train"]
    data = config["data"]
    best = metrics.get("validation", {})
    tuned = enc.get("finetuned_layers", 0)
    frozen = f"top {tuned} layers fine-tuned, `{ENCODER_LAYERS}`" if tuned else "frozen"
    lines = [
        f"# Dialogue manager for skill `{config['skill']}`",
        "",
        f"Three models on a {'partly fine-tuned' if tuned else 'frozen'} pretrained encoder, trained by Colloquy",
        "(`python -m modeling train`):",
        "NER (BiLSTM tagger with hierarchical dialogue context), action prediction (hierarchical LSTM and",
        "a feed-forward head over APIs, response templates and `wait_for_user`) and argument filling",
        "(attention pointer over context entities). Predictions are checked against the skill spec at run time.",
        "",
        "| | |",
        "|---|---|",
        f"| spec hash | `{config['spec_hash']}` |",
        f"| encoder | `{enc['name']}` (identity `{enc['identity']}`, hidden {enc['hidden']}, {frozen}, "
        f"{enc.get('precision', 'fp32')}) |",
        f"| created | {datetime.datetime.now(datetime.UTC).isoformat(timespec='seconds')} |",
        f"| library versions | Python {platform.python_version()}, torch {torch.__version__}, "
        f"transformers {transformers.__version__} |",
        f"| parameters | NER {params['ner']:,}, AP {params['ap']:,}, AF {params['af']:,} |",
        f"| label spaces | {len(vocab.slot_types)} slot types ({len(vocab.bio)} tags), {len(vocab.actions)} actions, "
        f"{len(vocab.arg_keys)} argument keys |",
        f"| training data | {data['train_dialogues']:,} dialogues ({data['sources']}), "
        f"{data['validation_dialogues']:,} for validation |",
        f"| examples | {data['ner_utterances']:,} utterances, {data['ap_steps']:,} action steps, "
        f"{data['af_decisions']:,} argument decisions |",
        f"| training | {metrics.get('epochs_run', 0)} epochs (best per model: {metrics.get('best_epoch')}), "
        f"batch {train['batch_size']}, lr {train['lr']}, seed {train['seed']}, device {train['device']}, "
        f"{metrics.get('seconds', 0):.0f} s |",
        "",
        "## Validation (teacher-forced steps, gold history)",
        "",
        "| model | loss | accuracy |",
        "|---|---|---|",
    ]
    for name in ("ner", "ap", "af"):
        m = best.get(name, {})
        lines.append(f"| {name} | {m.get('loss', float('nan')):.4f} | {m.get('accuracy', float('nan')):.4f} |")
    lines += [
        "",
        "![loss curves](loss_curves.svg)",
        "",
        "`metrics.json` has every epoch's figures. Evaluate on dialogues with",
        "`python -m modeling evaluate <this directory> GOLD.jsonl --json metrics.json`.",
        "",
    ]
    return "\n".join(lines)
