"""A teacher's build with real processes: it fails fast at the line, stops on Ctrl-C leaving nothing
behind, runs beside another build, and uses the repository's own bnref. Small lessons in copies of
the repository (site_build.small_course); each build takes seconds.
"""

from __future__ import annotations

import os
import re
import signal
import sys
import time
from pathlib import Path

import pytest
from site_build import ROOT, LESSON_CACHE, Build, Running, processes_mentioning, small_course

sys.path.insert(0, str(ROOT / "hooks"))

import lesson_exec  # noqa: E402

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]

KERNEL_INTERNALS = re.compile(r"zmq|jupyter_client|ipykernel|nbclient|tornado|asyncio|interactiveshell", re.I)


def _leftovers(repo: Path) -> list[str]:
    return [p.name for p in (repo / LESSON_CACHE).iterdir() if p.suffix not in (".ipynb", ".json")]


# ── Fail fast, at the line ────────────────────────────────────────────────────────────────────────


def test_the_first_failure_stops_the_build_and_names_the_line(tmp_path):
    repo = small_course(
        tmp_path / "repo",
        {
            "01_bad": "def share(n):\n    return 1 / n\n\n# %%\ntotal = 10\nprint(share(total - 10))",
            "02_slow": "import time\ntime.sleep(120)",
            "03_never": "open('../03_ran', 'w').close()",
        },
    )
    started = time.monotonic()
    failed = Build(repo, repo / "site", env={"TMPDIR": str(tmp_path)})
    seconds = time.monotonic() - started
    assert not failed.ok
    assert seconds < 60, f"{seconds:.0f} s: the build waited for 02_slow"
    assert "03_never" not in failed.executed() and not (repo / "03_ran").exists()
    # lessons/01_bad.py: lines 1-4 the title cell, 6 `# %%`, 7 `def share(n):`, 8 `return 1 / n`,
    # 10 `# %%`, 11 `total = 10`, 12 the call that raises.
    assert "lessons/01_bad.py:12: ZeroDivisionError: division by zero" in failed.log
    assert ">   12 | print(share(total - 10))" in failed.log and "    11 | total = 10" in failed.log
    assert "lessons/01_bad.py:8 in share" in failed.log  # the frame in the earlier cell, by its line
    error = failed.log[failed.log.index("lessons/01_bad.py:12") :]
    assert not KERNEL_INTERNALS.search(error), error
    assert "Cell In[" not in error
    assert processes_mentioning(str(tmp_path)) == [] and _leftovers(repo) == []


def test_a_warning_fails_at_the_cell_that_raised_it(tmp_path):
    lesson = tmp_path / "lessons" / "01_warn.py"
    lesson.parent.mkdir()
    lesson.write_text(
        "# %%\nimport warnings\n\n# %%\nx = 1\nwarnings.warn('조심하세요')\n\n# %%\nopen('../ran', 'w').close()\n",
        encoding="utf-8",
    )
    with pytest.raises(lesson_exec.LessonError) as raised:
        lesson_exec.execute_lesson(lesson, "pass")
    message = str(raised.value)
    assert message.startswith("lessons/01_warn.py:6: the cell wrote to stderr")
    assert "lessons/01_warn.py:6: UserWarning: 조심하세요" in message
    assert not (tmp_path / "ran").exists()  # the next cell never ran


def test_a_cell_over_the_time_limit_fails_saying_where_it_was(tmp_path):
    lesson = tmp_path / "lessons" / "01_hang.py"
    lesson.parent.mkdir()
    lesson.write_text("# %%\nimport time\n\n# %%\nx = 1\nwhile True:\n    time.sleep(0.1)\n", encoding="utf-8")
    started = time.monotonic()
    with pytest.raises(lesson_exec.LessonError) as raised:
        lesson_exec.execute_lesson(lesson, "pass", timeout=3)
    assert time.monotonic() - started < 60
    message = str(raised.value)
    assert message.startswith("lessons/01_hang.py:7: the cell did not finish in 3 s (CELL_TIMEOUT_S"), message
    assert "KeyboardInterrupt" in message and not KERNEL_INTERNALS.search(message), message


# ── Ctrl-C ────────────────────────────────────────────────────────────────────────────────────────

# Starts a subprocess and a multiprocessing worker, says so, then sleeps while ../SLOW exists.
SLEEPY = """\
import multiprocessing, os, subprocess, sys, time
child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(300)"])
worker = multiprocessing.get_context("spawn").Process(target=time.sleep, args=(300,))
worker.start()
open(f"../started-{NAME}", "w").close()
while os.path.exists("../SLOW"):
    time.sleep(0.1)
print("깼습니다")"""


@pytest.mark.parametrize("target", ["process-group", "mkdocs-alone"])
def test_ctrl_c_stops_the_build_and_the_next_build_runs_only_the_unfinished(tmp_path, target):
    lessons = {"01_quick": "print('빠름')"}
    lessons.update({name: SLEEPY.replace("{NAME}", name) for name in ("02_sleepy", "03_sleepy")})
    repo = small_course(tmp_path / "repo", lessons)
    (repo / "SLOW").touch()
    build = Running(repo, "build", repo / "site", env={"TMPDIR": str(tmp_path)})
    try:
        build.wait_for(lambda: (repo / "started-02_sleepy").exists() and (repo / "started-03_sleepy").exists(),
                       what="both sleepy lessons started")
        assert "executed lesson: 01_quick" in build.log
        time.sleep(1)  # their worker processes are up
        if target == "process-group":
            os.killpg(build.proc.pid, signal.SIGINT)  # what a terminal's Ctrl-C does
        else:
            os.kill(build.proc.pid, signal.SIGINT)
        interrupted = time.monotonic()
        code = build.wait(timeout=60)
        seconds = time.monotonic() - interrupted
    finally:
        build.stop()
    assert code != 0
    assert seconds < 10, f"the build took {seconds:.1f} s to stop"
    time.sleep(1)  # the kernels' orphaned children are reaped by init
    assert processes_mentioning(str(tmp_path)) == []  # kernels, subprocesses, workers, run processes
    assert _leftovers(repo) == [] and [p.name for p in tmp_path.iterdir() if p.name.startswith("bnref-")] == []
    (repo / "SLOW").unlink()
    again = Build(repo, repo / "site")
    assert again.ok, again.log
    assert again.executed() == {"02_sleepy", "03_sleepy"}


# ── Two builds at once ────────────────────────────────────────────────────────────────────────────


def test_two_builds_at_once_in_one_checkout_both_succeed(tmp_path):
    repo = small_course(tmp_path / "repo", {f"0{i}_l": f"print({i})" for i in range(1, 4)})
    builds = [Running(repo, "build", tmp_path / f"site{i}", strict=True) for i in range(2)]
    try:
        codes = [b.wait(timeout=300) for b in builds]
    finally:
        for b in builds:
            b.stop()
    assert codes == [0, 0], "\n\n".join(b.log for b in builds)
    assert sorted(p.name.split("-")[0] for p in (repo / LESSON_CACHE).glob("*.ipynb")) == ["01_l", "02_l", "03_l"]
    assert _leftovers(repo) == []
    assert Build(repo, tmp_path / "site3").counts() == (0, 3)


# ── The repository's own bnref ────────────────────────────────────────────────────────────────────

WHICH = "import bnref\nprint(bnref.__file__)"


def test_the_kernel_uses_this_repositorys_bnref_whatever_pythonpath_says(tmp_path):
    other = tmp_path / "other-clone"
    (other / "bnref").mkdir(parents=True)
    (other / "bnref" / "__init__.py").write_text("")
    repo = small_course(tmp_path / "repo", {"01_which": WHICH})
    build = Build(repo, repo / "site", env={"PYTHONPATH": str(other)})
    assert build.ok, build.log
    page = (repo / "site" / "lessons" / "01_which" / "index.html").read_text(encoding="utf-8")
    assert str(repo / "bnref" / "__init__.py") in page


def test_another_bnref_first_on_the_kernels_path_fails_the_build_clearly(tmp_path):
    other = tmp_path / "other-clone"
    (other / "bnref").mkdir(parents=True)
    (other / "bnref" / "__init__.py").write_text("")
    # As a .pth file that moves its entries to the front of sys.path would.
    repo = small_course(tmp_path / "repo", {"01_which": f"import sys\nsys.path.insert(0, {str(other)!r})\n" + WHICH})
    build = Build(repo, repo / "site")
    assert not build.ok
    assert (
        f"lessons/01_which.py: the lesson imported bnref from {other / 'bnref' / '__init__.py'}, "
        f"not from this repository ({repo / 'bnref' / '__init__.py'})"
    ) in build.log
