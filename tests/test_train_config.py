"""``colouru train``'s settings (training/config.py): each written once, the parser, the checks
and the resume diff made from them; a new run trains the shipped recipe; configs saved by
earlier versions load as they were trained."""

from __future__ import annotations

import copy
import subprocess
import sys
from pathlib import Path

import pytest

from colouru.cli import build_parser
from colouru.simulate import HintSimConfig
from colouru.training import config
from colouru.training.gan import GanConfig
from colouru.training.train import TrainConfig, config_from_args
from colouru.weights import read_info

ROOT = Path(__file__).resolve().parent.parent

# A run's config.json as `colouru train` wrote it before training/config.py (the run in
# runs/loc: gan without rebalance).
SAVED = {
    "data": "/data/train", "classes": None, "stages": ["pretrain-g"], "steps": [20000],
    "batch_size": 4, "size": 256,
    "generator": {"arch": "unet-semantic", "width": 16, "depth": 5, "max_width": 256,
                  "dropout": 0.0, "hint_scales": 3, "edge_hints": 2,
                  "encoder": "efficientnet-lite0", "fine_width": 0},
    "disc": "patch", "disc_width": 32,
    "gan": {"lr": 0.0001, "beta1": 0.5, "beta2": 0.999, "lambda_mse": 100.0, "real_label": 0.9,
            "label_flip": 0.0, "hint_weight": 1.0, "loss": "huber", "huber_delta": 10.0},
    "hints": {"p": 0.125, "n_min": 8, "n_max": 800, "no_hint_share": 0.15, "min_side": 1,
              "max_side": 9, "sigma_frac": 0.25, "area_ref": 65536, "stroke_share": 0.3,
              "stroke_n_max": 20, "stroke_min_length": 8, "stroke_max_length": 64,
              "stroke_min_width": 1, "stroke_max_width": 7, "stroke_tolerance": 12.0,
              "stroke_l_tolerance": 25.0, "recolour_share": 0.5, "recolour_hint_p": 0.5,
              "recolour_min_chroma": 10.0, "recolour_max_chroma": 60.0,
              "recolour_tolerance": 12.0, "recolour_l_tolerance": 10.0},
    "val": "/data/val-wide", "val_split": None, "val_count": 48, "val_size": 256,
    "val_every": 1000, "ckpt_every": 50, "log_every": 20, "work_size": 256,
    "init": "/models/colouru-default.safetensors", "ema": 0.0, "seed": 30, "cache": "auto",
    "precision": "auto",
}


def _args(*argv):
    return build_parser().parse_args(["train", *map(str, argv)])


def test_a_new_run_trains_the_shipped_recipe(tmp_path):
    cfg = config_from_args(_args("--data", tmp_path, "--out", tmp_path / "run"))
    shipped = read_info(ROOT / "assets" / "models" / "colouru-default.safetensors").generator
    assert cfg.generator == shipped
    assert (cfg.stages, cfg.size, cfg.batch_size) == (["pretrain-g"], 256, 8)
    assert (cfg.gan.loss, cfg.gan.huber_delta, cfg.gan.lr) == ("huber", 10.0, 2e-4)
    assert (cfg.hints.stroke_share, cfg.hints.recolour_share) == (0.3, 0.5)
    assert TrainConfig().to_dict() == {**cfg.to_dict(), "data": ""}


def test_every_saved_setting_is_written_once():
    saved = TrainConfig().to_dict()
    keys = {s.key for s in (*config.SETTINGS, *config.FIXED) if s.key}
    for key in keys:
        config.get(saved, key)  # each names a field of the saved config
    flat = {k for k, v in saved.items() if not isinstance(v, dict)} | {
        f"{part}.{k}" for part in ("gan", "hints") for k in saved[part]}
    # every saved field but the hints' region tolerances (simulate's own) has its range here
    unchecked = flat - keys
    assert unchecked == {"hints.recolour_tolerance", "hints.recolour_l_tolerance"}, unchecked
    assert len({s.flag for s in config.SETTINGS}) == len(config.SETTINGS)
    options = {a for act in build_parser()._subparsers._group_actions[0].choices["train"]._actions
               for a in act.option_strings}
    assert {s.flag for s in config.SETTINGS} <= options


def test_help_loads_no_torch():
    code = ("import sys\nfrom colouru.cli import build_parser\nbuild_parser()\n"
            "assert not [m for m in sys.modules if m.split('.')[0] == 'torch'], 'torch'")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)


@pytest.mark.parametrize("which", ["as saved", "with rebalance", "before recolouring"])
def test_configs_saved_before_load_as_they_were_trained(which):
    doc = copy.deepcopy(SAVED)
    want = copy.deepcopy(SAVED)
    want["gan"]["rebalance"] = 1.0  # a key the config lacks: the value runs had before it
    want["class_weights"] = None
    want["generator"]["hint_fade"] = 0  # a key the config lacks: the features runs had before it
    del want["generator"]["fine_width"]  # a removed option, saved at its neutral 0: dropped
    if which == "with rebalance":  # today's to_dict()
        doc["gan"]["rebalance"] = want["gan"]["rebalance"] = 0.5
    if which == "before recolouring":
        del doc["hints"]["recolour_share"]
        want["hints"]["recolour_share"] = 0.0
    cfg = TrainConfig.from_dict(doc)
    cfg.check()
    assert cfg.to_dict() == want
    assert HintSimConfig().stroke_share == 0.0 and GanConfig().loss == "mse"  # before them


def test_resume_refuses_what_changes_the_run_and_applies_the_rest():
    saved = TrainConfig.from_dict(SAVED).to_dict()
    args = _args("--out", "run", "--resume", "--size", "128", "--lr", "1e-4", "--stages",
                 "pretrain-g", "--ema", "0.5", "--epochs", "3", "--data", "/data/train/")
    assert config.resume_changes(args, saved) == [
        ("--epochs", 3.0, "set by --steps"), ("--size", 128, 256), ("--ema", 0.5, "none")]
    args = _args("--out", "run", "--resume", "--steps", "30000", "--val-every", "7",
                 "--precision", "bf16", "--seed", "30", "--loss", "huber")
    out = config.resumed(args, saved)
    assert (out["steps"], out["val_every"], out["precision"]) == ([30000], 7, "bf16")
    assert {k: v for k, v in out.items() if k not in ("steps", "val_every", "precision")} == {
        k: v for k, v in saved.items() if k not in ("steps", "val_every", "precision")}
    with pytest.raises(ValueError, match="--val-every"):
        config.resumed(_args("--out", "run", "--resume", "--val-every", "0"), saved)
    # the mix of classes may change on resume (a run that fits its last steps to a subject)
    out = config.resumed(_args("--out", "run", "--resume", "--class-weights", "bsds=6, a=2"), saved)
    assert out["class_weights"] == {"bsds": 6, "a": 2}


@pytest.mark.parametrize("bad", [("--size", "3"), ("--lr", "nan"), ("--ema", "1"),
                                 ("--stages", "paint"), ("--steps", "1,2"),
                                 ("--huber-delta", "0"), ("--recolour-share", "2"),
                                 ("--class-weights", "bsds"), ("--class-weights", "bsds=0")])
def test_bad_options_are_named(bad, tmp_path):
    with pytest.raises(ValueError, match=bad[0].lstrip("-")):
        config_from_args(_args("--data", tmp_path, "--out", tmp_path / "run", *bad))


@pytest.mark.parametrize("edit", [("size", "big"), ("steps", []), ("stages", ["paint"]),
                                  ("gan", {**SAVED["gan"], "lr": None}),
                                  ("hints", {**SAVED["hints"], "n_max": 1})])
def test_a_hand_edited_config_is_refused_by_name(edit):
    doc = {**copy.deepcopy(SAVED), edit[0]: edit[1]}
    with pytest.raises(ValueError):
        TrainConfig.from_dict(doc).check()


@pytest.mark.parametrize("edit", [("disc", "design"),
                                  ("generator", {**SAVED["generator"], "fine_width": 6}),
                                  ("generator", {**SAVED["generator"],
                                                 "arch": "unet-pretrained"})])
def test_a_run_of_a_removed_kind_is_refused_in_one_line(edit):
    # the design discriminator and unet-pretrained (with its fine_width) are gone: a run of
    # them is named, with the record that has their runs and code; the parser no longer
    # offers them
    doc = {**copy.deepcopy(SAVED), edit[0]: edit[1]}
    with pytest.raises(ValueError, match="removed") as e:
        TrainConfig.from_dict(doc).check()
    assert "docs/experiments.md" in str(e.value) and "\n" not in str(e.value)
    with pytest.raises(SystemExit):
        _args("--out", "run", "--disc", "design")
    with pytest.raises(SystemExit):
        _args("--out", "run", "--arch", "unet-pretrained")


def test_init_may_change_the_hint_fade_and_keeps_the_rest_of_the_model(tmp_path):
    model = ROOT / "assets" / "models" / "colouru-default.safetensors"
    shipped = read_info(model).generator
    base = ("--data", tmp_path, "--out", tmp_path / "run", "--init", model)
    assert config_from_args(_args(*base)).generator == shipped  # the init's features by default
    faded = config_from_args(_args(*base, "--hint-fade", str(1 - shipped.hint_fade))).generator
    assert faded.to_dict() == {**shipped.to_dict(), "hint_fade": 1 - shipped.hint_fade}
    with pytest.raises(ValueError, match="cannot become this one"):
        config_from_args(_args(*base, "--hint-scales", "2"))
