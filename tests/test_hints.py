"""Hints: the record, the version-1 JSON file format (and its refusals), and rasterizing."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest
from skimage import color

from colouru import Hint, HintsFileError, load_hints, save_hints
from colouru.hints import (
    MAX_HINTS_BYTES,
    hint_box,
    hints_from_json,
    hints_to_json,
    rasterize_hints,
)


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
    "wrong version": ('{"version": 2, "hints": []}', "version 2"),
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

    from colouru.generator import edge_aware_hints
    from colouru.hints import NEUTRAL_HINT_A
    from colouru.inputs import make_input

    ab, mask = rasterize_hints([Hint(10, 10, 3, ab=(0.0, 0.0))], (20, 30))
    assert mask.sum() == 9 and np.all(ab[0][mask] == NEUTRAL_HINT_A) and np.all(ab[1] == 0)
    x = make_input(torch.full((1, 1, 20, 30), 50.0), torch.from_numpy(ab)[None])
    [(colour, confidence)] = edge_aware_hints(x, (0.35,))
    assert confidence[0, 0, 15, 25] > 0.5 and colour.abs().max() < 1e-3
