"""The app's Qt-free parts: the session model, colour helpers, autosave store."""

from __future__ import annotations

import ast
from pathlib import Path

import numpy as np
import pytest
from conftest import gradient_photo

from colouru.colour import in_gamut
from colouru.gui.colours import (
    ab_to_rgb8,
    gamut_grid,
    lightness_to_grey,
    rgb8_to_ab,
    snap_to_gamut,
    suggest_colours,
)
from colouru.gui.recovery import RecoveryStore
from colouru.gui.session import Session
from colouru.hints import Hint, hint_box, load_hints

GUI = Path(__file__).resolve().parents[1] / "gui"
QT_FREE = {"__init__", "session", "colours", "recovery", "film_doc"}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            out.add(("." * node.level) + (node.module or ""))
    return out


def test_model_modules_import_neither_qt_nor_other_gui_modules():
    for name in QT_FREE:
        imports = _imports(GUI / f"{name}.py")
        assert not any(m.startswith("PySide6") for m in imports), name
        local = {m.lstrip(".") for m in imports if m.startswith(".")}
        assert local <= QT_FREE, (name, local)


def test_no_gui_module_imports_torch():
    for path in GUI.glob("*.py"):
        assert not any(m == "torch" or m.startswith("torch.") for m in _imports(path)), path.name


def photo_session(h=96, w=128, work=64) -> Session:
    s = Session(work_size=work)
    s.set_photo(None, gradient_photo(h, w).astype(np.float32) / 255)
    return s


def test_hint_size_is_counted_on_the_working_grid_and_stored_in_image_pixels():
    s = photo_session(96, 128, work=64)  # image pixels per working pixel: 2
    s.set_size(3)
    hint = s.new_hint(40, 30)
    assert hint.size == 6.0
    assert s.size_to_work(hint.size) == 3
    x0, y0, x1, y1 = hint_box(hint, s.image_hw, s.work_hw)
    assert (x1 - x0, y1 - y0) == (3, 3)
    fx0, fy0, fx1, fy1 = s.footprint(hint)  # the same cells, in image pixels
    assert (fx1 - fx0, fy1 - fy0) == (6.0, 6.0)
    assert fx0 <= 40 < fx1 and fy0 <= 30 < fy1
    s.set_size(20)
    assert s.size == 9
    s.set_size(0)
    assert s.size == 1


def test_hint_at_finds_the_topmost_hint_and_respects_tolerance():
    s = photo_session()
    a, b = s.new_hint(40, 30), s.new_hint(41, 30).with_ab((-40, 40))
    s.set_hints([a, b])
    assert s.hint_at(41, 31) == 1
    assert s.hint_at(90, 90) is None
    x0, _, x1, _ = s.footprint(b)
    assert s.hint_at(x1 + 1, 31) is None
    assert s.hint_at(x1 + 1, 31, tolerance=2) == 1


def test_selecting_a_hint_makes_its_colour_and_size_current():
    s = photo_session()
    s.set_size(5)
    h = s.new_hint(10, 10).with_ab((-30.5, 12.25))
    s.set_size(2)
    s.set_hints([h])
    heard = []
    s.subscribe(heard.append)
    s.select(0)
    assert s.current_ab == (-30.5, 12.25) and s.size == 5
    assert heard == ["selection"]
    s.select(7)
    assert s.selected is None


def test_point_lightness_is_the_mean_under_the_selected_hint():
    s = photo_session()
    h = s.new_hint(70, 50)
    s.set_hints([h], selected=0)
    x0, y0, x1, y1 = hint_box(h, s.image_hw, s.image_hw)
    assert s.point_lightness() == pytest.approx(s.photo.lightness[y0:y1, x0:x1].mean())
    s.select(None)
    s.set_focus(3, 4)
    assert s.point_lightness() == pytest.approx(s.photo.lightness[4, 3])


def test_recent_colours_are_most_recent_first_without_duplicates():
    s = Session()
    for ab in [(1, 2), (30, 40), (1.2, 2.1), (50, 60)]:
        s.add_recent(ab)
    assert s.recent == [(50, 60), (1.2, 2.1), (30, 40)]


def test_gamut_grid_blanks_colours_outside_srgb():
    rgb, ok = gamut_grid(50.0)
    assert rgb.shape == (111, 111, 3) and ok.shape == (111, 111)
    assert ok[55, 55]  # a = b = 0: grey exists at every lightness
    assert not ok[0, 0] and not ok[110, 110]  # the far corners do not
    assert 0.2 < ok.mean() < 0.8
    dark, _ = gamut_grid(5.0)
    assert gamut_grid(5.0)[1].sum() < ok.sum()
    assert dark.shape == rgb.shape


@pytest.mark.parametrize("lightness", [20.0, 50.0, 85.0])
def test_snap_to_gamut_keeps_hue_and_lands_in_gamut(lightness):
    a, b = snap_to_gamut(lightness, (100.0, -100.0))
    assert in_gamut(np.array([lightness, a, b], np.float32))
    assert a > 0 and b < 0 and a == pytest.approx(-b, abs=0.02)  # same hue angle
    assert np.hypot(a, b) > 5
    inside = (10.0, 10.0)
    assert snap_to_gamut(50.0, inside) == inside


def test_colour_conversions_round_trip():
    ab = rgb8_to_ab((200, 60, 40))
    assert ab[0] > 30  # red
    r, g, b = ab_to_rgb8(50.0, ab)
    assert r > g and r > b


def test_lightness_to_grey_is_monotonic_and_spans_black_to_white():
    grey = lightness_to_grey(np.linspace(0, 100, 50, dtype=np.float32)[None])
    assert grey[0, 0] == 0 and grey[0, -1] == 255
    assert np.all(np.diff(grey[0].astype(int)) >= 0)


def test_lightness_to_grey_in_bands_equals_the_whole_and_a_photo_can_come_as_its_lightness():
    rng = np.random.default_rng(1)
    lightness = (rng.random((37, 23)) * 110 - 5).astype(np.float32)  # a little out of range
    whole = lightness_to_grey(lightness, band_pixels=10**9)
    np.testing.assert_array_equal(lightness_to_grey(lightness, band_pixels=50), whole)
    s = Session()
    s.set_photo(None, lightness=lightness, colour=True)
    assert s.photo.lightness is lightness and s.photo.colour and s.image_hw == (37, 23)
    s.set_photo(None, gradient_photo(8, 9)[..., 0])
    assert not s.photo.colour and s.photo.lightness.shape == (8, 9)


def test_photo_tone_tells_grey_toned_and_colour_photos_apart():
    from colouru.gui.colours import photo_tone

    colour = gradient_photo(60, 80)
    grey = colour.mean(axis=2).astype(np.uint8)
    assert photo_tone(grey) == "grey" and photo_tone(np.dstack([grey] * 3)) == "grey"
    sepia = np.clip(np.dstack([grey * 1.0, grey * 0.85, grey * 0.65]), 0, 255).astype(np.uint8)
    assert photo_tone(sepia) == "toned" and photo_tone(sepia.astype(np.float32) / 255) == "toned"
    assert photo_tone(colour) == "colour"


def test_suggestions_start_with_the_prediction_at_the_point():
    ab = np.zeros((2, 40, 40), np.float32)
    ab[0], ab[1] = 30.0, 20.0  # the model paints everything one colour ...
    ab[:, 10:20, 10:20] = np.array([-40.0, 35.0])[:, None, None]  # ... except one patch
    out = suggest_colours(ab, (12, 12, 15, 15), window=8)
    assert out[0] == (-40.0, 35.0)
    assert (30.0, 20.0) in out  # the other colour nearby is offered too
    assert len(out) == len(set(out))


def test_recovery_store_round_trip_and_discard(tmp_path):
    photo = tmp_path / "p.png"
    photo.write_bytes(b"x")
    store = RecoveryStore(tmp_path / "rec")
    assert store.load(photo) is None and store.pending() == []
    hints = [Hint(3, 4, 5.5, ab=(10.25, -3.5)), Hint(1, 2, 1, ab=(0, 0))]
    path = store.save(photo, hints, (64, 48))
    assert load_hints(path) == hints  # an ordinary hints file
    assert store.load(photo) == hints
    assert store.pending() == [photo.resolve()]
    store.discard(photo)
    assert store.load(photo) is None and store.pending() == []


# --- issue 17: strokes and saturation --------------------------------------------------------
def test_a_stroke_is_an_item_beside_the_hints_found_along_its_brush():
    from colouru.hints import Stroke

    s = photo_session(96, 128, work=64)  # 2 image pixels per working pixel
    s.set_brush(5)
    s.set_current_ab((-20.0, 30.0))
    stroke = s.new_stroke([(10, 20), (60, 20), (60, 70)])
    assert stroke.width == 10.0 and stroke.ab == (-20.0, 30.0)
    hint = s.new_hint(100, 80)
    s.set_hints([stroke, hint])
    assert s.strokes == (stroke,) and s.hints == (stroke, hint)
    # pixel (x, y) spans [x, x + 1) in the scene: the stroke's points are pixel centres
    assert s.item_at(35.5, 20.5) == 0  # on the first segment
    assert s.item_at(35.5, 24.9) == 0  # within half the width (5)
    assert s.item_at(35.5, 26.5) is None
    assert s.item_at(35.5, 26.5, tolerance=2) == 0
    assert s.item_at(30.5, 60.5) is None  # inside the corner's box, far from the polyline
    assert s.item_at(60.5, 50.5) == 0 and s.item_at(100.5, 80.5) == 1
    assert s.footprint(stroke) == stroke.bounds() and s.on_photo(stroke)
    assert not s.on_photo(Stroke([(500, 500)], 4, ab=(1, 1)))

    s.set_brush(2)
    s.set_size(7)
    heard = []
    s.subscribe(heard.append)
    s.select(0)  # its colour and width become the current ones; the hint size stays
    assert heard == ["selection"]
    assert s.selected_stroke == stroke and s.selected_hint is None
    assert s.brush == 5 and s.size == 7 and s.current_ab == (-20.0, 30.0)
    along = np.mean([s.photo.lightness[int(y), int(x)] for x, y in stroke.points])
    assert s.point_lightness() == pytest.approx(along)
    x0, y0, x1, y1 = s.probe_box_work()  # a square on the stroke's middle point
    assert x0 <= 30 < x1 and y0 <= 10 < y1
    s.select(1)
    assert s.selected_hint == hint and s.brush == 5


def test_stroke_points_are_clamped_to_the_photo_and_the_brush_width_to_its_range():
    from colouru.gui.session import MAX_BRUSH, MIN_BRUSH

    s = photo_session(96, 128, work=64)
    assert s.stroke_point(10.77, 20.2) == (10.3, 19.7)  # pixel centres at integers
    assert s.stroke_point(-5, 500) == (0.0, 95.0)
    s.set_brush(10_000)
    assert s.brush == MAX_BRUSH
    s.set_brush(-3)
    assert s.brush == MIN_BRUSH
    assert s.brush_to_work(s.brush_to_image(17)) == 17


def test_simplify_polyline_keeps_corners_and_drops_points_on_a_line():
    from colouru.gui.session import simplify_polyline, stroke_distance
    from colouru.hints import Stroke

    line = [(float(i), 0.5 * i) for i in range(1000)]
    assert simplify_polyline(line, 0.25) == (line[0], line[-1])
    corner = [(float(i), 0.0) for i in range(50)] + [(49.0, float(j)) for j in range(1, 50)]
    assert simplify_polyline(corner, 0.25) == ((0.0, 0.0), (49.0, 0.0), (49.0, 49.0))
    rng = np.random.default_rng(0)
    wobble = np.cumsum(rng.normal(size=(400, 2)), axis=0)
    kept = simplify_polyline([tuple(p) for p in wobble], 1.0)
    assert 2 < len(kept) < 400
    simple = Stroke(kept, 2, ab=(0, 0))
    assert max(stroke_distance(simple, x, y) for x, y in wobble) <= 1.0 + 1e-9
    assert simplify_polyline([(1, 2)], 1.0) == ((1, 2),)


def test_saturation_is_clamped_and_a_new_photo_starts_at_one():
    from colouru.hints import SATURATION_RANGE

    s = photo_session()
    heard = []
    s.subscribe(heard.append)
    s.set_saturation(1.534)
    assert s.saturation == 1.53 and heard == ["saturation"]
    s.set_saturation(99)
    assert s.saturation == SATURATION_RANGE[1]
    s.set_saturation(-1)
    assert s.saturation == SATURATION_RANGE[0]
    s.set_photo(None, gradient_photo(8, 9))
    assert s.saturation == 1.0


def test_the_tool_is_session_state():
    from colouru.gui.session import Tool

    s = Session()
    heard = []
    s.subscribe(heard.append)
    assert s.tool is Tool.HINT
    s.set_tool("brush")
    assert s.tool is Tool.BRUSH and heard == ["tool"]


def test_recovery_keeps_strokes_and_saturation(tmp_path):
    from colouru.hints import Stroke, load_hints_doc

    photo = tmp_path / "p.png"
    photo.write_bytes(b"x")
    store = RecoveryStore(tmp_path / "rec")
    items = [Hint(3, 4, 5.5, ab=(10.25, -3.5)), Stroke([(1, 2), (30.5, 40)], 6, ab=(-5, 7))]
    path = store.save(photo, items, (64, 48), saturation=1.5)
    doc = load_hints_doc(path)  # an ordinary hints file (version 2: it has a stroke)
    assert doc.hints == items and doc.saturation == 1.5 and doc.image_size == (64, 48)
    assert store.load(photo) == items and store.load_doc(photo).saturation == 1.5


# --- the recovery folder never stops the app (issue 27) -------------------------------------------
def test_recovery_of_a_photo_whose_name_is_not_utf8(tmp_path):
    """Its key and marker are the file system's bytes: saved, offered and loaded back."""
    import os

    photo = tmp_path / os.fsdecode(b"caf\xe9 \xff.png")
    photo.write_bytes(b"x")
    store = RecoveryStore(tmp_path / "rec")
    hints = [Hint(3, 4, 5, ab=(10, -3))]
    store.save(photo, hints, (64, 48))
    assert store.pending() == [photo.resolve()] and store.load(photo) == hints
    (marker,) = (tmp_path / "rec").glob("*.photo")
    assert marker.read_bytes() == os.fsencode(photo.resolve()) + b"\n"
    store.discard(photo)
    assert store.pending() == [] and store.load(photo) is None


def test_what_is_not_a_marker_of_ours_is_passed_over(tmp_path):
    """A marker of bytes that are not UTF-8 (naming nothing), one of 5 MB, a FIFO (reading
    it would block the start), a folder, one with a NUL: none stops ``pending``; a good one
    among them is still offered."""
    import os

    rec = tmp_path / "rec"
    store = RecoveryStore(rec)
    photo = tmp_path / "p.png"
    photo.write_bytes(b"x")
    store.save(photo, [Hint(1, 2, 3, ab=(4, 5))], (8, 8))
    for name, data in [("latin", b"/no/caf\xe9.png\n"), ("huge", b"/" + b"a" * 5_000_000),
                       ("long", b"/" + b"a/" * 3000 + b"x.png"), ("nul", b"/tmp/a\0b.png\n")]:
        (rec / f"{name}.photo").write_bytes(data)
        (rec / f"{name}.json").write_bytes(b'{"version": 1, "hints": []}')
    os.mkfifo(rec / "fifo.photo")
    (rec / "fifo.json").write_bytes(b'{"version": 1, "hints": []}')
    (rec / "dir.photo").mkdir()
    assert store.pending() == [photo.resolve()]
