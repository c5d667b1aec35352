"""강의 13 (여러 프로세스에서 BN)의 출력 고정: tests/test_lessons.py 의 실행기와 비교 규칙을 그대로 씁니다.

이 강의는 프로세스를 띄우고(느림) 시간을 출력하므로(실행마다 다름) 그 파일의 목록에 들지 않고
여기서 따로, @slow 로 검사합니다. 기대 출력 tests/lessons/13_sync_batchnorm.txt 에서 시간과
운영체제에 따라 다른 줄은 ``...`` 로 적혀 있고, 나머지 숫자는 모두 고정됩니다.

출력을 눈으로 확인한 뒤 기대 파일을 다시 쓰려면 (시간 줄은 다시 ``...`` 로 바꿉니다):
    python tests/test_lesson_sync.py --update
"""

import re
import sys

import psutil
import pytest

import test_lessons
from test_lessons import EXPECTED_DIR, check, run_lesson

NAME = "13_sync_batchnorm"
EXPECTED = EXPECTED_DIR / f"{NAME}.txt"
# 실행마다 달라서 고정하지 않는 줄의 시작 (기대 파일에서는 '...' 한 줄)
UNPINNED = ("BatchNorm2d: ", "내보낸 바이트 ", "이 운영체제에서는 ")


@pytest.fixture(scope="module")
def lesson_output():
    return run_lesson(NAME, threads=1)


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_printed_output_matches(lesson_output):
    ok, report = check(EXPECTED.read_text(encoding="utf-8"), lesson_output)
    assert ok, f"{NAME}.py printed something else:\n{report}"


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_only_the_timing_lines_are_left_open(lesson_output):
    expected = EXPECTED.read_text(encoding="utf-8")
    assert expected.count("...") == 1  # 시간과 바이트 두 줄을 덮는 하나
    got = lesson_output
    assert sum(line.startswith(UNPINNED) for line in got.splitlines()) == 2


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_output_has_no_unstable_reprs(lesson_output):
    got = lesson_output
    assert "grad_fn" not in got and "tensor(" not in got
    assert not re.search(r"\d[eE][-+]\d", got), "scientific notation is rounding noise"
    assert not re.search(r"-0\.0+\b(?!\d)", got), "-0.0 should print as 0.0"


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_lesson_leaves_no_process_behind(lesson_output):
    spawned = [p for p in psutil.Process().children(recursive=True) if "spawn_main" in " ".join(p.cmdline())]
    assert spawned == []


def test_lesson_structure():
    test_lessons.test_lesson_structure(NAME)


def _update():
    out = run_lesson(NAME, threads=1)
    lines, skipped = [], False
    for line in out.splitlines():
        if line.startswith(UNPINNED):
            if not skipped:
                lines.append("...")
            skipped = True
        else:
            lines.append(line)
    EXPECTED.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("wrote", EXPECTED)


if __name__ == "__main__":
    if sys.argv[1:] == ["--update"]:
        _update()
    else:
        sys.exit("usage: python tests/test_lesson_sync.py --update")
