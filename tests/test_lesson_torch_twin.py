"""자주 하는 실수 강의의 약속: 층을 bnref 대신 torch.nn으로 바꿔도 출력이 그대로다.

강의 17은 ``BatchNorm1d = bnref.BatchNorm1d`` 한 줄로 층을 고르고, 본문에서 "이 줄을
``torch.nn.BatchNorm1d``로 바꿔도 모든 출력이 그대로 나온다"고 말합니다. 여기서 실제로 바꿔
실행하고, 기대 출력(tests/lessons/17_common_mistakes.txt)과 doctest 규칙으로 비교합니다.
"""

from __future__ import annotations

import contextlib
import io

import jupytext
import pytest
from test_lessons import EXPECTED_DIR, LESSON_DIR, _lesson_environment, check

TWINS = {
    "17_common_mistakes": ("BatchNorm1d = bnref.BatchNorm1d", "BatchNorm1d = torch.nn.BatchNorm1d"),
}


def run_with(name: str, old: str, new: str) -> str:
    notebook = jupytext.read(LESSON_DIR / f"{name}.py")
    sources = [c.source for c in notebook.cells if c.cell_type == "code"]
    assert sum(s.count(old) for s in sources) == 1, f"{old!r} must appear exactly once in {name}.py"
    namespace = {"__name__": "__main__"}
    out = io.StringIO()
    with _lesson_environment(1), contextlib.redirect_stdout(out):
        for i, source in enumerate(sources):
            exec(compile(source.replace(old, new), f"{name}.py [code cell {i}]", "exec"), namespace)
    return out.getvalue()


@pytest.mark.parametrize("name", TWINS)
def test_torch_layers_print_the_same(name):
    old, new = TWINS[name]
    expected = (EXPECTED_DIR / f"{name}.txt").read_text(encoding="utf-8")
    ok, report = check(expected, run_with(name, old, new))
    assert ok, f"{name}.py with {new!r} printed something else:\n{report}"
