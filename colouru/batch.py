"""The batch pipeline of ``colouru colorize``: photos read, coloured and saved in three
overlapping stages (``run_jobs``), each photo's failure its own.

A thread reads and prepares the next photo, the network colours ``batch_size`` photos at a
time in the calling thread (those of one working size in one call), and a thread finishes
each at full resolution and saves it. Reading ahead stops while the photos held reach
``READ_AHEAD_PIXELS`` (a single larger photo is still taken alone).
"""

from __future__ import annotations

import time
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from colouru.errors import one_line
from colouru.hints import HintsDoc, HintsFileError, load_hints_doc
from colouru.imageio import ImageReadError, ImageWriteError, read_image, save_image

READ_AHEAD_PIXELS = 48_000_000  # photos held between reading and saving, at most (about)
FOUND_NOTE = ("found: published by an earlier run that was stopped before it reported it "
              "(it carries ColourU's note)")


@dataclass
class Job:
    src: Path
    dst: Path
    hints: Path | None
    rel: str = ""  # the photo's path under the folder it was found in: its shard's key


@dataclass
class _Loaded:
    """A photo read and prepared, waiting for the network."""

    job: Job
    t0: float
    prepared: object  # colouru.colorizer.Prepared
    hints: list  # Hint | Stroke
    saturation: float = 1.0  # --saturation, else the hints file's, else 1


def run_jobs(jobs: list[Job], colorizer, args, inputs: set[Path], shared_hints,
             batch_size: int = 1, record=None, found_published=None):
    """Colorize ``jobs``, yielding ``(job, status, error or note, seconds)`` for each as it
    ends; status is ``ok``, ``skipped`` or ``failed``. Never raises for a bad photo: one must
    not stop the batch. ``shared_hints``: the ``HintsDoc`` of ``--hints FILE`` (None: each
    job's own hints file, if any). A photo's saturation is ``--saturation`` when given, else
    its hints file's.

    ``record(job, status, error, seconds, note=None)``, when given, is called once for each
    job the moment it ends, in the thread that ended it (for a result: right after it is
    published). ``found_published(job)`` (with ``record``): whether an output that exists
    (skipped with --skip-existing) is a result an earlier run published and never reported;
    it is yielded as skipped and recorded as ``ok`` with a note saying so.
    """
    steps = _Steps(colorizer, args, inputs, shared_hints, record, found_published)
    loaded: deque[_Loaded] = deque()  # waiting for the network
    saving: deque = deque()  # (item, future) being finished and saved
    reading, i = None, 0

    def held() -> int:  # pixels of the photos read and not yet saved
        return sum(x.prepared.lightness.size for x in loaded) + sum(
            x.prepared.lightness.size for x, _ in saving)

    with ThreadPoolExecutor(1, thread_name_prefix="colouru-read") as reader, \
            ThreadPoolExecutor(1, thread_name_prefix="colouru-save") as saver:
        while True:
            # One photo is read ahead while the photos held stay under the budget.
            if reading is None and i < len(jobs) and (held() < READ_AHEAD_PIXELS
                                                       or not (loaded or saving)):
                reading, i = reader.submit(steps.load, jobs[i]), i + 1
            full = reading is None and held() >= READ_AHEAD_PIXELS
            if loaded and (len(loaded) >= batch_size or full
                           or (reading is None and i >= len(jobs))):
                batch = [loaded.popleft() for _ in range(min(batch_size, len(loaded)))]
                for item, ab in zip(batch, _predict(colorizer, batch), strict=True):
                    if isinstance(ab, Exception):
                        yield steps.fail(item.job, item.t0, ab)
                    else:
                        saving.append((item, saver.submit(steps.finish_and_save, item, ab)))
                while len(saving) > batch_size:
                    yield saving.popleft()[1].result()
                continue
            while saving and saving[0][1].done():
                yield saving.popleft()[1].result()
            if reading is not None:
                got, reading = reading.result(), None
                if isinstance(got, _Loaded):
                    loaded.append(got)
                else:
                    yield got
            elif saving:
                yield saving.popleft()[1].result()
            elif not loaded:
                return


class _Steps:
    """What ``run_jobs`` does to one photo before and after the network: ``load`` (in the
    reading thread) and ``finish_and_save`` (in the saving thread), each ending a job that
    fails with its one line."""

    def __init__(self, colorizer, args, inputs, shared_hints, record, found_published):
        self.colorizer, self.args, self.inputs = colorizer, args, inputs
        self.shared_hints, self.record = shared_hints, record
        self.found_published = found_published

    def ended(self, job, status, error, t0, note=None):
        out = job, status, error, time.perf_counter() - t0
        if self.record is not None:
            self.record(*out, note)
        return out

    def fail(self, job, t0, e):
        return self.ended(job, "failed", _failure(job, e), t0)

    def load(self, job: Job):
        t0 = time.perf_counter()
        try:
            if _precheck(job, self.args, self.inputs) is not None:
                if self.found_published is not None and self.found_published(job):
                    # skipped here, but the report learns that it was made after all
                    out = job, "skipped", None, time.perf_counter() - t0
                    self.record(job, "ok", None, out[3], FOUND_NOTE)
                    return out
                return self.ended(job, "skipped", None, t0)
            doc = self.shared_hints if self.shared_hints is not None else _job_hints(job)
            sat = doc.saturation if self.args.saturation is None else self.args.saturation
            image = _read(job, self.args)
            return _Loaded(job, t0, self.colorizer.prepare(image, self.args.work_size),
                           list(doc.hints), sat)
        except Exception as e:  # one bad photo must not stop the batch
            return self.fail(job, t0, e)

    def finish_and_save(self, item: _Loaded, ab):
        try:
            result = self.colorizer.finish_ab(item.prepared, ab, item.hints)
            status, note = _save(item.job, result, self.args, self.inputs)
            return self.ended(item.job, status, note, item.t0)
        except Exception as e:
            return self.fail(item.job, item.t0, e)


def _predict(colorizer, batch: list[_Loaded]) -> list:
    """The network's ab for each photo of ``batch``; a batch that fails is retried photo by
    photo, so only the photo at fault fails (its exception in its place). Never raises."""
    try:
        return colorizer.predict_ab_batch([(b.prepared, b.hints, b.saturation)
                                           for b in batch])
    except Exception as e:
        if len(batch) == 1:
            return [e]
    out = []
    for b in batch:
        try:
            out.append(colorizer.predict_ab_batch([(b.prepared, b.hints, b.saturation)])[0])
        except Exception as e:
            out.append(e)
    return out


def _precheck(job: Job, args, inputs: set[Path]) -> str | None:
    """Refuse an output that would replace an input, or that exists (``skipped`` with
    --skip-existing, returned as the string; an error otherwise). None: go ahead.

    A symbolic link to nothing at the output's name is no result: it is not skipped (there is
    nothing there) and not written through; it is refused by name unless --overwrite, which
    replaces the link itself."""
    if job.dst.resolve() in inputs:
        raise ImageWriteError(f"{job.dst}: refusing to overwrite an input photo")
    if job.dst.is_symlink() and not job.dst.exists() and not args.overwrite:
        raise ImageWriteError(f"{job.dst}: a symbolic link to nothing stands at the output's "
                              f"name; remove it or use --overwrite")
    if job.dst.exists() and not args.overwrite:
        if args.skip_existing:
            return "skipped"
        raise ImageWriteError(f"{job.dst}: exists (use --overwrite or --skip-existing)")
    return None


def _job_hints(job: Job) -> HintsDoc:
    """The job's ``HintsDoc``: its hints file's, or an empty one."""
    return load_hints_doc(job.hints) if job.hints else HintsDoc([])


def _read(job: Job, args):
    # Held as read (a grey photo in one channel, an 8-bit one as its codes) until its L is
    # made: a 100-megapixel colour photo takes 300 MB here, not 1.2 GB of float RGB.
    return read_image(job.src, max_pixels=args.max_pixels or None, keep_grey=True,
                      keep_8bit=True)


def _save(job: Job, result, args, inputs: set[Path]) -> tuple[str, str | None]:
    """Publish one result: ``(status, note)``; a name another run took meanwhile is kept."""
    job.dst.parent.mkdir(parents=True, exist_ok=True)
    try:
        save_image(job.dst, result, protect=tuple(inputs & {job.src.resolve()}),
                   overwrite=args.overwrite)
    except ImageWriteError:
        if args.overwrite or not job.dst.exists():
            raise
        # Absent at the check before reading, there now: another run wrote it meanwhile.
        meanwhile = (f"{job.dst} appeared while it was being written (another run "
                     f"writing the same name?)")
        if not args.skip_existing:
            raise ImageWriteError(f"{meanwhile}; not replaced") from None
        return "skipped", f"{meanwhile}; kept it"
    return "ok", None


def _one_line(e: BaseException) -> str:
    """An exception as one line; the class name is kept where the message alone is unclear."""
    lines = str(e).strip().splitlines()
    first = lines[0] if lines else ""
    if first and isinstance(e, (ValueError, OSError, MemoryError, RuntimeError)):
        return first
    return f"{e.__class__.__name__}: {first}" if first else e.__class__.__name__


def _failure(job: Job, e: BaseException) -> str:
    """One line for a photo that failed: our own errors name the file already."""
    if isinstance(e, (ImageReadError, ImageWriteError, HintsFileError)):
        return one_line(str(e))
    return one_line(f"{job.src}: {_one_line(e)}")
