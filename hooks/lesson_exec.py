"""Execute the lessons (jupytext percent .py files) into notebooks: cached, in parallel, stoppable.

Why not mkdocs-jupyter's own execution: its cache is keyed on the notebook text only (a change to
bnref serves stale outputs), it runs kernels in mkdocs' working directory, one lesson after the
other, and lets a raising cell through (allow_errors defaults to true).

`execute_all` takes each lesson from the cache (lesson_cache.py says what a key covers) or runs it,
two at a time, each in a process of its own that starts its kernel (`python lesson_kernel.py WORK`,
see that file). An executed lesson goes into the cache at once, so a build stopped half-way keeps
what it finished.

- The first failure stops the build: the other running lessons are stopped, no new one starts,
  and the failure (lessons/NN_name.py:LINE, the cell, the traceback) is the build's error.
- Ctrl-C (SIGINT to mkdocs alone, or to its process group as a terminal sends it) stops the
  kernels with their worker processes (each kernel leads a process group: SIGTERM, then SIGKILL
  after STOP_GRACE_S) and the run processes, and removes their temporary folders.
- A line every PROGRESS_EVERY_S seconds says how many lessons are done, for how long the build has
  run, and which lessons run at which line.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import nbformat

import lesson_cache
import lesson_kernel
from lesson_cache import KEEP_PER_LESSON, read_lesson  # noqa: F401  (part of this module's API)
from lesson_kernel import CELL_TIMEOUT_S, LessonError, code_lines, execute_lesson  # noqa: F401  (ditto)

STOP_GRACE_S = 2.0  # from SIGTERM to SIGKILL: torchrun needs a moment to stop its workers
PROGRESS_EVERY_S = 15.0
POLL_S = 0.1


@dataclass
class Executed:
    name: str  # "02_implement"
    notebook: nbformat.NotebookNode  # the lesson as it is now, with the outputs of its code
    cache_hit: bool
    imports: list[str]  # the bnref files it depends on, relative to the repository
    error: str | None = None  # only when execute_all(fail_fast=False): the failure, and no outputs


def kernel_environment(parallel: int) -> dict[str, str]:
    """The environment of the kernels when `parallel` lessons run at once: the cores shared out.

    Each kernel's torch would otherwise start one OpenMP thread per core. Two kernels with two
    threads each on two cores wait on each other's spinning threads: measured here (two builds
    each, re-executing every lesson), 109 and 139 s that way, 67 and 69 s with one thread per
    kernel. The printed numbers do not depend on the thread count (tests/test_lessons.py runs
    every lesson with 1 and 2 threads). A thread count the user has set (OMP_NUM_THREADS) is kept.
    """
    env = dict(os.environ)
    env.setdefault("OMP_NUM_THREADS", str(max(1, (os.cpu_count() or 1) // parallel)))
    return env


# ── Many lessons ──────────────────────────────────────────────────────────────────────────────────


@dataclass
class _Job:
    lesson: Path
    notebook: nbformat.NotebookNode  # as read, with the setup cell: what runs, and what was keyed
    key: str
    lines: list[int | None]

    @property
    def name(self) -> str:
        return self.lesson.stem


class _Run:
    """One lesson executing in a process of its own (`python lesson_kernel.py WORK`)."""

    def __init__(self, job: _Job):
        self.job = job
        self.work: Path | None = None
        self.proc: subprocess.Popen | None = None
        self.started = time.monotonic()

    def start(self, package_dir: Path, env: dict[str, str], timeout: int) -> None:
        self.work = Path(tempfile.mkdtemp(prefix=f"bnref-{self.job.name}-"))
        spec = {
            "lesson": f"{self.job.lesson.parent.name}/{self.job.lesson.name}",
            "cwd": str(self.job.lesson.parent),
            "package_dir": str(package_dir),
            "lines": self.job.lines,
            "timeout": timeout,
        }
        (self.work / "job.json").write_text(json.dumps(spec), encoding="utf-8")
        nbformat.write(self.job.notebook, self.work / "input.ipynb")
        (self.work / "runtime").mkdir()
        with open(self.work / "run.log", "w", encoding="utf-8") as out:
            self.proc = subprocess.Popen(
                [sys.executable, lesson_kernel.__file__, str(self.work)],
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                # The kernel's connection file goes here too, so nothing is left behind elsewhere.
                env={**env, "JUPYTER_RUNTIME_DIR": str(self.work / "runtime")},
                # Not in the terminal's process group: Ctrl-C goes to mkdocs, which stops this run.
                start_new_session=True,
            )

    def done(self) -> bool:
        return self.proc is not None and self.proc.poll() is not None

    def _read(self, name: str) -> str | None:
        if self.work is None:
            return None
        try:
            return (self.work / name).read_text(encoding="utf-8")
        except OSError:
            return None

    def status(self) -> str:
        seconds = f"{time.monotonic() - self.started:.0f} s"
        where = self._read("cell.txt")
        return f"{self.job.name} at {where} ({seconds})" if where else f"{self.job.name} ({seconds}, starting its kernel)"

    def result(self) -> tuple[nbformat.NotebookNode | None, str | None]:
        """(executed notebook, None) or (None, the failure). Removes the run's folder."""
        try:
            if (self.work / "output.ipynb").exists():
                return nbformat.read(self.work / "output.ipynb", as_version=4), None
            error = self._read("error.txt")
            if error is None:
                log = (self._read("run.log") or "").strip()[-3000:]
                error = f"{self.job.lesson.name}: the executor exited with status {self.proc.returncode}\n{log}"
            return None, error
        finally:
            self.remove_folder()

    def kill_runner(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()  # it has nothing to clean up: its folder goes below
            self.proc.wait()

    def signal_kernel(self, sig: int) -> bool:
        """Signal the kernel's process group (the kernel and its worker processes); False if none is left."""
        pid = self._read("kernel.pid")  # written atomically: a whole number or nothing
        if not pid:
            return False
        try:
            os.killpg(int(pid), sig)
        except ProcessLookupError:
            return False
        return True

    def remove_folder(self) -> None:
        if self.work is not None:
            shutil.rmtree(self.work, ignore_errors=True)


def _stop(runs: list[_Run]) -> None:
    """Stop the runs: their processes, then their kernels with the kernels' workers; remove their folders."""
    with _sigint_ignored():  # a second Ctrl-C must not cut the cleaning short
        for run in runs:
            run.kill_runner()  # first: from now on it starts no kernel, and the kernel.pid file is final
        kernels = [run for run in runs if run.signal_kernel(signal.SIGTERM)]
        deadline = time.monotonic() + STOP_GRACE_S
        while kernels and time.monotonic() < deadline:
            time.sleep(0.05)
            kernels = [run for run in kernels if run.signal_kernel(0)]
        for run in kernels:
            run.signal_kernel(signal.SIGKILL)
        for run in runs:
            run.remove_folder()


@contextlib.contextmanager
def _sigint_ignored():
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def execute_all(
    lessons: list[Path],
    package_dir: Path,
    setup_source: str,
    cache_dir: Path,
    workers: int = 2,
    log=print,
    *,
    setup_key_source: str | None = None,
    fail_fast: bool = True,
    timeout: int = CELL_TIMEOUT_S,
) -> list[Executed]:
    """Execute (or take from the cache) every lesson, `workers` at a time. Raises LessonError.

    `setup_key_source` is the setup cell as the key sees it (without the site's address); with
    `fail_fast=False` (mkdocs serve) a failed lesson is returned with its error and the others run.
    """
    cache_dir.mkdir(parents=True, exist_ok=True)
    root = package_dir.parent
    environment = lesson_cache.environment_digest(setup_key_source or setup_source)
    digests = lesson_cache.file_digests(root, package_dir)
    results: dict[str, Executed] = {}
    todo = []
    for lesson in lessons:
        text = lesson.read_text(encoding="utf-8")
        nb = lesson_cache.lesson_notebook(text, setup_source)
        key = lesson_cache.code_key(nb, environment)
        cached = lesson_cache.find(cache_dir, lesson.stem, key, digests)
        if cached is not None:
            log(f"lesson cache hit: {lesson.stem}")
            imports = cached.metadata.bnref_build.imports
            results[lesson.stem] = Executed(lesson.stem, lesson_cache.merge(nb, cached), True, imports)
        else:
            todo.append(_Job(lesson, nb, key, code_lines(text)))

    durations_file = cache_dir / "durations.json"
    try:
        durations = json.loads(durations_file.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        durations = {}
    # Longest lessons first (by their last run; new ones count as long): with two workers, a long
    # lesson started last would run alone at the end.
    todo.sort(key=lambda job: -durations.get(job.name, math.inf))

    def finished(job: _Job, nb, error: str | None, seconds: float) -> None:
        if error is not None:
            if fail_fast:
                raise LessonError(error)
            results[job.name] = Executed(job.name, job.notebook, False, [], error)
            return
        durations[job.name] = round(seconds, 1)
        slowest = nb.metadata.bnref_build.slowest_cell
        where = f"line {slowest.line}" if slowest.line else "the setup cell"
        log(f"executed lesson: {job.name} in {seconds:.1f} s (slowest cell: {where}, {slowest.seconds} s)")
        imports = nb.metadata.bnref_build.imports
        if lesson_cache.unchanged(root, imports, digests):
            lesson_cache.store(cache_dir, job.name, job.key, nb, digests)
        else:
            log(f"{job.name}: bnref changed while it ran; not cached")
        results[job.name] = Executed(job.name, lesson_cache.merge(job.notebook, nb), False, imports)

    try:
        _run_all(todo, package_dir, workers, log, timeout, finished)
    finally:
        if todo:
            lesson_cache.write_atomic(durations_file, json.dumps(durations, indent=1, sort_keys=True))
    hits = sum(r.cache_hit for r in results.values())
    log(f"lessons: {len(results) - hits} executed, {hits} from cache")
    return [results[lesson.stem] for lesson in lessons]


def _run_all(todo: list[_Job], package_dir: Path, workers: int, log, timeout: int, finished) -> None:
    """Run the jobs, `workers` at a time; `finished(job, nb, error, seconds)` as each ends.

    Whatever ends this early (a failure that `finished` raises, Ctrl-C) stops the other runs.
    """
    parallel = max(1, min(workers, len(todo)))
    env = kernel_environment(parallel)
    queue, runs = list(todo), []
    started = last_progress = time.monotonic()
    try:
        while queue or runs:
            while queue and len(runs) < parallel:
                job = queue.pop(0)
                log(f"executing lesson: {job.name} ({len(todo) - len(queue)} of {len(todo)})")
                runs.append(_Run(job))  # listed before it starts: Ctrl-C from here on stops it
                runs[-1].start(package_dir, env, timeout)
            time.sleep(POLL_S)
            for run in [run for run in runs if run.done()]:
                runs.remove(run)
                nb, error = run.result()
                finished(run.job, nb, error, time.monotonic() - run.started)
            if runs and time.monotonic() - last_progress >= PROGRESS_EVERY_S:
                last_progress = time.monotonic()
                done = len(todo) - len(queue) - len(runs)
                log(
                    f"lessons: {done} of {len(todo)} done, {last_progress - started:.0f} s elapsed; running "
                    + ", ".join(run.status() for run in runs)
                )
    except BaseException as err:
        if runs:
            why = "interrupted" if isinstance(err, KeyboardInterrupt) else "a lesson failed"
            log(f"{why}: stopping {', '.join(run.job.name for run in runs)}")
            _stop(runs)
        raise
