"""Execute the lessons (jupytext percent .py files) into notebooks, with a cache that is never stale.

Why not mkdocs-jupyter's own execution: its cache is keyed on the notebook text only (a change to
bnref serves stale outputs), it runs kernels in mkdocs' working directory, one lesson after the
other, and lets a raising cell through (allow_errors defaults to true).

Here a lesson's cache key covers everything its outputs depend on: its own text, every bnref source
file, the setup cell injected in front of it, this executor's source and the versions of the packages
that run or draw it. A change to bnref therefore re-executes every lesson, a change to one lesson
re-executes that lesson only. Kernels run with the lesson's directory as cwd, several at once.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import jupytext
import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError, CellTimeoutError

HERE = Path(__file__).resolve().parent
# Runs inside every kernel before the first cell: alt text for figures (see that file).
KERNEL_STARTUP = HERE / "kernel_startup.py"

# What the outputs depend on besides the lesson and bnref. Their versions go into the cache key.
PACKAGES = (
    "torch",
    "numpy",
    "matplotlib",
    "matplotlib-inline",
    "koreanize-matplotlib",
    "scikit-learn",
    "ipykernel",
    "ipython",
    "nbclient",
    "nbformat",
    "jupytext",
)

CELL_TIMEOUT_S = 900  # per cell; generous, as the machine may be shared
KEEP_PER_LESSON = 3


class LessonError(Exception):
    """A lesson failed to execute cleanly: a cell raised, or wrote to stderr (a warning)."""


@dataclass
class Executed:
    name: str  # "02_implement"
    notebook: nbformat.NotebookNode
    cache_hit: bool


def _package_versions() -> str:
    lines = []
    for name in PACKAGES:
        try:
            lines.append(f"{name}=={version(name)}")
        except PackageNotFoundError:
            lines.append(f"{name} absent")
    lines.append(f"python {sys.version}")
    return "\n".join(lines)


def source_digest(package_dir: Path) -> str:
    """sha256 over every .py file of a package (path and bytes), so any edit to it changes the key."""
    h = hashlib.sha256()
    for path in sorted(package_dir.rglob("*.py")):
        if "__pycache__" in path.parts:
            continue
        h.update(path.relative_to(package_dir).as_posix().encode() + b"\0")
        h.update(path.read_bytes() + b"\0")
    return h.hexdigest()


def environment_digest(package_dir: Path, setup_source: str) -> str:
    """The part of every lesson's key that is shared: bnref, the setup cell, executor, versions."""
    h = hashlib.sha256()
    for part in (
        source_digest(package_dir),
        setup_source,
        Path(__file__).read_text(encoding="utf-8"),
        KERNEL_STARTUP.read_text(encoding="utf-8"),
        _package_versions(),
    ):
        h.update(part.encode() + b"\0")
    return h.hexdigest()


def cache_key(lesson: Path, environment: str) -> str:
    h = hashlib.sha256()
    h.update(lesson.read_bytes() + b"\0")
    h.update(environment.encode())
    return h.hexdigest()[:32]


def read_lesson(lesson: Path, setup_source: str) -> nbformat.NotebookNode:
    """The lesson as a notebook, with the setup cell in front of its first code cell."""
    nb = jupytext.read(lesson)
    setup = nbformat.v4.new_code_cell(setup_source)
    setup.metadata["tags"] = ["bnref-setup"]
    first_code = next((i for i, c in enumerate(nb.cells) if c.cell_type == "code"), len(nb.cells))
    nb.cells.insert(first_code, setup)
    # Cell ids make the notebook valid nbformat 4.5; deterministic ones keep the .ipynb reproducible.
    for i, cell in enumerate(nb.cells):
        cell["id"] = f"cell-{i}"
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata.pop("jupytext", None)
    return nb


def _stderr_outputs(nb: nbformat.NotebookNode) -> list[str]:
    """Every stderr stream (warnings, logging) as 'cell N: text'. Any of them fails the build."""
    found = []
    for i, cell in enumerate(nb.cells):
        for out in cell.get("outputs", []):
            if out.output_type == "stream" and out.name == "stderr":
                found.append(f"cell {i}:\n{cell.source}\n--- stderr ---\n{out.text.rstrip()}")
    return found


def execute_lesson(lesson: Path, setup_source: str, timeout: int = CELL_TIMEOUT_S) -> nbformat.NotebookNode:
    """Run every cell in a fresh kernel whose cwd is the lesson's directory. Raises LessonError."""
    nb = read_lesson(lesson, setup_source)
    client = NotebookClient(
        nb,
        timeout=timeout,
        kernel_name="python3",
        allow_errors=False,
        resources={"metadata": {"path": str(lesson.parent)}},
        extra_arguments=[
            f"--IPKernelApp.exec_files={KERNEL_STARTUP}",
            # The kernel's own log (e.g. its notice about TCP on localhost) is not lesson output.
            "--IPKernelApp.log_level=ERROR",
        ],
    )
    env = dict(os.environ)
    # Warnings hidden by Python's default filters (e.g. a DeprecationWarning raised inside a library
    # on import) are shown, so that they reach stderr and fail the build like any other warning.
    env["PYTHONWARNINGS"] = "default"
    env.pop("MPLBACKEND", None)  # the kernel picks the inline backend itself
    try:
        client.execute(env=env)
    except (CellExecutionError, CellTimeoutError) as err:
        raise LessonError(f"{lesson.name}: a cell raised\n{_strip_ansi(str(err))}") from None
    problems = _stderr_outputs(nb)
    if problems:
        raise LessonError(f"{lesson.name}: output on stderr (a warning?)\n" + "\n\n".join(problems))
    return nb


_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def _strip_ansi(text: str) -> str:
    return _ANSI.sub("", text)


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


def execute_all(
    lessons: list[Path],
    package_dir: Path,
    setup_source: str,
    cache_dir: Path,
    workers: int = 2,
    log=print,
) -> list[Executed]:
    """Execute (or take from the cache) every lesson, independent lessons in parallel.

    The cache holds executed notebooks named `<lesson>-<key>.ipynb`, the KEEP_PER_LESSON newest
    of each lesson.
    """
    cache_dir.mkdir(parents=True, exist_ok=True)
    environment = environment_digest(package_dir, setup_source)
    results: dict[str, Executed] = {}
    todo = []
    for lesson in lessons:
        path = cache_dir / f"{lesson.stem}-{cache_key(lesson, environment)}.ipynb"
        if path.exists():
            log(f"lesson cache hit: {lesson.stem}")
            results[lesson.stem] = Executed(lesson.stem, nbformat.read(path, as_version=4), True)
        else:
            todo.append((lesson, path))

    parallel = max(1, min(workers, len(todo)))
    env = kernel_environment(parallel)

    def run(item):
        lesson, path = item
        log(f"executing lesson: {lesson.stem}")
        started = time.perf_counter()
        tmp = path.with_suffix(".tmp")
        # One process per lesson (it starts the kernel): nbclient's event loops and zmq sockets are
        # not meant to be shared by threads of one process.
        proc = subprocess.run(
            [sys.executable, __file__, str(lesson), str(tmp)],
            input=setup_source,
            capture_output=True,
            text=True,
            env=env,
        )
        if proc.returncode != 0:
            tmp.unlink(missing_ok=True)
            raise LessonError(proc.stderr.strip() or f"{lesson.name}: exit status {proc.returncode}")
        tmp.replace(path)  # atomic: a half-written file never counts as a hit
        nb = nbformat.read(path, as_version=4)
        seconds = time.perf_counter() - started
        durations[lesson.stem] = round(seconds, 1)
        log(f"executed lesson: {lesson.stem} in {seconds:.1f} s")
        # Keep the few newest entries (switching a change on and off stays fast), drop the rest.
        entries = sorted(cache_dir.glob(f"{lesson.stem}-*.ipynb"), key=lambda p: p.stat().st_mtime)
        for old in entries[:-KEEP_PER_LESSON]:
            old.unlink()
        return Executed(lesson.stem, nb, False)

    # Longest lessons first (by their last run; new ones count as long): with two workers, a long
    # lesson started last would run alone at the end.
    durations_file = cache_dir / "durations.json"
    try:
        durations = json.loads(durations_file.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        durations = {}
    todo.sort(key=lambda item: -durations.get(item[0].stem, float("inf")))
    if todo:
        with ThreadPoolExecutor(max_workers=parallel) as pool:
            errors = []
            for item, future in [(item, pool.submit(run, item)) for item in todo]:
                try:
                    done = future.result()
                    results[done.name] = done
                except LessonError as err:
                    errors.append(str(err))
            durations_file.write_text(json.dumps(durations, indent=1, sort_keys=True), encoding="utf-8")
            if errors:
                raise LessonError("\n\n".join(errors))
    hits = sum(r.cache_hit for r in results.values())
    log(f"lessons: {len(results) - hits} executed, {hits} from cache")
    return [results[lesson.stem] for lesson in lessons]


def main(argv: list[str]) -> int:
    """`python lesson_exec.py LESSON OUT.ipynb` with the setup cell's source on stdin."""
    lesson, out = Path(argv[0]), Path(argv[1])
    try:
        nb = execute_lesson(lesson, sys.stdin.read())
    except LessonError as err:
        print(err, file=sys.stderr)
        return 1
    nbformat.write(nb, out)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
