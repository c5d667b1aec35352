"""강의가 다른 강의의 출력을 옮겨 적은 줄(``CITED``)이 그 강의의 고정된 출력에 그대로 있는지.

강의 11의 마지막 표는 강의 7·9·10이 출력한 줄을 옮겨 씁니다. 옮긴 줄은 강의 안의 ``CITED = {강의 이름:
[줄, ...]}``에 모여 있습니다. 옮겨 온 강의의 결과가 바뀌어 tests/lessons/<이름>.txt를 다시 쓰면, 옮긴 줄이
더는 그 출력에 없으므로 이 테스트가 실패합니다. 그러면 옮긴 줄과 그 줄을 해석하는 문장을 함께 고칩니다.
"""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXPECTED_DIR = ROOT / "tests" / "lessons"


def cited(path: Path) -> dict[str, list[str]] | None:
    """강의 파일에서 최상위 ``CITED = {...}``의 값 (없으면 None)."""
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "CITED" for t in node.targets):
            return ast.literal_eval(node.value)
    return None


CITING = sorted(p for p in (ROOT / "lessons").glob("[0-9][0-9]_*.py") if cited(p) is not None)


def test_lesson_11_is_found_citing():
    assert "11_competing_explanations" in [p.stem for p in CITING]


@pytest.mark.parametrize("path", CITING, ids=[p.stem for p in CITING])
def test_cited_lines_are_in_the_cited_lessons_pinned_output(path):
    for name, lines in cited(path).items():
        expected = EXPECTED_DIR / f"{name}.txt"
        assert expected.exists(), f"{path.stem} cites {name}, which has no pinned output"
        printed = expected.read_text(encoding="utf-8").splitlines()
        assert lines, f"{path.stem}: CITED[{name!r}] is empty"
        for line in lines:
            # 줄 전체이거나 줄의 앞부분이어야 합니다 (줄 중간의 조각은 뜻이 바뀔 수 있습니다).
            assert any(p.startswith(line) for p in printed), (
                f"{path.stem} cites a line that {name} no longer prints:\n  {line}")
