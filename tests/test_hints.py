"""Hints and strokes: the records, the JSON file format (version 1; version 2 with strokes;
the saturation beside them) and its refusals, and rasterizing."""

from __future__ import annotations

import json
import os

import cv2
import numpy as np
import pytest
from skimage import color

from colouru import Hint, HintsFileError, load_hints, save_hints
from colouru import hints as hints_module
from colouru import rasterize as rasterize_module
from colouru.hints import (
    MAX_FILE_ITEMS,
    MAX_HINTS_BYTES,
    MAX_STROKE_POINTS,
    SATURATION_RANGE,
    HintsDoc,
    Stroke,
    hint_box,
    hints_from_json,
    hints_to_json,
    load_hints_doc,
    read_hints_doc,
)
from colouru.rasterize import NEUTRAL_HINT_A, rasterize_hints, stroke_mask


# --- the record ------------------------------------------------------------------------------
def test_hint_from_ab_and_from_rgb():
    h = Hint(120, 80, 5, ab=(20.5, -31))
    assert (h.x, h.y, h.size, h.ab) == (120.0, 80.0, 5.0, (20.5, -31.0))
    r = Hint(1, 2, 3, rgb="#c03020")
    ref = color.rgb2lab(np.array([0xC0, 0x30, 0x20]) / 255.0)
    np.testing.assert_allclose(r.ab, ref[1:], atol=2e-3)
    # The colour's own lightness is dropped: only ab is kept.
    assert len(r.ab) == 2 and Hint(1, 2, 3, rgb="C03020") == r  # '#' optional, any case


@pytest.mark.parametrize("kwargs,match", [
    (dict(x=1, y=1, size=3), "exactly one"),
    (dict(x=1, y=1, size=3, ab=(1, 2), rgb="#ffffff"), "exactly one"),
    (dict(x=1, y=1, size=0, ab=(1, 2)), "positive"),
    (dict(x=1, y=1, size=-2, ab=(1, 2)), "positive"),
    (dict(x=float("nan"), y=1, size=3, ab=(1, 2)), "finite"),
    (dict(x=1, y=float("inf"), size=3, ab=(1, 2)), "finite"),
    (dict(x=1, y=1, size=3, ab=(200, 0)), "-128..128"),
    (dict(x="1", y=1, size=3, ab=(1, 2)), "numbers"),
    (dict(x=True, y=1, size=3, ab=(1, 2)), "numbers"),
    (dict(x=1, y=1, size=3, ab=(1, 2, 3)), "numbers"),
    (dict(x=1, y=1, size=3, ab="12"), "numbers"),
    (dict(x=1, y=1, size=3, rgb="#12345"), "#rrggbb"),
    (dict(x=1, y=1, size=3, rgb=0xC03020), "string"),
])
def test_hint_rejects_bad_values(kwargs, match):
    with pytest.raises(ValueError, match=match):
        Hint(**kwargs)


def test_hint_is_immutable_and_edits_make_copies():
    h = Hint(10, 20, 5, ab=(1, 2))
    with pytest.raises(AttributeError):
        h.x = 3  # type: ignore[misc]
    assert h.moved(11, 21) == Hint(11, 21, 5, ab=(1, 2))
    assert h.with_ab((3, 4)).ab == (3.0, 4.0) and h.with_size(7).size == 7.0
    assert h.ab == (1.0, 2.0)


# --- JSON ------------------------------------------------------------------------------------
def test_json_round_trip_ab_and_rgb(tmp_path):
    hints = [Hint(120, 80, 5, ab=(20.5, -31)), Hint(0.5, 7.25, 1, rgb="#c03020"),
             Hint(3, 4, 9, ab=(0, 0))]
    path = tmp_path / "hints.json"
    save_hints(path, hints, image_size=(640, 480))
    doc = json.loads(path.read_text())
    assert doc["version"] == 1 and doc["image"] == {"width": 640, "height": 480}
    assert doc["hints"][0] == {"x": 120, "y": 80, "size": 5, "ab": [20.5, -31]}
    back = load_hints(path)
    assert back[0] == hints[0] and back[2] == hints[2]
    assert back[1].x == 0.5 and back[1].y == 7.25
    np.testing.assert_allclose(back[1].ab, hints[1].ab, atol=1e-3)  # ab written to 3 decimals
    assert not list(tmp_path.glob(".*"))  # written through a temporary file, nothing left


def test_rgb_form_is_read():
    text = '{"version": 1, "hints": [{"x": 1, "y": 2, "size": 3, "rgb": "#c03020"}]}'
    assert hints_from_json(text) == [Hint(1, 2, 3, rgb="#c03020")]


def test_empty_hint_list_and_byte_order_mark(tmp_path):
    p = tmp_path / "bom.json"
    p.write_bytes(b"\xef\xbb\xbf" + hints_to_json([Hint(1, 1, 1, ab=(1, 1))]).encode())
    assert len(load_hints(p)) == 1
    assert hints_from_json('{"version": 1, "hints": []}') == []


_GOOD = {"x": 10, "y": 20, "size": 5, "ab": [1.5, -2]}


def _doc(**hint):
    return json.dumps({"version": 1, "hints": [{**_GOOD, **hint}]})


def _without(key):
    return json.dumps({"version": 1, "hints": [{k: v for k, v in _GOOD.items() if k != key}]})


BAD_FILES = {
    "wrong version": ('{"version": 3, "hints": []}', "version 3"),
    "version as text": ('{"version": "1", "hints": []}', "version '1'"),
    "version true": ('{"version": true, "hints": []}', "version True"),
    "no version": ('{"hints": []}', "version None"),
    "not JSON": ("version: 1\nhints: []\n", "not valid JSON"),
    "empty": ("", "not valid JSON"),
    "truncated": (_doc()[:-5], "not valid JSON"),
    "a list": ("[]", "JSON object"),
    "hints not a list": ('{"version": 1, "hints": {}}', "must be a list"),
    "hint not an object": ('{"version": 1, "hints": [[1, 2, 3]]}', "hint 0 must be an object"),
    "missing x": (_without("x"), r"missing \['x'\]"),
    "missing size": (_without("size"), r"missing \['size'\]"),
    "missing colour": (_without("ab"), "exactly one of 'ab' or 'rgb'"),
    "both ab and rgb": (_doc(rgb="#ffffff"), "exactly one of 'ab' or 'rgb'"),
    "unknown key": (_doc(colour="red"), "unknown keys"),
    "NaN": (_doc(x=float("nan")), "finite"),
    "Infinity": (_doc(y=float("inf")), "finite"),
    "negative size": (_doc(size=-5), "positive"),
    "zero size": (_doc(size=0), "positive"),
    "bool size": (_doc(size=True), "must be numbers"),
    "bool in ab": (_doc(ab=[True, 3]), "must be numbers"),
    "number as text": (_doc(x="10"), "must be numbers"),
    "ab of three": (_doc(ab=[1, 2, 3]), r"list \[a, b\]"),
    "ab not a list": (_doc(ab="1,2"), r"list \[a, b\]"),
    "ab out of range": (_doc(ab=[500, 0]), "-128..128"),
    "bad rgb": (_doc(ab=None, rgb="red"), "#rrggbb"),
    "rgb not text": (json.dumps({"version": 1, "hints": [
        {"x": 1, "y": 1, "size": 1, "rgb": 12599328}]}), "must be a string"),
    "huge number": ('{"version": 1, "hints": [{"x": 1' + "0" * 400
                    + ', "y": 1, "size": 1, "ab": [0, 0]}]}', "numbers expected"),
    # finite, but larger than any photo: refused at load, not per photo later (issue 27)
    "square larger than any photo": (_doc(size=1e300), "size must be at most 2147483648 pixels"),
    "x far off any photo": (_doc(x=-1e308), "x must lie between -2147483648 and 2147483648"),
    "bad image block": ('{"version": 1, "image": {"width": -4, "height": 3}, "hints": []}',
                        "'image'"),
    # json.loads raises RecursionError for deep nesting, ValueError past Python's 4,300 digits.
    "deeply nested": ("[" * 100_000, "nested too deeply"),
    "nested deep inside": ('{"version": 1, "hints": ' + "[" * 5000 + "]" * 5000 + "}",
                           "nested too deeply"),
    "5,000-digit number": ('{"version": 1, "hints": [{"x": ' + "7" * 5000
                           + ', "y": 1, "size": 1, "ab": [0, 0]}]}', "too many digits"),
}


@pytest.mark.parametrize("name", list(BAD_FILES))
def test_bad_files_are_refused_with_one_line_naming_the_file(tmp_path, name):
    text, match = BAD_FILES[name]
    path = tmp_path / "my hints.json"
    path.write_text(text.replace('"ab": null, ', ""))
    with pytest.raises(HintsFileError, match=match) as e:
        load_hints(path)
    msg = str(e.value)
    assert msg.startswith(str(path) + ":") and "\n" not in msg and len(msg) < 300


def test_unreadable_files(tmp_path):
    binary = tmp_path / "binary.json"
    binary.write_bytes(b"\xff\xfe\x00garbage\x80")
    missing = tmp_path / "missing.json"
    for path, match in [(binary, "cannot read"), (missing, "cannot read"),
                        (tmp_path, "cannot read")]:
        with pytest.raises(HintsFileError, match=match) as e:
            load_hints(path)
        assert str(e.value).startswith(str(path)) and "\n" not in str(e.value)


def test_a_device_is_refused_and_a_huge_file_is_not_read_whole(tmp_path):
    """/dev/zero never ends: refused at once. A pipe or a file is read only up to the limit."""
    with pytest.raises(HintsFileError, match="not a regular file") as e:
        load_hints("/dev/zero")
    assert str(e.value).startswith("/dev/zero:")
    big = tmp_path / "big.json"
    with open(big, "wb") as f:
        f.truncate(MAX_HINTS_BYTES + 1)  # sparse: no disk space used
    with pytest.raises(HintsFileError, match="larger than") as e:
        load_hints(big)
    assert str(e.value).startswith(str(big)) and "\n" not in str(e.value)


def test_a_pipe_is_read(tmp_path):
    """``--hints <(make-hints)`` hands over a pipe: it is read like a file."""
    r, w = os.pipe()
    os.write(w, hints_to_json([Hint(1, 2, 3, ab=(4, 5))]).encode())
    os.close(w)
    try:
        assert load_hints(f"/dev/fd/{r}") == [Hint(1, 2, 3, ab=(4, 5))]
    finally:
        os.close(r)


def test_hints_file_error_is_a_value_error():
    assert issubclass(HintsFileError, ValueError)


# --- rasterizing ---------------------------------------------------------------------------
def test_rasterize_at_full_resolution_is_exact():
    hints = [Hint(10, 20, 1, ab=(5, 6)), Hint(30, 5, 5, ab=(-7, 8))]
    ab, mask = rasterize_hints(hints, (40, 50))
    assert ab.shape == (2, 40, 50) and ab.dtype == np.float32 and mask.dtype == bool
    assert mask.sum() == 1 + 25
    assert mask[20, 10] and tuple(ab[:, 20, 10]) == (5, 6)
    assert mask[3:8, 28:33].all() and (ab[:, 3:8, 28:33] == np.array([-7, 8])[:, None, None]).all()
    assert (ab[:, ~mask] == 0).all()


def test_hint_box_geometry():
    # Odd sides are centred on the pixel; boxes are end-exclusive.
    assert hint_box(Hint(10, 10, 1, ab=(0, 0)), (100, 100), (100, 100)) == (10, 10, 11, 11)
    assert hint_box(Hint(10, 10, 5, ab=(0, 0)), (100, 100), (100, 100)) == (8, 8, 13, 13)
    # Clipped at the borders, and None when entirely outside.
    assert hint_box(Hint(0, 99, 9, ab=(0, 0)), (100, 100), (100, 100)) == (0, 95, 5, 100)
    assert hint_box(Hint(-20, 5, 5, ab=(0, 0)), (100, 100), (100, 100)) is None
    assert hint_box(Hint(5, 140, 5, ab=(0, 0)), (100, 100), (100, 100)) is None


@pytest.mark.parametrize("work_hw", [(480, 640), (192, 256), (75, 100), (33, 44), (8, 11),
                                     (1, 1)])
def test_rasterize_at_working_sizes(work_hw):
    image_hw = (480, 640)
    rng = np.random.default_rng(work_hw[0])
    hints = [Hint(x, y, s, ab=(float(i + 1), -float(i + 1)))
             for i, (x, y, s) in enumerate(zip(rng.integers(0, 640, 40), rng.integers(0, 480, 40),
                                               rng.integers(1, 10, 40), strict=True))]
    hints += [Hint(0, 0, 1, ab=(50, 50)), Hint(639, 479, 1, ab=(60, 60))]  # the corners
    ab, mask = rasterize_hints(hints, image_hw, work_hw)
    assert ab.shape == (2, *work_hw) and mask.shape == work_hw
    sy, sx = work_hw[0] / image_hw[0], work_hw[1] / image_hw[1]
    for h in hints:
        x0, y0, x1, y1 = hint_box(h, image_hw, work_hw)
        assert x1 > x0 and y1 > y0  # at least one pixel, always
        # The working pixel under the hint's centre is covered ...
        cx, cy = (h.x + 0.5) * sx, (h.y + 0.5) * sy
        assert x0 <= int(cx) < x1 and y0 <= int(cy) < y1
        # ... and unless clipped at a border, the box is the hint's side at working scale
        # (at least 1) and centred within one working pixel.
        if 0 < x0 and x1 < work_hw[1]:
            assert x1 - x0 == max(1, round(h.size * sx)) and abs((x0 + x1) / 2 - cx) <= 1.0
        if 0 < y0 and y1 < work_hw[0]:
            assert y1 - y0 == max(1, round(h.size * sy)) and abs((y0 + y1) / 2 - cy) <= 1.0
    # Every hint is drawn; later hints draw over earlier ones.
    last = hints[-1]
    x0, y0, x1, y1 = hint_box(last, image_hw, work_hw)
    assert tuple(ab[:, y0, x0]) == last.ab and mask[y0:y1, x0:x1].all()
    assert (ab[:, ~mask] == 0).all() and mask.sum() >= 1


def test_rasterize_later_hints_win_and_outside_hints_are_ignored():
    hints = [Hint(10, 10, 9, ab=(1, 1)), Hint(10, 10, 3, ab=(2, 2)), Hint(500, 500, 9, ab=(9, 9))]
    ab, mask = rasterize_hints(hints, (40, 40))
    assert tuple(ab[:, 10, 10]) == (2, 2) and tuple(ab[:, 6, 6]) == (1, 1)
    assert mask.sum() == 81
    ab, mask = rasterize_hints([], (40, 40), (10, 10))
    assert not mask.any() and not ab.any()


def test_a_neutral_hint_still_marks_the_network_input():
    # "This is grey" is a real hint: the input marks hints by non-zero ab, so a = b = 0 is
    # drawn as an invisible a = NEUTRAL_HINT_A, and the edge-aware spread sees it.
    import torch

    from colouru.inputs import make_input
    from colouru.propagation import edge_aware_hints

    ab, mask = rasterize_hints([Hint(10, 10, 3, ab=(0.0, 0.0))], (20, 30))
    assert mask.sum() == 9 and np.all(ab[0][mask] == NEUTRAL_HINT_A) and np.all(ab[1] == 0)
    x = make_input(torch.full((1, 1, 20, 30), 50.0), torch.from_numpy(ab)[None])
    [(colour, confidence)] = edge_aware_hints(x, (0.35,))
    assert confidence[0, 0, 15, 25] > 0.5 and colour.abs().max() < 1e-3


# --- strokes: the record -------------------------------------------------------------------------
def test_stroke_from_ab_and_from_rgb():
    s = Stroke([[1, 2], (3.5, 4)], 6, ab=(20, -30.5))
    assert s.points == ((1.0, 2.0), (3.5, 4.0)) and s.width == 6.0 and s.ab == (20.0, -30.5)
    assert Stroke([(1, 2)], 3, rgb="#c03020").ab == Hint(0, 0, 1, rgb="#c03020").ab
    assert s.to_dict() == {"stroke": [[1, 2], [3.5, 4]], "width": 6, "ab": [20, -30.5]}


def test_stroke_is_immutable_and_edits_make_copies():
    s = Stroke([(10, 20), (30, 40)], 4, ab=(1, 2))
    with pytest.raises(AttributeError):
        s.width = 3  # type: ignore[misc]
    assert s.moved(1, -2) == Stroke([(11, 18), (31, 38)], 4, ab=(1, 2))
    assert s.with_ab((3, 4)).ab == (3.0, 4.0) and s.with_width(9).width == 9.0
    assert s == Stroke([(10, 20), (30, 40)], 4, ab=(1, 2))  # unchanged
    assert s.bounds() == (8, 18, 33, 43)  # half the width around the points (end-exclusive)


@pytest.mark.parametrize("kwargs,match", [
    (dict(points=[(1, 1)], width=3), "exactly one"),
    (dict(points=[(1, 1)], width=3, ab=(1, 2), rgb="#ffffff"), "exactly one"),
    (dict(points=[], width=3, ab=(1, 2)), "at least one point"),
    (dict(points=[(1, 1)], width=0, ab=(1, 2)), "positive"),
    (dict(points=[(1, 1)], width=-4, ab=(1, 2)), "positive"),
    (dict(points=[(1, float("nan"))], width=3, ab=(1, 2)), "finite"),
    (dict(points=[(float("inf"), 1)], width=3, ab=(1, 2)), "finite"),
    (dict(points=[(1, 1)], width=float("inf"), ab=(1, 2)), "finite"),
    (dict(points=[(1, 1)], width=3, ab=(0, -300)), "-128..128"),
    (dict(points=[(1, 1, 1)], width=3, ab=(1, 2)), "numbers expected"),
    (dict(points=[("1", 1)], width=3, ab=(1, 2)), "numbers expected"),
    (dict(points=[(True, 1)], width=3, ab=(1, 2)), "numbers expected"),
    (dict(points=5, width=3, ab=(1, 2)), "numbers expected"),
    (dict(points=[(1, 1)], width="3", ab=(1, 2)), "numbers expected"),
    (dict(points=[(1, 1)], width=3, ab=(1, 2, 3)), "numbers expected"),
    (dict(points=[(1, 1)], width=3, rgb="#12345"), "#rrggbb"),
    (dict(points=[(1, 1)], width=3, rgb=0xC03020), "string"),
    (dict(points=[(1, 1)] * (MAX_STROKE_POINTS + 1), width=3, ab=(1, 2)), "at most"),
])
def test_stroke_rejects_bad_values_in_one_line(kwargs, match):
    with pytest.raises(ValueError, match=match) as e:
        Stroke(**kwargs)
    assert "\n" not in str(e.value) and len(str(e.value)) < 200


# --- strokes: rasterizing -------------------------------------------------------------------------
def _covered(points, width, image_hw, out_hw):
    """Brute force: the grid pixels whose centre lies within the brush (half the width, at
    least half a pixel) of the polyline, and those under its points, in the grid's pixels."""
    (ih, iw), (oh, ow) = image_hw, out_hw
    sx, sy = ow / iw, oh / ih
    r = max(width * min(sx, sy) / 2, 0.5)
    yy, xx = np.mgrid[0:oh, 0:ow] + 0.5
    pts = [((x + 0.5) * sx, (y + 0.5) * sy) for x, y in points]
    near = np.zeros(out_hw, bool)
    for p, q in zip(pts, pts[1:] or pts, strict=False):
        d = np.subtract(q, p)
        n2 = float(d @ d)
        t = 0 if n2 == 0 else np.clip(((xx - p[0]) * d[0] + (yy - p[1]) * d[1]) / n2, 0, 1)
        near |= (xx - p[0] - t * d[0]) ** 2 + (yy - p[1] - t * d[1]) ** 2 <= r * r
    for x, y in pts:
        if 0 <= x < ow and 0 <= y < oh:
            near[int(y), int(x)] = True
    return near


def test_a_stroke_covers_the_pixels_within_half_its_width():
    stroke = Stroke([(10, 20), (30, 20), (30, 35)], 5, ab=(40, -20))
    ab, mask = rasterize_hints([stroke], (40, 50))
    np.testing.assert_array_equal(mask, _covered(stroke.points, 5, (40, 50), (40, 50)))
    # a band 5 pixels high along the first segment, and 5 wide down the second
    assert mask[18:23, 10:31].all() and not mask[17, 15] and not mask[23, 15]
    assert mask[20:36, 28:33].all() and not mask[25, 27] and not mask[25, 33]
    assert (ab[:, mask] == np.array([[40], [-20]])).all() and not ab[:, ~mask].any()


@pytest.mark.parametrize("out_hw", [(480, 640), (192, 256), (75, 100), (33, 44), (8, 11)])
def test_a_stroke_is_an_unbroken_line_at_every_grid_size(out_hw):
    image_hw = (480, 640)
    # a thin wavy stroke: at small grids it is far under a pixel wide
    xs = np.linspace(20, 620, 60)
    points = [(float(x), float(240 + 150 * np.sin(x / 90))) for x in xs]
    stroke = Stroke(points, 2, ab=(30, 30))
    _, mask = rasterize_hints([stroke], image_hw, out_hw)
    np.testing.assert_array_equal(mask, _covered(points, 2, image_hw, out_hw))
    count, _ = cv2.connectedComponents(mask.astype(np.uint8), connectivity=8)
    assert count == 2  # the background and one line
    sx, sy = out_hw[1] / image_hw[1], out_hw[0] / image_hw[0]
    for x, y in points:  # the pixel under every point is covered
        assert mask[int((y + 0.5) * sy), int((x + 0.5) * sx)]
    if out_hw[0] >= 75:  # and it is thin: a line, not a blob
        assert mask.sum() < 0.1 * mask.size


@pytest.mark.parametrize("out_hw", [(40, 50), (20, 25), (4, 5)])
def test_a_one_point_stroke_is_a_round_dab(out_hw):
    dab = Stroke([(20, 17)], 9, ab=(-10, 50))
    ab, mask = rasterize_hints([dab], (40, 50), out_hw)
    np.testing.assert_array_equal(mask, _covered(dab.points, 9, (40, 50), out_hw))
    assert mask.any()
    if out_hw == (40, 50):
        assert mask.sum() == 69  # the pixel centres within 4.5 of (20.5, 17.5)
        assert mask[17, 16:25].all() and mask[13:22, 20].all()  # 9 across and down
        assert not mask[13, 16] and not mask[21, 24]  # the corners are off: round
        ys, xs = np.nonzero(mask)
        assert (ys.mean(), xs.mean()) == (17, 20)  # centred on the point
    assert (ab[:, mask] == np.array([[-10], [50]])).all()


def test_a_stroke_outside_the_image_draws_nothing_and_one_across_the_edge_is_clipped():
    outside = [Stroke([(-50, -50), (-20, -30)], 4, ab=(5, 5)),
               Stroke([(60, 10), (90, 30)], 6, ab=(5, 5)),  # right of a 50-wide image
               Stroke([(25, 45)], 3, ab=(5, 5))]  # below it
    for s in outside:
        assert stroke_mask(s, (40, 50), (40, 50)) is None
        assert stroke_mask(s, (40, 50), (10, 12)) is None
    ab, mask = rasterize_hints(outside, (40, 50))
    assert not mask.any() and not ab.any()
    across = Stroke([(-10, 20), (60, 20)], 3, ab=(5, 5))  # across the whole photo
    _, mask = rasterize_hints([across], (40, 50))
    assert mask[19:22].all() and mask.sum() == 3 * 50


def test_later_items_draw_over_earlier_ones_squares_and_strokes_alike():
    square = Hint(20, 20, 9, ab=(10, 10))
    stroke = Stroke([(5, 20), (35, 20)], 3, ab=(-30, 40))
    ab, mask = rasterize_hints([square, stroke], (40, 40))
    assert tuple(ab[:, 20, 20]) == (-30, 40) and tuple(ab[:, 17, 20]) == (10, 10)
    assert tuple(ab[:, 20, 8]) == (-30, 40)
    ab2, mask2 = rasterize_hints([stroke, square], (40, 40))
    assert tuple(ab2[:, 20, 20]) == (10, 10) and tuple(ab2[:, 20, 8]) == (-30, 40)
    np.testing.assert_array_equal(mask, mask2)  # the same pixels are hints either way
    crossing = Stroke([(20, 5), (20, 35)], 1, ab=(7, -7))
    ab3, _ = rasterize_hints([stroke, crossing], (40, 40))
    assert tuple(ab3[:, 20, 20]) == (7, -7) and tuple(ab3[:, 20, 10]) == (-30, 40)


def test_a_neutral_stroke_still_marks_the_network_input():
    ab, mask = rasterize_hints([Stroke([(5, 5), (15, 5)], 3, ab=(0, 0))], (20, 30))
    assert mask.sum() > 0 and np.all(ab[0][mask] == NEUTRAL_HINT_A) and not ab[1].any()


# --- version 2 files: strokes, and the saturation -------------------------------------------------
def test_without_strokes_version_1_is_written_and_read():
    text = hints_to_json([Hint(1, 2, 3, ab=(4, 5))])
    assert json.loads(text)["version"] == 1 and "saturation" not in json.loads(text)
    v1 = '{"version": 1, "image": {"width": 64, "height": 48}, "hints": [' \
         '{"x": 1, "y": 2, "size": 3, "ab": [4, 5]}, {"x": 6, "y": 7, "size": 1, "rgb": ' \
         '"#ffffff"}]}'
    doc = read_hints_doc(v1)
    assert doc == HintsDoc([Hint(1, 2, 3, ab=(4, 5)), Hint(6, 7, 1, rgb="#ffffff")], 1.0,
                           (64, 48))
    assert hints_from_json(v1) == doc.hints


def test_strokes_round_trip_through_a_version_2_file(tmp_path):
    items = [Hint(120, 80, 5, ab=(20.5, -31)),
             Stroke([(10, 10), (20.5, 12.25), (40, 30)], 6, ab=(-40, 45)),
             Stroke([(3, 4)], 1.5, rgb="#2040ff"),
             Hint(3, 4, 9, ab=(0, 0))]
    path = tmp_path / "strokes.json"
    save_hints(path, items, image_size=(640, 480), saturation=1.25)
    doc = json.loads(path.read_text())
    assert doc["version"] == 2 and doc["saturation"] == 1.25
    assert doc["hints"][1] == {"stroke": [[10, 10], [20.5, 12.25], [40, 30]], "width": 6,
                               "ab": [-40, 45]}
    back = load_hints_doc(path)
    assert back.saturation == 1.25 and back.image_size == (640, 480)
    assert back.hints[0] == items[0] and back.hints[1] == items[1] and back.hints[3] == items[3]
    assert back.hints[2].points == ((3.0, 4.0),) and back.hints[2].width == 1.5
    np.testing.assert_allclose(back.hints[2].ab, items[2].ab, atol=1e-3)
    assert load_hints(path) == back.hints
    # an rgb stroke as a person writes it
    text = '{"version": 2, "hints": [{"stroke": [[1, 2], [3, 4]], "width": 6, "rgb": "#c03020"}]}'
    assert hints_from_json(text) == [Stroke([(1, 2), (3, 4)], 6, rgb="#c03020")]


def test_the_saturation_is_written_only_when_not_1_and_read_back(tmp_path):
    hints = [Hint(1, 2, 3, ab=(4, 5))]
    assert "saturation" not in json.loads(hints_to_json(hints, saturation=1.0))
    assert "saturation" not in json.loads(hints_to_json(hints))
    for s in (0.0, 0.5, 1.2, 3.0, 1 / 3):
        path = tmp_path / f"{s}.json"
        save_hints(path, hints, saturation=s)
        doc = json.loads(path.read_text())
        assert doc["version"] == 1 and doc["saturation"] == s  # no strokes: still version 1
        assert load_hints_doc(path).saturation == s and load_hints(path) == hints
    assert read_hints_doc('{"version": 1, "hints": []}').saturation == 1.0
    assert SATURATION_RANGE == (0.0, 3.0)
    for bad in (-0.5, 3.5, float("nan"), True, "1.2"):
        with pytest.raises(ValueError, match="saturation"):
            hints_to_json(hints, saturation=bad)


def _stroke_doc(version=2, **item):
    base = {"stroke": [[10, 20], [30, 40]], "width": 6, "ab": [1.5, -2]}
    return json.dumps({"version": version, "hints": [
        {"x": 1, "y": 1, "size": 1, "ab": [0, 0]},
        {k: v for k, v in {**base, **item}.items() if v is not None}]})


STROKE_BAD_FILES = {
    "stroke in version 1": (_stroke_doc(version=1), "hint 1 is a stroke, which needs version 2"),
    "no points": (_stroke_doc(stroke=[]), "one or more points"),
    "points not a list": (_stroke_doc(stroke="10,20"), "one or more points"),
    "point of three": (_stroke_doc(stroke=[[1, 2, 3]]), "one or more points"),
    "point as text": (_stroke_doc(stroke=[["1", 2]]), "one or more points"),
    "point as bool": (_stroke_doc(stroke=[[True, 2]]), "one or more points"),
    "point as object": (_stroke_doc(stroke=[{"x": 1, "y": 2}]), "one or more points"),
    "NaN point": (_stroke_doc(stroke=[[float("nan"), 2]]), "finite"),
    "no width": (_stroke_doc(width=None), r"missing \['width'\]"),
    "zero width": (_stroke_doc(width=0), "positive"),
    "text width": (_stroke_doc(width="6"), "must be numbers"),
    "bool width": (_stroke_doc(width=False), "must be numbers"),
    "infinite width": (_stroke_doc(width=float("inf")), "finite"),
    "no colour": (_stroke_doc(ab=None), "exactly one of 'ab' or 'rgb'"),
    "ab and rgb": (_stroke_doc(rgb="#ffffff"), "exactly one of 'ab' or 'rgb'"),
    "ab of one": (_stroke_doc(ab=[1]), r"list \[a, b\]"),
    "ab as text": (_stroke_doc(ab=["1", 2]), "must be numbers"),
    "ab out of range": (_stroke_doc(ab=[0, 200]), "-128..128"),
    "bad rgb": (_stroke_doc(ab=None, rgb="blue"), "#rrggbb"),
    "unknown key": (_stroke_doc(colour="red"), "unknown keys"),
    "square keys on a stroke": (_stroke_doc(x=3), r"unknown keys \['x'\]"),
    "huge number": (_stroke_doc(width=10**400), "numbers expected"),
    # finite, but their sums overflow when drawn (issue 27): refused at load
    "point past any photo": (_stroke_doc(stroke=[[1.7e308, 5]]), "point x must lie between"),
    "point far left": (_stroke_doc(stroke=[[-1e308, 5], [1e308, 5]]), "point x must lie"),
    "width past any photo": (_stroke_doc(width=1.7e308), "width must be at most"),
    "too many points": (_stroke_doc(stroke=[[1, 1]] * (MAX_STROKE_POINTS + 1)), "at most"),
    "saturation too high": ('{"version": 2, "saturation": 3.5, "hints": []}', "0..3"),
    "saturation negative": ('{"version": 1, "saturation": -1, "hints": []}', "0..3"),
    "saturation NaN": ('{"version": 1, "saturation": NaN, "hints": []}', "0..3"),
    "saturation text": ('{"version": 1, "saturation": "1.2", "hints": []}', "a number"),
    "saturation bool": ('{"version": 1, "saturation": true, "hints": []}', "a number"),
    "saturation null": ('{"version": 1, "saturation": null, "hints": []}', "a number"),
}


@pytest.mark.parametrize("name", list(STROKE_BAD_FILES))
def test_bad_strokes_and_saturations_are_refused_in_one_line(tmp_path, name):
    text, match = STROKE_BAD_FILES[name]
    path = tmp_path / "my strokes.json"
    path.write_text(text)
    with pytest.raises(HintsFileError, match=match) as e:
        load_hints_doc(path)
    msg = str(e.value)
    assert msg.startswith(str(path) + ":") and "\n" not in msg and len(msg) < 300
    if "saturation" not in name:
        assert "hint 1" in msg  # the item at fault, counted from 0


# --- bounded work, whatever the numbers in the file (issue 27) ----------------------------
def test_a_file_of_too_many_points_is_refused_before_it_is_parsed(tmp_path, monkeypatch):
    """Ten million points would take gigabytes as Python objects: the count is read off the
    text first, and the parser never runs."""
    path = tmp_path / "many.json"
    path.write_text('{"version": 2, "hints": [{"stroke": [' + "[1,1]," * MAX_FILE_ITEMS
                    + '[1,1]], "width": 3, "ab": [1, 2]}]}')

    def parse(*a, **k):
        raise AssertionError("parsed")
    monkeypatch.setattr(hints_module.json, "loads", parse)
    with pytest.raises(HintsFileError, match="too many hints and stroke points") as e:
        load_hints_doc(path)
    assert str(e.value).startswith(f"{path}: ") and "\n" not in str(e.value)


def test_the_biggest_square_costs_no_more_than_the_photo():
    """A square of side 2**31 (the largest allowed) on a small grid: clipped to it."""
    huge = Hint(40, 30, 2**31, ab=(5, 6))
    assert hint_box(huge, (60, 80), (60, 80)) == (0, 0, 80, 60)
    _, mask = rasterize_hints([huge], (60, 80))
    assert mask.all()


@pytest.mark.parametrize("budget", [(1 << 14, 1 << 17), (3, 5)])
def test_strokes_are_drawn_exactly_however_the_work_is_split(budget, monkeypatch):
    """Random strokes of every width, on the image's grid and smaller ones, against the brute
    force, with the rasterizer's passes as large as usual and as small as can be."""
    monkeypatch.setattr(rasterize_module, "_ROWS_PER_PASS", budget[0])
    monkeypatch.setattr(rasterize_module, "_PIXELS_PER_PASS", budget[1])
    rng = np.random.default_rng(2)
    for trial in range(120):
        ih, iw = (int(v) for v in rng.integers(5, 60, 2))
        out_hw = (ih, iw) if trial % 2 else (max(1, ih // 3), max(1, iw // 2))
        n = int(rng.integers(1, 90 if trial % 5 == 0 else 12))
        raw = rng.integers(-10, 70, (n, 2)) if trial % 3 == 0 else rng.uniform(-10, 70, (n, 2))
        points = [(float(x), float(y)) for x, y in raw]
        if trial % 7 == 0:
            points = points[:2] * 40  # back and forth over itself
        if trial % 11 == 0:
            points = [(x, 20.0) for x, _ in points]  # level
        width = float(rng.choice([0.5, 1, 2, 3, 4, 5, 9, 20, 60]))
        _, mask = rasterize_hints([Stroke(points, width, ab=(3, 4))], (ih, iw), out_hw)
        np.testing.assert_array_equal(mask, _covered(points, width, (ih, iw), out_hw))


def test_a_stroke_over_one_patch_again_and_again_costs_about_the_patch(monkeypatch):
    """100,000 distinct segments back and forth across a 160 x 120 grid, 5 px wide: the pixels
    measured stay within a small multiple of the grid (a segment at a time would measure each
    of them every time: over 10**8), and the mask is the brute force's."""
    measured = [0]
    real = rasterize_module._measure

    def counting(near, gx, gy, seg, row, c0, n, *rest):
        measured[0] += int(n.sum())
        return real(near, gx, gy, seg, row, c0, n, *rest)
    monkeypatch.setattr(rasterize_module, "_measure", counting)
    rng = np.random.default_rng(0)
    k = 100_000
    points = np.zeros((k, 2))
    points[0::2], points[1::2] = (10, 10), (150, 110)
    points[:, 0] += rng.uniform(0, 0.01, k)  # no two segments alike
    stroke = Stroke(points.tolist(), 5, ab=(1, 2))
    y0, x0, near = stroke_mask(stroke, (120, 160), (120, 160))
    assert measured[0] < 20 * 120 * 160
    full = np.zeros((120, 160), bool)
    full[y0:y0 + near.shape[0], x0:x0 + near.shape[1]] = near
    base = [(10, 10), (150, 110)]  # every segment lies within 0.01 px of this one
    assert not (_covered(base, 4.9, (120, 160), (120, 160)) & ~full).any()
    assert not (full & ~_covered(base, 5.1, (120, 160), (120, 160))).any()
