"""Shards and reports for archives (``colouru colorize --shard K/N --report FILE``): every photo
is colorized by exactly one shard, the split is stable when photos are added, and the report
has one whole line per input even after a kill."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import gradient_photo
from PIL import Image

from colouru.report import Report, read_report
from colouru.shard import Shard, local_device_index, parse_shard, shard_from_env, shard_index

REPO = Path(__file__).resolve().parents[1]


def test_parse_and_validate():
    assert parse_shard("2/5") == Shard(2, 5) and str(parse_shard(" 0 / 1 ")) == "0/1"
    for bad in ("5/5", "1/0", "-1/3", "a/b", "3", "1/2/3"):
        with pytest.raises(ValueError):
            parse_shard(bad)


def test_every_name_in_exactly_one_shard_and_stable():
    names = [f"roll{i // 50}/{i:05d}.tif" for i in range(2000)]
    parts = [[n for n in names if Shard(k, 4).owns(n)] for k in range(4)]
    assert sorted(sum(parts, [])) == sorted(names)
    assert all(350 < len(p) < 650 for p in parts)  # roughly even
    before = {n: shard_index(n, 4) for n in names}
    more = names + [f"new/{i}.jpg" for i in range(500)]
    assert all(shard_index(n, 4) == before[n] for n in more[:2000])
    assert shard_index("a\\b.png", 7) == shard_index("a\\b.png", 7)


def test_shard_from_the_launcher_environment():
    assert shard_from_env({}) is None
    assert shard_from_env({"RANK": "1", "WORLD_SIZE": "2"}) == Shard(1, 2)
    with pytest.raises(ValueError):
        shard_from_env({"RANK": "2", "WORLD_SIZE": "2"})
    assert local_device_index({"LOCAL_RANK": "3"}) == 3 and local_device_index({}) is None


def test_report_lines_and_a_cut_last_line(tmp_path):
    model = tmp_path / "m.safetensors"
    model.write_bytes(b"weights")
    path = tmp_path / "r.jsonl"
    with Report(path, model, "1/3") as r:
        r.add("a.png", "out/a.png", "ok", seconds=0.1234)
        r.add("b.png", None, "failed", error="b.png: the file is empty")
    with open(path, "a") as f:
        f.write('{"input": "c.png", "sta')  # a kill in the middle of a line
    lines = read_report(path)
    assert [x["status"] for x in lines] == ["ok", "failed"]
    assert lines[0]["seconds"] == 0.123 and lines[0]["shard"] == "1/3"
    assert lines[0]["model"] == "m.safetensors" and len(lines[0]["model_sha256"]) == 64
    assert lines[1]["output"] is None and "empty" in lines[1]["error"]
    with pytest.raises(ValueError):
        Report(path, model).add("x", None, "maybe")


# --- end to end ---------------------------------------------------------------------------------
def _photos(folder: Path, n: int, sub: bool = True) -> list[str]:
    names = []
    for i in range(n):
        rel = Path(f"r{i % 3}" if sub else ".") / f"{i:03d}.png"
        (folder / rel).parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(gradient_photo(16, 24, seed=i)).save(folder / rel)
        names.append(rel.as_posix())
    return names


def _colouru(*args, env=None, **kw):
    return subprocess.run([sys.executable, "-m", "colouru", *map(str, args)], capture_output=True,
                          text=True, env={**os.environ, **(env or {})}, timeout=300, **kw)


@pytest.mark.slow  # fresh interpreters that each load torch
def test_two_shards_cover_a_folder_once(tmp_path, tiny_model_path):
    src, out = tmp_path / "scans", tmp_path / "out"
    names = _photos(src, 14)
    report = tmp_path / "report.jsonl"
    for k in range(2):
        p = _colouru("colorize", src, "-r", "-o", out, "--shard", f"{k}/2", "--report", report,
                     "-q", "--model", tiny_model_path)
        assert p.returncode == 0, p.stderr
    done = sorted(x.relative_to(out).as_posix() for x in out.rglob("*.png"))
    assert done == sorted(names)
    lines = read_report(report)
    assert sorted(Path(x["input"]).relative_to(src).as_posix() for x in lines) == sorted(names)
    assert {x["shard"] for x in lines} == {"0/2", "1/2"} and {x["status"] for x in lines} == {"ok"}


@pytest.mark.slow
def test_torchrun_ranks_cover_a_folder_once(tmp_path, tiny_model_path):
    src, out = tmp_path / "scans", tmp_path / "out"
    names = _photos(src, 10, sub=False)
    report = tmp_path / "report.jsonl"
    p = subprocess.run(
        [str(Path(sys.executable).with_name("torchrun")), "--standalone", "--nproc_per_node", "2",
         "-m", "colouru", "colorize", str(src), "-o", str(out), "--report", str(report), "-q",
         "--model", str(tiny_model_path), "--device", "cpu"],
        capture_output=True, text=True, timeout=300, env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert p.returncode == 0, p.stderr[-2000:]
    assert sorted(x.name for x in out.iterdir()) == sorted(names)
    lines = read_report(report)
    assert len(lines) == 10 and {x["shard"] for x in lines} == {"0/2", "1/2"}


@pytest.mark.slow
def test_a_killed_shard_resumes_with_skip_existing(tmp_path, tiny_model_path):
    src, out = tmp_path / "scans", tmp_path / "out"
    names = _photos(src, 40, sub=False)
    report = tmp_path / "report.jsonl"
    args = [sys.executable, "-m", "colouru", "colorize", str(src), "-o", str(out), "--report",
            str(report), "-q", "--model", str(tiny_model_path), "--skip-existing"]
    proc = subprocess.Popen(args, stderr=subprocess.DEVNULL)
    deadline = time.time() + 120
    while time.time() < deadline and len(read_report(report) if report.exists() else []) < 3:
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    first = read_report(report)
    assert 3 <= len(first) < 40, "the run was meant to be killed part-way"
    p = subprocess.run(args, capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr
    assert sorted(x.name for x in out.iterdir()) == sorted(names)  # no temporaries left
    lines = read_report(report)
    last = {Path(x["input"]).name: x["status"] for x in lines}
    assert sorted(last) == sorted(names) and set(last.values()) <= {"ok", "skipped"}
    assert sum(x["status"] == "skipped" for x in lines[len(first):]) >= len(first)
    assert all(json.loads(line) for line in report.read_text().splitlines()[len(first):])


# --- reports that lose nothing (issue 27) --------------------------------------------------------
def test_a_line_cut_by_a_kill_does_not_swallow_the_next_runs_first_line(tmp_path):
    model = tmp_path / "m.safetensors"
    model.write_bytes(b"weights")
    path = tmp_path / "r.jsonl"
    with Report(path, model) as r:
        r.add("a.png", "out/a.png", "ok")
    with open(path, "a") as f:
        f.write('{"input": "b.png", "sta')  # killed in mid-line
    with Report(path, model) as r:
        r.add("c.png", "out/c.png", "ok")
    assert [x["input"] for x in read_report(path)] == ["a.png", "c.png"]


def test_only_a_report_is_appended_to(tmp_path):
    from colouru.report import ReportError, check_report_path

    photo = tmp_path / "p.png"
    Image.fromarray(gradient_photo(8, 8)).save(photo)
    for path, says in [(photo, "is one of the photos"), (tmp_path, "is a folder")]:
        with pytest.raises(ReportError, match=says):
            check_report_path(path, {photo.resolve()})
    with pytest.raises(ReportError, match="not a ColourU report"):
        check_report_path(photo, set())
    (tmp_path / "notes.txt").write_text("my notes\n")
    with pytest.raises(ReportError, match="not a ColourU report"):
        check_report_path(tmp_path / "notes.txt")
    model = tmp_path / "m.safetensors"
    model.write_bytes(b"weights")
    report = tmp_path / "r.jsonl"
    check_report_path(report)  # new
    report.write_bytes(b"")
    check_report_path(report)  # empty
    with Report(report, model) as r:
        r.add("a.png", None, "failed", "a.png: the file is empty")
    check_report_path(report)  # a report
    report.write_text('{"input": "a.png", "sta')  # a report cut in its first line
    check_report_path(report)


def test_a_report_that_fails_keeps_the_reason_and_never_raises(tmp_path, monkeypatch):
    import errno

    from colouru import report as report_module

    model = tmp_path / "m.safetensors"
    model.write_bytes(b"weights")
    with Report(tmp_path / "r.jsonl", model) as r:
        assert r.add("a.png", "out/a.png", "ok")

        def eio(fd, data):
            raise OSError(errno.EIO, "Input/output error")
        monkeypatch.setattr(report_module.os, "write", eio)
        assert not r.add("b.png", "out/b.png", "ok")
        monkeypatch.undo()
        assert not r.add("c.png", "out/c.png", "ok")  # no more tries: a cut line would eat it
    assert r.error == "Input/output error" and r.lost == 2
    assert [x["input"] for x in read_report(tmp_path / "r.jsonl")] == ["a.png"]


def test_an_empty_or_negative_shard_is_named():
    with pytest.raises(ValueError, match="unset variable"):
        parse_shard("")
    with pytest.raises(ValueError, match="shards count from 0"):
        parse_shard("-1/2")


def test_outputs_already_reported_are_read_from_a_regular_report_only(tmp_path):
    from colouru.report import reported_outputs

    model = tmp_path / "m.safetensors"
    model.write_bytes(b"weights")
    with Report(tmp_path / "r.jsonl", model) as r:
        r.add("a.png", "out/a.png", "ok")
        r.add("b.png", "out/b.png", "failed", "b.png: the file is empty")
    assert reported_outputs(tmp_path / "r.jsonl") == {"out/a.png"}
    assert reported_outputs(tmp_path / "none.jsonl") == set()
    fifo = tmp_path / "pipe.jsonl"
    os.mkfifo(fifo)
    assert reported_outputs(fifo) == set()  # not opened: it would wait for a writer
