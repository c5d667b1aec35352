"""프로세스를 띄우는 강의들의 출력 고정: 13 (여러 프로세스에서 BN), 14 (torchrun과 DDP), 15_multi_node (여러 기계).

tests/test_lessons.py의 실행기와 비교 규칙을 그대로 씁니다. 이 강의들은 프로세스를 띄우므로(느림) 그 파일의
목록에 들지 않고 여기서 따로, @slow로 검사합니다. 강의 13은 시간을 출력하므로(실행마다 다름) 기대 출력
tests/lessons/13_sync_batchnorm.txt에서 시간과 운영체제에 따라 다른 줄이 ``...``로 적혀 있고, 나머지 숫자는
모두 고정됩니다. 강의 14의 두 파일은 모든 줄을 고정합니다(float64와 시드, 그리고 일꾼 프로세스마다 스레드 1개).

출력을 눈으로 확인한 뒤 기대 파일을 다시 쓰려면 (시간 줄은 다시 ``...``로 바꿉니다):
    python tests/test_lesson_sync.py --update [NAME...]
"""

import re
import sys

import psutil
import pytest

import test_lessons
from test_lessons import EXPECTED_DIR, check, run_lesson

# 강의 이름 -> 실행마다 달라서 고정하지 않는 줄의 시작 (기대 파일에서는 '...' 한 줄)
LESSONS = {
    "13_sync_batchnorm": ("BatchNorm2d: ", "내보낸 바이트 ", "이 운영체제에서는 "),
    "14_ddp_torchrun": (),
    "15_multi_node": (),
}
# 강의가 띄우는 프로세스의 명령줄에 보이는 것: spawn의 일꾼, torchrun, 학습 스크립트
LAUNCHED = ("spawn_main", "torch.distributed.run", "bnref.course.examples")


@pytest.fixture(scope="module", params=list(LESSONS))
def lesson(request):
    return request.param, run_lesson(request.param, threads=1)


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_printed_output_matches(lesson):
    name, got = lesson
    ok, report = check((EXPECTED_DIR / f"{name}.txt").read_text(encoding="utf-8"), got)
    assert ok, f"{name}.py printed something else:\n{report}"


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_only_the_timing_lines_are_left_open(lesson):
    name, got = lesson
    expected = (EXPECTED_DIR / f"{name}.txt").read_text(encoding="utf-8")
    unpinned = LESSONS[name]
    assert expected.count("...") == (1 if unpinned else 0)  # 강의 13: 시간과 바이트 두 줄을 덮는 하나
    assert sum(line.startswith(unpinned) for line in got.splitlines()) == (2 if unpinned else 0)


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_output_has_no_unstable_reprs(lesson):
    _, got = lesson
    assert "grad_fn" not in got and "tensor(" not in got
    assert not re.search(r"\d[eE][-+]\d", got), "scientific notation is rounding noise"
    assert not re.search(r"-0\.0+\b(?!\d)", got), "-0.0 should print as 0.0"


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_lesson_leaves_no_process_behind(lesson):
    launched = [p for p in psutil.Process().children(recursive=True)
                if any(word in " ".join(p.cmdline()) for word in LAUNCHED)]
    assert launched == []


@pytest.mark.parametrize("name", list(LESSONS))
def test_lesson_structure(name):
    test_lessons.test_lesson_structure(name)


def _update(names):
    for name in names:
        out = run_lesson(name, threads=1)
        lines, skipped = [], False
        for line in out.splitlines():
            if LESSONS[name] and line.startswith(LESSONS[name]):
                if not skipped:
                    lines.append("...")
                skipped = True
            else:
                lines.append(line)
        (EXPECTED_DIR / f"{name}.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
        print("wrote", EXPECTED_DIR / f"{name}.txt")


if __name__ == "__main__":
    if sys.argv[1:2] == ["--update"]:
        _update(sys.argv[2:] or list(LESSONS))
    else:
        sys.exit("usage: python tests/test_lesson_sync.py --update [NAME...]")
