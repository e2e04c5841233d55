"""``colouru evaluate`` end to end on a few generated photos, and its seeded protocol."""

from __future__ import annotations

import json

import numpy as np
import pytest
from conftest import gradient_photo
from PIL import Image

from colouru.cli import main
from colouru.colorizer import Colorizer
from colouru.training import evaluate as ev

COUNTS = [0, 3]


@pytest.fixture(scope="module")
def photo_dir(tmp_path_factory):
    """Two colour photos of awkward sizes (one smaller than 256: upscaled), a greyscale one
    and a damaged file."""
    d = tmp_path_factory.mktemp("photos")
    Image.fromarray(gradient_photo(300, 420, seed=1)).save(d / "a_wide.png")
    Image.fromarray(gradient_photo(200, 150, seed=2)).save(d / "b_small_tall.jpg", quality=95)
    Image.fromarray(np.full((260, 270), 128, np.uint8)).save(d / "c_grey.png")
    (d / "d_broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    return d


@pytest.fixture(scope="module")
def evaluated(photo_dir, tiny_model_path, tmp_path_factory):
    """One real run of the command (the expensive part, shared by the tests below)."""
    out = tmp_path_factory.mktemp("eval")
    argv = ["evaluate", "--data", str(photo_dir), "--model", str(tiny_model_path),
            "--hints", ",".join(map(str, COUNTS)), "--json", str(out / "figures.json"),
            "--samples", str(out / "samples"), "--device", "cpu", "--seed", "3", "--quiet"]
    return out, main(argv)


def test_evaluate_writes_every_count_and_method(evaluated, capsys, tiny_model_path):
    out, rc = evaluated
    assert rc == 1  # the damaged file failed (reported, not fatal); the figures are written
    doc = json.loads((out / "figures.json").read_text())
    assert doc["photos"] == 2
    assert doc["hint_counts"] == COUNTS
    assert doc["protocol"]["seed"] == 3 and doc["protocol"]["size"] == 256
    assert doc["model"]["path"] == str(tiny_model_path)
    assert doc["model"]["provenance"] == {"note": "random weights made by a test"}
    assert set(doc["results"]) == {"model", "grey", "levin"}
    for method in doc["results"].values():
        assert set(method) == {str(k) for k in COUNTS}
        for fig in method.values():
            assert set(fig) >= {"psnr", "ssim", "normalized_loss"}
            assert 5 < fig["psnr"] < 80 and 0 < fig["ssim"] <= 1
    res = doc["results"]
    for k in COUNTS:
        assert res["grey"][str(k)]["normalized_loss"] == pytest.approx(1.0, abs=1e-9)
    assert res["levin"]["0"] == res["grey"]["0"]  # no hints: Levin is grey
    assert res["levin"]["3"]["psnr"] != res["grey"]["3"]["psnr"]  # the hints were used
    assert [p["photo"].rsplit("/", 1)[-1] for p in doc["per_photo"]] == [
        "a_wide.png", "b_small_tall.jpg"]
    skipped = " ".join(doc["skipped"])
    assert "d_broken.jpg" in skipped and "c_grey.png" in skipped


def test_evaluate_reports_skips_and_prints_a_table(photo_dir, tiny_model_path, capsys, tmp_path):
    rc = main(["evaluate", "--data", str(photo_dir), "--model", str(tiny_model_path),
               "--hints", "0", "--no-levin", "--device", "cpu"])
    cap = capsys.readouterr()
    assert rc == 1
    assert "d_broken.jpg" in cap.err and "c_grey.png" in cap.err
    assert "2 photos" in cap.out and "PSNR" in cap.out and "Levin" not in cap.out.split("\n")[2]
    assert "2 skipped (1 unreadable)" in cap.out


def test_samples_strips(evaluated):
    out, _ = evaluated
    files = sorted((out / "samples").glob("*.png"))
    assert [f.name for f in files] == ["000-a_wide.png", "001-b_small_tall.png"]
    strip = np.asarray(Image.open(files[0]))
    assert strip.shape == (256 * len(COUNTS), 256 * 4, 3)  # input | model | Levin | truth


def test_hints_depend_only_on_seed_photo_index_and_count(photo_dir):
    truth = ev.load_photo(photo_dir / "a_wide.png")
    assert truth.shape == (256, 256, 3) and truth.dtype == np.uint8
    hints = ev.hints_for(truth, 3, 0, 5)
    assert hints == ev.hints_for(truth, 3, 0, 5)
    assert hints != ev.hints_for(truth, 4, 0, 5) and hints != ev.hints_for(truth, 3, 1, 5)
    assert len(hints) == 5 and {h.size for h in hints} == {5}
    assert ev.hints_for(truth, 3, 0, 0) == []


def test_same_seed_reproduces_the_command(evaluated, photo_dir, tiny_model_path, tmp_path):
    """A second run of the first photo alone (--limit 1) gives that photo's figures exactly."""
    out, _ = evaluated
    full = json.loads((out / "figures.json").read_text())
    rc = main(["evaluate", "--data", str(photo_dir), "--model", str(tiny_model_path),
               "--hints", ",".join(map(str, COUNTS)), "--json", str(tmp_path / "one.json"),
               "--device", "cpu", "--seed", "3", "--limit", "1", "--quiet"])
    assert rc == 0
    one = json.loads((tmp_path / "one.json").read_text())
    assert one["per_photo"] == full["per_photo"][:1]


@pytest.mark.parametrize("bad", [["--hints", "1,x"], ["--hints", "-1"], ["--seed", "-2"],
                                 ["--limit", "0"], ["--workers", "0"]])
def test_bad_arguments_are_usage_errors(bad, photo_dir, capsys):
    with pytest.raises(SystemExit) as e:
        main(["evaluate", "--data", str(photo_dir), *bad])
    assert e.value.code == 2
    assert "colouru: error:" in capsys.readouterr().err


def test_missing_folder_and_model(tmp_path, capsys, photo_dir):
    assert main(["evaluate", "--data", str(tmp_path / "none")]) == 1
    assert "no such folder" in capsys.readouterr().err
    assert main(["evaluate", "--data", str(photo_dir), "--model",
                 str(tmp_path / "missing.safetensors")]) == 1
    assert "missing.safetensors" in capsys.readouterr().err


def test_parse_counts():
    assert ev.parse_counts("5, 0,1,5") == [0, 1, 5]
    with pytest.raises(ValueError):
        ev.parse_counts("")


@pytest.mark.slow
def test_workers_give_the_same_figures(photo_dir, tiny_model_path):
    colorizer = Colorizer.load(tiny_model_path, device="cpu")
    paths = sorted(photo_dir.iterdir())
    one = ev.evaluate(colorizer, paths, [0, 2], seed=1, progress=False, log=lambda s: None)
    two = ev.evaluate(colorizer, paths, [0, 2], seed=1, workers=2, progress=False,
                      log=lambda s: None)
    assert one.per_photo == two.per_photo and one.skipped == two.skipped
