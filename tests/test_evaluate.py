"""``colouru evaluate`` end to end on a few generated photos, and its seeded protocol."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from conftest import gradient_photo
from PIL import Image

from colouru.cli import main
from colouru.colorizer import Colorizer
from colouru.colour import rgb_to_lab
from colouru.hints import Hint, hint_box
from colouru.training import eval_protocol as protocol
from colouru.training import evaluate as ev
from colouru.training.eval_pictures import draw_hints

COUNTS = [0, 3]
STROKES = [2]  # the stroke protocol's counts in these runs (the default is 1,2,5,10)
EXAMPLES = Path(__file__).resolve().parents[1] / "assets" / "examples"


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
            "--strokes", ",".join(map(str, STROKES)),
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
    # The stroke protocol (on by default): its own section, every method, every stroke count.
    strokes = doc["strokes"]
    assert strokes["stroke_counts"] == STROKES
    assert strokes["protocol"]["length"] == 32 and strokes["protocol"]["width"] == 3
    assert set(strokes["results"]) == {"model", "grey", "levin"}
    for method in strokes["results"].values():
        assert set(method) == {str(k) for k in STROKES}
        assert 5 < method["2"]["psnr"] < 80
    assert strokes["results"]["grey"]["2"] == res["grey"]["0"]  # grey ignores hints
    assert strokes["results"]["levin"]["2"]["psnr"] != res["grey"]["0"]["psnr"]  # Levin used them
    for row in doc["per_photo"]:
        assert set(row["strokes"]) == {"model", "grey", "levin"}


def test_evaluate_reports_skips_and_prints_a_table(photo_dir, tiny_model_path, capsys, tmp_path):
    rc = main(["evaluate", "--data", str(photo_dir), "--model", str(tiny_model_path),
               "--hints", "0", "--no-levin", "--device", "cpu"])
    cap = capsys.readouterr()
    assert rc == 1
    assert "d_broken.jpg" in cap.err and "c_grey.png" in cap.err
    assert "2 photos" in cap.out and "PSNR" in cap.out and "Levin" not in cap.out.split("\n")[2]
    assert "2 skipped (1 unreadable)" in cap.out
    assert "strokes" in cap.out  # the stroke protocol's table, by default beside the squares

def test_samples_strips(evaluated):
    out, _ = evaluated
    files = sorted((out / "samples").glob("*.png"))
    assert [f.name for f in files] == ["000-a_wide.png", "001-b_small_tall.png"]
    strip = np.asarray(Image.open(files[0]))
    # one row per hint count, then per stroke count: input | model | Levin | truth
    assert strip.shape == (256 * (len(COUNTS) + len(STROKES)), 256 * 4, 3)


def test_hints_depend_only_on_seed_photo_index_and_count(photo_dir):
    truth = protocol.load_photo(photo_dir / "a_wide.png")
    assert truth.shape == (256, 256, 3) and truth.dtype == np.uint8
    hints = protocol.hints_for(truth, 3, 0, 5)
    assert hints == protocol.hints_for(truth, 3, 0, 5)
    assert hints != protocol.hints_for(truth, 4, 0, 5)
    assert hints != protocol.hints_for(truth, 3, 1, 5)
    assert len(hints) == 5 and {h.size for h in hints} == {5}
    assert protocol.hints_for(truth, 3, 0, 0) == []


def test_same_seed_reproduces_the_command(evaluated, photo_dir, tiny_model_path, tmp_path):
    """A second run of the first photo alone (--limit 1) gives that photo's figures exactly."""
    out, _ = evaluated
    full = json.loads((out / "figures.json").read_text())
    rc = main(["evaluate", "--data", str(photo_dir), "--model", str(tiny_model_path),
               "--hints", ",".join(map(str, COUNTS)), "--json", str(tmp_path / "one.json"),
               "--strokes", ",".join(map(str, STROKES)),
               "--device", "cpu", "--seed", "3", "--limit", "1", "--quiet"])
    assert rc == 0
    one = json.loads((tmp_path / "one.json").read_text())
    assert one["per_photo"] == full["per_photo"][:1]


@pytest.mark.parametrize("bad", [["--hints", "1,x"], ["--hints", "-1"], ["--seed", "-2"],
                                 ["--limit", "0"], ["--workers", "0"], ["--strokes", "0"],
                                 ["--strokes", "two"], ["--protocol", "dots"],
                                 ["--protocol", ","]])
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


def test_square_figures_are_those_of_a_squares_only_run(evaluated, photo_dir, tiny_model_path,
                                                        tmp_path, capsys):
    """Adding the stroke and locality protocols changes nothing of the squares' results and
    JSON."""
    out, _ = evaluated
    both = json.loads((out / "figures.json").read_text())
    rc = main(["evaluate", "--data", str(photo_dir), "--model", str(tiny_model_path),
               "--hints", ",".join(map(str, COUNTS)), "--json", str(tmp_path / "sq.json"),
               "--device", "cpu", "--seed", "3", "--protocol", "squares", "--quiet"])
    assert rc == 1
    squares = json.loads((tmp_path / "sq.json").read_text())
    assert "strokes" not in squares and "strokes" not in squares["per_photo"][0]
    assert "locality" not in squares and "locality" not in squares["per_photo"][0]
    assert squares["results"] == both["results"]
    others = ("strokes", "locality")
    assert [{k: v for k, v in r.items() if k not in others} for r in both["per_photo"]] == (
        squares["per_photo"])
    assert "strokes" not in capsys.readouterr().out


def test_stroke_protocol_on_real_photos(tiny_model_path, capsys, tmp_path):
    """Strokes alone (--protocol strokes) on two of the bundled example photos: the model and
    Levin both take them, and more strokes give Levin more colour to spread."""
    data = tmp_path / "photos"
    data.mkdir()
    for name in ("kingfisher.png", "macaws.png"):
        (data / name).symlink_to(EXAMPLES / name)
    rc = main(["evaluate", "--data", str(data), "--model", str(tiny_model_path), "--device",
               "cpu", "--protocol", "strokes", "--strokes", "1,4", "--json",
               str(tmp_path / "s.json"), "--quiet"])
    assert rc == 0
    table = capsys.readouterr().out
    assert "brush strokes of length 32" in table and "hint squares" not in table
    doc = json.loads((tmp_path / "s.json").read_text())
    assert doc["hint_counts"] == [] and doc["photos"] == 2
    res = doc["strokes"]["results"]
    assert set(res) == {"model", "grey", "levin"} and set(res["levin"]) == {"1", "4"}
    assert res["levin"]["4"]["psnr"] > res["grey"]["1"]["psnr"]
    truth = protocol.load_photo(data / "macaws.png")
    strokes = protocol.strokes_for(truth, 0, 1, 4)
    assert strokes == protocol.strokes_for(truth, 0, 1, 4) != protocol.strokes_for(truth, 1, 1, 4)
    # width 3, narrower only where the start's dab would cover another colour
    assert len(strokes) == 4 and 3 in {s.width for s in strokes} <= {1, 2, 3}
    assert all(len(s.points) <= 33 for s in strokes) and any(len(s.points) > 10 for s in strokes)
    assert protocol.strokes_for(truth, 0, 1, 0) == []
    tiles = draw_hints(truth, strokes)  # drawn with an outline, like the squares
    assert tiles.shape == truth.shape and (tiles == 0).all(axis=-1).sum() > 20


def test_parse_counts():
    assert ev.parse_counts("5, 0,1,5") == [0, 1, 5]
    with pytest.raises(ValueError):
        ev.parse_counts("")
    with pytest.raises(ValueError, match="--strokes"):
        ev.parse_counts("0,2", "--strokes", least=1)
    assert ev.parse_protocols("strokes, squares") == ["squares", "strokes"]


@pytest.mark.slow
def test_workers_give_the_same_figures(photo_dir, tiny_model_path):
    colorizer = Colorizer.load(tiny_model_path, device="cpu")
    paths = sorted(photo_dir.iterdir())
    one = ev.evaluate(colorizer, paths, [0, 2], seed=1, progress=False, log=lambda s: None)
    two = ev.evaluate(colorizer, paths, [0, 2], seed=1, workers=2, progress=False,
                      log=lambda s: None)
    assert one.per_photo == two.per_photo and one.skipped == two.skipped


def test_evaluate_reports_locality(evaluated):
    """The default protocols include locality: its medians, and each photo's pair."""
    out, _ = evaluated
    doc = json.loads((out / "figures.json").read_text())
    loc = doc["locality"]
    assert loc["protocol"]["trials"] == protocol.LOCALITY_TRIALS
    assert set(loc["results"]) == {"near_change_median", "far_share_median",
                                   "near_change_mean", "far_share_mean"}
    assert all(len(row["locality"]) == 2 for row in doc["per_photo"])
    assert 0 <= loc["results"]["far_share_median"] <= 1
    assert loc["results"]["near_change_median"] >= 0


def test_locality_hint_is_a_colour_the_photo_does_not_have_there():
    truth = protocol.load_photo(EXAMPLES / "macaws.png")
    ab = rgb_to_lab(truth.astype(np.float32) / 255.0)[..., 1:].transpose(2, 0, 1)
    for trial in range(3):
        hint = protocol.locality_hint(truth, 0, 4, trial)
        assert hint == protocol.locality_hint(truth, 0, 4, trial)  # seeded
        x0, y0, x1, y1 = hint_box(hint, truth.shape[:2], truth.shape[:2])
        true = ab[:, y0:y1, x0:x1].reshape(2, -1).mean(axis=1)
        chroma = np.hypot(*hint.ab)
        assert chroma >= protocol.LOCALITY_MIN_CHROMA - 1e-6
        # the opposite hue: the cosine between the two colours is -1
        cos = float(np.dot(hint.ab, true) / (chroma * np.hypot(*true)))
        assert cos == pytest.approx(-1.0, abs=1e-4)
    assert protocol.locality_hint(truth, 1, 4, 0) != protocol.locality_hint(truth, 0, 4, 0)
    grey = np.full((256, 256, 3), 120, np.uint8)  # no hue to turn: a seeded one, chroma 30
    assert np.hypot(*protocol.locality_hint(grey, 0, 0, 0).ab) == pytest.approx(30.0, abs=1e-3)


def test_locality_measures_near_and_far_change():
    before = np.full((120, 150, 3), 128, np.uint8)
    hint = Hint(20, 30, 5, ab=(40.0, 0.0))
    local = before.copy()
    local[20:41, 10:31] = (200, 90, 110)  # a reddish patch around the hint only
    near, far = protocol.locality(before, local, hint)
    assert near > 20 and far == 0.0
    everywhere = np.zeros_like(before)
    everywhere[:] = (200, 90, 110)
    near, far = protocol.locality(before, everywhere, hint)
    assert near > 20 and far == 1.0
    # half of the far pixels (those right of column 75) moved
    half = before.copy()
    half[:, 75:] = (200, 90, 110)
    _, far = protocol.locality(before, half, hint)
    ys, xs = np.mgrid[0:120, 0:150]
    far_px = np.hypot(xs - 20, ys - 30) > np.hypot(120, 150) / 3
    assert far == pytest.approx((far_px & (xs >= 75)).sum() / far_px.sum())


@pytest.mark.filterwarnings("error::RuntimeWarning")
def test_locality_alone(tiny_model_path, tmp_path, capsys):
    data = tmp_path / "photos"
    data.mkdir()
    (data / "macaws.png").symlink_to(EXAMPLES / "macaws.png")
    rc = main(["evaluate", "--data", str(data), "--model", str(tiny_model_path), "--device",
               "cpu", "--protocol", "locality", "--json", str(tmp_path / "l.json")])
    assert rc == 0
    out = capsys.readouterr().out
    assert "locality, 3 one-hint edits" in out and "hint squares" not in out
    doc = json.loads((tmp_path / "l.json").read_text())
    assert doc["hint_counts"] == [] and len(doc["per_photo"][0]["locality"]) == 2
