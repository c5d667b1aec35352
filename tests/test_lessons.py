"""강의를 실제로 실행하고, 출력된 숫자를 모두 고정합니다(doctest 방식 비교).

각 강의(lessons/NN_*.py, jupytext percent 형식)의 코드 셀을 순서대로 이 프로세스 안에서
실행합니다(커널을 띄우지 않아 빠릅니다). 표준 출력과, ``display()``로 보여 준 표, 그리고
그림마다 제목·축 이름을 한 줄로 요약한 것을 모아 tests/lessons/NN_*.txt 의 기대 출력과
비교합니다. 비교는 pytest doctest와 같은 규칙(NUMBER | NORMALIZE_WHITESPACE | ELLIPSIS)을
따르므로 기대 파일에 적힌 자릿수까지만 맞으면 됩니다.

bnref의 수식이 틀리면(불편 분산으로 정규화, ε 누락, 모멘텀 가중치 뒤바뀜, γ·β 뒤바뀜)
출력된 숫자가 바뀌어 이 테스트가 실패합니다. 아래 test_planted_mistake_changes_a_printed_number가
(slow) bnref 복사본에 실수를 하나씩 심어 그것을 확인합니다.

강의 내용을 바꿔 출력이 달라졌다면, 출력을 눈으로 확인한 뒤 기대 파일을 다시 씁니다:
    python tests/test_lessons.py --update            (모든 강의)
    python tests/test_lessons.py --update 05_batchnorm2d   (그 강의만)
"""

from __future__ import annotations

import ast
import contextlib
import difflib
import doctest
import functools
import io
import os
import re
import subprocess
import sys
import warnings
from pathlib import Path

import jupytext
import matplotlib

matplotlib.use("Agg")

import IPython.display  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from _pytest.doctest import _get_checker, _get_number_flag  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
LESSON_DIR = ROOT / "lessons"
EXPECTED_DIR = Path(__file__).resolve().parent / "lessons"
LESSON_NAMES = ["01_why_normalize", "02_implement", "03_train_eval", "04_distribution",
                "05_batchnorm2d", "06_backward", "07_digits_training", "08_placement",
                "09_regularization", "10_why_it_works", "11_competing_explanations",
                "12_small_batches", "16_inference",
                "17_common_mistakes", "18_conventions"]
LESSONS = [LESSON_DIR / f"{name}.py" for name in LESSON_NAMES]
# Lessons that start processes (and 13 prints timings): pinned by their own (slow) test with this file's
# run_lesson/check, expected output in the same folder (tests/test_lesson_sync.py).
PINNED_ELSEWHERE = ["13_sync_batchnorm", "14_ddp_torchrun", "15_multi_node"]

OPTIONFLAGS = _get_number_flag() | doctest.NORMALIZE_WHITESPACE | doctest.ELLIPSIS


def _figure_summary(fig) -> str:
    """그림을 실제로 그리고(글리프 누락 경고가 여기서 납니다) 글자들을 한 줄로 요약합니다."""
    fig.canvas.draw()
    parts = []
    for ax in fig.axes:
        texts = [ax.get_title(), ax.get_xlabel(), ax.get_ylabel()]
        legend = ax.get_legend()
        if legend is not None:
            texts += [t.get_text() for t in legend.get_texts()]
        parts.append(" / ".join(t.replace("\n", " ") for t in texts if t))
    return "[그림] " + " | ".join(parts)


@contextlib.contextmanager
def _lesson_environment(threads: int):
    """강의 실행 환경: 강의 폴더에서, 정해진 스레드 수로, 그림과 display를 가로채서."""
    old_cwd, old_threads = os.getcwd(), torch.get_num_threads()
    old_show, old_display = plt.show, IPython.display.display

    def show(*args, **kwargs):
        for num in plt.get_fignums():
            print(_figure_summary(plt.figure(num)))
        plt.close("all")

    def display(*objs, **kwargs):
        for obj in objs:
            print(getattr(obj, "data", obj))

    os.chdir(LESSON_DIR)
    torch.set_num_threads(threads)
    plt.show, IPython.display.display = show, display
    try:
        with matplotlib.rc_context(), warnings.catch_warnings():
            # 강의 안의 경고(예: 'Glyph ... missing from font')는 모두 실패로 봅니다.
            warnings.simplefilter("error")
            yield
    finally:
        plt.show, IPython.display.display = old_show, old_display
        plt.close("all")
        torch.set_num_threads(old_threads)
        os.chdir(old_cwd)


def _run_cell(source: str, filename: str, namespace: dict) -> None:
    """셀 하나를 실행합니다. 노트북처럼, 마지막 줄이 식이면 그 값(None이 아니면)의 repr도
    출력합니다. 페이지에 찍히는 것은 모두 여기에도 찍혀야 기대 출력으로 고정할 수 있습니다."""
    tree = ast.parse(source, filename)
    last = tree.body[-1] if tree.body else None
    if isinstance(last, ast.Expr) and not source.rstrip().endswith(";"):
        tree.body.pop()
        exec(compile(tree, filename, "exec"), namespace)
        value = eval(compile(ast.Expression(last.value), filename, "eval"), namespace)
        if value is not None:
            print(repr(value))
    else:
        exec(compile(tree, filename, "exec"), namespace)


@functools.cache
def run_lesson(name: str, threads: int = 1) -> str:
    """강의를 실행하고 보여 준 모든 것(출력, 표, 그림 요약)을 하나의 문자열로 돌려줍니다."""
    notebook = jupytext.read(LESSON_DIR / f"{name}.py")
    namespace = {"__name__": "__main__"}
    out = io.StringIO()
    with _lesson_environment(threads), contextlib.redirect_stdout(out):
        for i, cell in enumerate(notebook.cells):
            if cell.cell_type == "code":
                _run_cell(cell.source, f"{name}.py [cell {i}]", namespace)
        if plt.get_fignums():
            print("[plt.show() 없이 남은 그림]")
    return out.getvalue()


def check(expected: str, got: str) -> tuple[bool, str]:
    """doctest 규칙으로 비교합니다. 다르면, 줄 단위로 다른 곳만 보여 줍니다."""
    ok = _get_checker().check_output(expected, got, OPTIONFLAGS)
    if ok:
        return True, ""
    lines = difflib.unified_diff(
        expected.splitlines(), got.splitlines(), "expected", "printed", lineterm="", n=1
    )
    return False, "\n".join(lines)


# Lessons whose in-process run takes more than ~5 s (they train small models over several seeds): their
# pinning tests run in the slow suite. Their structure test stays fast.
SLOW_LESSONS = ["07_digits_training", "08_placement", "09_regularization", "10_why_it_works",
                "11_competing_explanations"]


def _params(names, slow):
    return [pytest.param(n, marks=pytest.mark.slow) if n in slow else n for n in names]


@pytest.mark.parametrize("name", _params(LESSON_NAMES, SLOW_LESSONS))
def test_printed_output_matches(name):
    expected = (EXPECTED_DIR / f"{name}.txt").read_text(encoding="utf-8")
    ok, report = check(expected, run_lesson(name, threads=1))
    assert ok, f"{name}.py printed something else:\n{report}"


# Lessons 7–10 train small models and call torch.set_num_threads(1) themselves (threads cost more
# than they save there, and the build runs two lessons at once on 2 cores): their "2 threads" run
# repeats the 1-thread run, so it is left to the slow suite.
SETS_ONE_THREAD = ["07_digits_training", "08_placement", "09_regularization", "10_why_it_works",
                   "11_competing_explanations"]


@pytest.mark.parametrize("name", _params(LESSON_NAMES, SETS_ONE_THREAD + SLOW_LESSONS))
def test_output_is_the_same_with_two_threads(name):
    # BN 출력의 평균은 1e-8 크기의 반올림 잡음이고 스레드 수에 따라 바뀝니다.
    # 강의가 반올림해서 출력하므로 글자 하나까지 같아야 합니다.
    expected = (EXPECTED_DIR / f"{name}.txt").read_text(encoding="utf-8")
    if "..." in expected:  # 잰 시간을 찍는 강의(11): 시간은 '...'로 비운 기대 출력과 비교
        ok, report = check(expected, run_lesson(name, threads=2))
        assert ok, report
    else:
        assert run_lesson(name, threads=2) == run_lesson(name, threads=1)


@pytest.mark.parametrize("name", _params(LESSON_NAMES, SLOW_LESSONS))
def test_output_has_no_unstable_reprs(name):
    got = run_lesson(name, threads=1)
    assert "grad_fn" not in got
    assert "tensor(" not in got  # 텐서는 bnref.course.printing.fmt로 반올림해서 보여 줍니다.
    # 3.7253e-08 같은 값은 반올림 잡음입니다 (eps = 1e-05 같은 설정값은 괜찮습니다).
    assert not re.search(r"\d\.\d+[eE][-+]\d", got), "print rounded values, not rounding noise"
    assert not re.search(r"-0\.0+\b(?!\d)", got), "-0.0 should print as 0.0"


@pytest.mark.parametrize("name", LESSON_NAMES)
def test_lesson_structure(name):
    text = (LESSON_DIR / f"{name}.py").read_text(encoding="utf-8")
    assert text.startswith("# ---\n# jupyter:\n#   jupytext:\n"), "jupytext header first"
    notebook = jupytext.read(LESSON_DIR / f"{name}.py")
    markdown = "\n".join(c.source for c in notebook.cells if c.cell_type == "markdown")
    titles = re.findall(r"^# \S.*$", markdown, flags=re.M)
    assert len(titles) == 1, f"one '#' title per lesson, got {titles}"
    assert notebook.cells[0].cell_type == "markdown" and notebook.cells[0].source.startswith("# ")
    assert re.search(r"^## \S", markdown, flags=re.M), "sections use '##'"
    code = "\n".join(c.source for c in notebook.cells if c.cell_type == "code")
    assert "pip install" not in code, "the site build injects the setup cell"
    assert "koreanize_matplotlib" not in code, "use bnref.course.viz.use_korean_font()"


def test_every_lesson_has_expected_output():
    assert sorted(p.stem for p in LESSON_DIR.glob("[0-9][0-9]_*.py")) == sorted(LESSON_NAMES + PINNED_ELSEWHERE)
    assert sorted(p.stem for p in EXPECTED_DIR.glob("*.txt")) == sorted(LESSON_NAMES + PINNED_ELSEWHERE)


def test_a_changed_number_is_caught():
    # 비교 규칙 자체의 검사: 적힌 자릿수 안의 차이는 실패, 그 밖의 차이는 통과.
    assert check("평균 1.0000\n", "평균 1.0000\n")[0]
    assert not check("평균 1.0000\n", "평균 0.7500\n")[0]
    assert not check("평균 0.0000\n", "평균 nan\n")[0]
    assert not check("평균 1.0000\n", "평균 1.0003\n")[0]


# 강의 출력이 잡아내야 하는 심어 둔 실수 (이름은 tests/test_mutations.py의 MUTATIONS).
# 어느 강의의 어느 줄이 바뀌는지: 불편 분산 → 모든 강의의 표준편차(예: 02의 출력 분산 0.7500),
# ε 누락 → 02의 분산 0인 특성이 nan, 모멘텀 뒤바뀜 → 03의 running_mean, γ·β 뒤바뀜 → 02·03·04의 평균과 표준편차.
LESSON_MUTATIONS = [
    "unbiased variance in the normalisation",
    "dropped eps",
    "momentum weighting reversed",
    "gamma and beta swapped",
]
# 위 실수를 잡아내도록 설계한 기초 강의들. 뒤의 강의는 학습을 돌려 오래 걸리므로, 이 검사(실수마다
# 새 프로세스)에서는 이 넷만 돌립니다.
MUTATION_LESSONS = ["01_why_normalize", "02_implement", "03_train_eval", "04_distribution"]


def _run_against_copy(copy_root: Path) -> tuple[int, str]:
    """copy_root/bnref를 import하는 새 프로세스에서 이 파일의 출력 비교 테스트만 돌립니다."""
    args = ["-q", "-p", "no:randomly", "-c", str(ROOT / "pyproject.toml"), "--rootdir", str(ROOT),
            "-k", f"test_printed_output_matches and ({' or '.join(MUTATION_LESSONS)})",
            str(Path(__file__).resolve())]
    code = ("import sys, bnref, pytest; print('BNREF_FILE', bnref.__file__, flush=True); "
            f"sys.exit(pytest.main({args!r}))")
    env = {**os.environ, "PYTHONPATH": str(copy_root), "PYTHONDONTWRITEBYTECODE": "1"}
    # cwd를 복사본으로 두어 sys.path 맨 앞의 ''가 저장소의 bnref를 가리키지 않게 합니다.
    proc = subprocess.run([sys.executable, "-c", code], cwd=copy_root, env=env,
                          capture_output=True, text=True, timeout=300)
    out = proc.stdout + proc.stderr
    assert f"BNREF_FILE {copy_root / 'bnref' / '__init__.py'}" in out, out[-3000:]
    return proc.returncode, out


@pytest.mark.slow
@pytest.mark.parametrize("name", [None, *LESSON_MUTATIONS], ids=["unmutated", *LESSON_MUTATIONS])
def test_planted_mistake_changes_a_printed_number(tmp_path, name):
    from test_mutations import MUTATIONS, copy_bnref

    copy_bnref(tmp_path, None if name is None else MUTATIONS[name])
    code, out = _run_against_copy(tmp_path)
    summary = [line for line in out.splitlines() if re.search(r"\d+ (passed|failed).* in [\d.]+s", line)]
    ran = sum(int(n) for n in re.findall(r"(\d+) (?:passed|failed)", summary[-1] if summary else ""))
    assert ran == len(MUTATION_LESSONS), out[-3000:]  # 네 강의가 모두 돌았는지
    if name is None:  # 대조군: 실수가 없으면 통과해야, 아래의 실패가 실수 때문임을 압니다.
        assert code == 0, out[-3000:]
    else:
        assert code == 1 and " failed" in out, out[-3000:]


def _update(names=LESSON_NAMES):
    EXPECTED_DIR.mkdir(exist_ok=True)
    for name in names:
        (EXPECTED_DIR / f"{name}.txt").write_text(run_lesson(name), encoding="utf-8")
        print("wrote", EXPECTED_DIR / f"{name}.txt")


if __name__ == "__main__":
    if sys.argv[1:2] == ["--update"]:
        _update(sys.argv[2:] or LESSON_NAMES)  # 이름을 주면 그 강의의 기대 출력만 다시 씁니다
    else:
        sys.exit("usage: python tests/test_lessons.py --update [NAME...]")
