"""One lesson in a Jupyter kernel, and what to say when it fails: the line in lessons/NN_name.py.

`execute_notebook` runs a lesson's notebook with nbclient in a fresh kernel whose cwd is the lesson's
folder, whose `bnref` is the repository's (its root first on PYTHONPATH) and whose processes record
which bnref files they execute (kernel_site/sitecustomize.py). It stops at the first cell that
raises, writes to stderr (a warning) or runs longer than CELL_TIMEOUT_S, with a message that names
`lessons/NN_name.py:LINE` of the failing statement, shows the cell numbered as in the file, and
gives the exception and its traceback in the kernel's plain format, every cell named by its line.

lesson_exec.py runs it as `python lesson_kernel.py WORK`, a process per lesson: nbclient's event
loops and zmq sockets are not meant to be shared by threads.
"""

from __future__ import annotations

import json
import os
import re
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import jupytext
import nbformat
from nbclient import NotebookClient

import lesson_cache
from lesson_cache import read_lesson

HERE = Path(__file__).resolve().parent
# Runs inside every kernel before the first cell: figure alt text, warnings located by cell.
KERNEL_STARTUP = HERE / "kernel_startup.py"
# First on every kernel's PYTHONPATH: records the bnref files each process executes.
KERNEL_SITE = HERE / "kernel_site"

# Per cell. It catches a cell that never ends, and must not fail a correct build on a busy machine.
# Every lesson runs in 30 s on 2 quiet cores, so its slowest cell takes seconds, and a new lesson's
# longest may take ~20 s. Under load cells run far slower: with the ~8 builds and test runs of this
# team sharing 2 cores (load average 12-20), lessons ran up to 6.6x slower than quiet (lesson 07:
# 16 s -> 106 s), and lesson 13's multi-process cell (line 188) took 80 s. 180 s leaves room for a
# 20 s cell at 9x. A hang shows long before that: the progress line names the cell and its time.
CELL_TIMEOUT_S = 180


class LessonError(Exception):
    """A lesson failed to execute cleanly: a cell raised, wrote to stderr, or ran too long."""


# ── Lines of the lesson file ──────────────────────────────────────────────────────────────────────

_MARKER = re.compile(r"^#\s*%%")


def code_lines(text: str) -> list[int | None]:
    """For each code cell of a lesson file, in order, the line where its source starts (1-based).

    A cell's source starts right after its `# %%` line (jupytext keeps leading blank lines).
    """
    cells = jupytext.reads(text, fmt="py:percent").cells
    starts: list[int | None] = [i + 2 for i, line in enumerate(text.splitlines()) if _MARKER.match(line)]
    unmarked = len(cells) - len(starts)  # text before the first marker is a cell of its own
    if unmarked not in (0, 1):
        starts = [None] * len(cells)
    elif unmarked:
        starts.insert(0, None)
    return [start for cell, start in zip(cells, starts) if cell.cell_type == "code"]


@dataclass
class Where:
    """How to name places of one lesson in messages."""

    path: str  # "lessons/02_implement.py"
    lines: list[int | None]  # code_lines() of its text
    counts: dict[int, int | None]  # execution count -> index among the lesson's code cells (None: setup)

    def line(self, code_index: int | None, cell_line: int = 1) -> int | None:
        if code_index is None or code_index >= len(self.lines) or self.lines[code_index] is None:
            return None
        return self.lines[code_index] + cell_line - 1

    def place(self, code_index: int | None, cell_line: int = 1) -> str:
        line = self.line(code_index, cell_line)
        if code_index is None:
            return f"{self.path}, the setup cell (the build puts it in front; hooks/setup_cell.py)"
        return f"{self.path}:{line}" if line else f"{self.path}, code cell {code_index + 1}"

    def rename_cells(self, text: str) -> str:
        """"Cell In[7], line 3" (IPython's name for a place in a cell) -> "lessons/NN_x.py:LINE"."""

        def rename(m: re.Match) -> str:
            count = int(m[1])
            return self.place(self.counts[count], int(m[2])) if count in self.counts else m[0]

        return re.sub(r"Cell In\[(\d+)\], line (\d+)", rename, text)

    def cell_listing(self, code_index: int | None, source: str, mark: int | None) -> str:
        """The cell as the author wrote it, numbered as in the file, `>` at line `mark`."""
        first = self.line(code_index) or 1
        return "\n".join(
            f"{'>' if first + i == mark else ' '} {first + i:4d} | {text}" for i, text in enumerate(source.splitlines())
        )


_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def _strip_ansi(text: str) -> str:
    return _ANSI.sub("", text)


def _cell_line_in(traceback: str, count: int | None) -> int | None:
    """The line of cell In[count] that the traceback passes through (its statement in that cell)."""
    match = re.search(rf"Cell In\[{count}\], line (\d+)", traceback) if count else None
    return int(match[1]) if match else None


# ── One lesson in a kernel ────────────────────────────────────────────────────────────────────────


class _Client(NotebookClient):
    """nbclient's client, failing at the first cell that raises or writes to stderr, with our message."""

    def __init__(self, nb, where: Where, work: Path, **kwargs):
        super().__init__(
            nb,
            on_cell_execute=self._cell_starts,
            on_cell_executed=self._cell_done,
            **kwargs,
        )
        self.where = where
        self.work = work
        self.started = 0.0
        self.slowest = (0.0, None)  # (seconds, line)
        self.kernel_pid: int | None = None

    async def async_start_new_kernel(self, **kwargs):
        await super().async_start_new_kernel(**kwargs)
        # The kernel leads a process group of its own (jupyter_client starts a session): its
        # worker processes are in it too. execute_all stops the group through this file.
        self.kernel_pid = self.km.provisioner.pid
        lesson_cache.write_atomic(self.work / "kernel.pid", str(self.kernel_pid))

    def _code_index(self, cell) -> int | None:
        code = [c for c in self.nb.cells if c.cell_type == "code" and lesson_cache.SETUP_TAG not in c.metadata.get("tags", [])]
        return next((i for i, c in enumerate(code) if c is cell), None)

    def _cell_starts(self, cell, cell_index):
        self.started = time.monotonic()
        lesson_cache.write_atomic(self.work / "cell.txt", self.where.place(self._code_index(cell)))

    def _cell_done(self, cell, cell_index, execute_reply):
        index = self._code_index(cell)
        if cell.get("execution_count"):
            self.where.counts[cell.execution_count] = index
        seconds = time.monotonic() - self.started
        if seconds > self.slowest[0]:
            self.slowest = (seconds, self.where.line(index))
        reply = execute_reply["content"] if execute_reply else {"status": "ok"}
        if reply["status"] == "error":
            raise LessonError(self._raised(cell, index, reply))
        stderr = "".join(o.text for o in cell.outputs if o.output_type == "stream" and o.name == "stderr")
        if stderr:
            raise LessonError(self._wrote_stderr(cell, index, _strip_ansi(stderr)))

    def _raised(self, cell, index: int | None, reply: dict) -> str:
        if reply.get("ename") == "CellTimeout":  # our error_on_timeout: nbclient interrupted the kernel
            errors = [o for o in cell.outputs if o.output_type == "error"]
            traceback = _strip_ansi("".join(errors[0].traceback)) if errors else ""
            what = f"the cell did not finish in {self.timeout} s (CELL_TIMEOUT_S in hooks/lesson_kernel.py) and was stopped"
        else:
            traceback = _strip_ansi("".join(reply.get("traceback", [])))
            what = f"{reply['ename']}: {reply['evalue']}"
        cell_line = _cell_line_in(traceback, cell.execution_count) or 1
        parts = [
            f"{self.where.place(index, cell_line)}: {what}",
            "",
            self.where.cell_listing(index, cell.source, self.where.line(index, cell_line)),
        ]
        if traceback.strip():
            parts += ["", self.where.rename_cells(traceback).rstrip()]
        return "\n".join(parts)

    def _wrote_stderr(self, cell, index: int | None, stderr: str) -> str:
        cell_line = _cell_line_in(stderr, cell.execution_count) or 1  # kernel_startup names warnings' cells
        head = f"{self.where.place(index, cell_line)}: the cell wrote to stderr (a warning?); the build allows none"
        listing = self.where.cell_listing(index, cell.source, self.where.line(index, cell_line))
        return f"{head}\n\n{listing}\n\n--- stderr ---\n{self.where.rename_cells(stderr).rstrip()}"


def _kernel_env(package_dir: Path | None, imports_log: Path) -> dict[str, str]:
    env = dict(os.environ)
    # Warnings hidden by Python's default filters (e.g. a DeprecationWarning raised inside a library
    # on import) are shown, so that they reach stderr and fail the build like any other warning.
    env["PYTHONWARNINGS"] = "default"
    env.pop("MPLBACKEND", None)  # the kernel picks the inline backend itself
    if package_dir is not None:
        # The repository's bnref, whatever else is installed or on PYTHONPATH; the import recorder.
        path = [str(KERNEL_SITE), str(package_dir.parent), env.get("PYTHONPATH", "")]
        env["PYTHONPATH"] = os.pathsep.join(p for p in path if p)
        env["BNREF_BUILD_PACKAGE"] = str(package_dir)
        env["BNREF_BUILD_IMPORTS"] = str(imports_log)
    return env


def _recorded_imports(log: Path, package_dir: Path, kernel_pid: int | None, where: Where) -> list[str]:
    """The package's files that the kernel and its processes executed (kernel_site/sitecustomize.py)."""
    records = [line.split("\t") for line in log.read_text(encoding="utf-8").splitlines()] if log.exists() else []
    if not any(r[0] == "start" and r[1] == str(kernel_pid) for r in records):
        raise LessonError(
            f"{where.path}: the kernel did not record which bnref files it imported "
            f"({KERNEL_SITE / 'sitecustomize.py'} did not run in it): without that list the cache could go stale"
        )
    others = sorted({r[2] for r in records if r[0] == "other"})
    if others:
        raise LessonError(
            f"{where.path}: the lesson imported {package_dir.name} from {others[0]}, not from this "
            f"repository ({package_dir / '__init__.py'}). Something put another copy first on the "
            f"kernel's sys.path (a .pth file or sitecustomize of the environment, or the lesson's own "
            f"code): remove it, and the build uses this repository's."
        )
    root = package_dir.parent
    return sorted({Path(r[2]).relative_to(root).as_posix() for r in records if r[0] == "file"})


def execute_notebook(nb, where: Where, cwd: Path, package_dir: Path | None, work: Path, timeout: int = CELL_TIMEOUT_S):
    """Run every cell of `nb` in a fresh kernel whose cwd is `cwd`; record the bnref files it imports.

    Returns the executed notebook, its metadata.bnref_build holding `imports` (relative paths) and
    the slowest cell. Raises LessonError at the first cell that raises, writes to stderr or times out.
    """
    imports_log = work / "imports.log"
    client = _Client(
        nb,
        where,
        work,
        timeout=timeout,
        interrupt_on_timeout=True,  # the kernel's traceback then shows where the cell was
        error_on_timeout={"ename": "CellTimeout", "evalue": "", "traceback": []},
        kernel_name="python3",
        allow_errors=False,
        resources={"metadata": {"path": str(cwd)}},
        extra_arguments=[
            f"--IPKernelApp.exec_files={KERNEL_STARTUP}",
            "--InteractiveShell.xmode=Plain",  # tracebacks as Python prints them, no context lines
            # The kernel's own log (e.g. its notice about TCP on localhost) is not lesson output.
            "--IPKernelApp.log_level=ERROR",
        ],
    )
    client.execute(env=_kernel_env(package_dir, imports_log))
    imports = _recorded_imports(imports_log, package_dir, client.kernel_pid, where) if package_dir else []
    seconds, line = client.slowest
    nb.metadata["bnref_build"] = {"imports": imports, "slowest_cell": {"line": line, "seconds": round(seconds, 1)}}
    return nb


def execute_lesson(lesson: Path, setup_source: str, package_dir: Path | None = None, timeout: int = CELL_TIMEOUT_S):
    """Run one lesson in this process (see execute_notebook). Raises LessonError."""
    text = lesson.read_text(encoding="utf-8")
    where = Where(f"{lesson.parent.name}/{lesson.name}", code_lines(text), {})
    with tempfile.TemporaryDirectory(prefix="bnref-lesson-") as work:
        return execute_notebook(read_lesson(lesson, setup_source), where, lesson.parent, package_dir, Path(work), timeout)


KERNEL_START_ATTEMPTS = 3


def main(argv: list[str]) -> int:
    """`python lesson_kernel.py WORK`: run WORK/input.ipynb as WORK/job.json says, write output.ipynb or error.txt."""
    work = Path(argv[0])
    job = json.loads((work / "job.json").read_text(encoding="utf-8"))
    where = Where(job["lesson"], job["lines"], {})
    for attempt in range(1, KERNEL_START_ATTEMPTS + 1):
        nb = nbformat.read(work / "input.ipynb", as_version=4)
        try:
            nb = execute_notebook(nb, where, Path(job["cwd"]), Path(job["package_dir"]), work, job["timeout"])
        except LessonError as err:
            message = str(err)
        except Exception as err:  # the kernel died, did not start, ...
            started = (work / "cell.txt").exists()
            # jupyter_client picks the kernel's five TCP ports by binding and releasing them; another
            # kernel starting at the same moment can take one first ("Address already in use"), seen
            # here once with several builds at once. A kernel that never reached a cell is started again.
            if not started and attempt < KERNEL_START_ATTEMPTS:
                print(f"{job['lesson']}: the kernel did not start ({type(err).__name__}: {err}); trying again",
                      file=sys.stderr)
                continue
            current = (work / "cell.txt").read_text(encoding="utf-8") if started else job["lesson"]
            message = f"{current}: {type(err).__name__}: {err}"
        else:
            lesson_cache.write_atomic(work / "output.ipynb", nbformat.writes(nb))
            return 0
        break
    lesson_cache.write_atomic(work / "error.txt", message)
    return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
