"""강좌의 한국어 글: 네 가지 실수를 다시 하지 않게 합니다 (검사 함수는 tests/korean_text.py).

1. 머리줄을 잃은 Markdown 셀: 코드 셀 안의 한국어 문단은 페이지에 코드로 보이고 수식이 그려지지 않습니다.
2. 조사 띄어쓰기: "BN 은", "`x` 를", "1 과"가 아니라 "BN은", "`x`를", "1과". 조사는 앞말의 발음에 맞춥니다
   ("ε이", "γ가").
3. 용어: 용어집(docs/glossary.md)의 "쓰지 않는 말" 표에 있는 말을 쓰지 않고, 강의마다 "편향 분산"을
   처음 쓸 때 무엇으로 나누는지 말합니다.
4. 측정한 결과를 말하는 문장은 출력된 숫자와 맞아야 합니다: 글에 적힌 소수는 출력되었거나 코드의
   설정값이어야 하고, 출력된 결과를 가리키며 "…다면"으로 가정만 하는 문단은 안 됩니다.

검사하는 글은 독자가 보는 모든 글입니다: 강의의 Markdown 셀과 코드 셀의 한국어 주석·문자열,
docs/*.md, 그리고 API 페이지가 보여 주는 bnref의 독스트링. 실패 메시지는 파일:줄을 알려 줍니다.
지금 걸리는 곳을 한꺼번에 보려면: ``python tests/korean_text.py``.

각 검사에는 일부러 틀린 예(심어 둔 실수)를 넣은 단위 테스트가 있어서, 검사가 실제로 실패할 수
있다는 것도 이 파일이 확인합니다.
"""

from __future__ import annotations

import functools
from pathlib import Path

import pytest

import korean_text as kt

LESSONS = kt.lesson_files()
TEXT_FILES = LESSONS + kt.doc_files() + kt.docstring_files()
FAKE = Path("lessons/99_planted.py")


def _ids(paths):
    return [str(p.relative_to(kt.ROOT)) for p in paths]


@functools.cache
def _pieces(path: Path) -> tuple[kt.Piece, ...]:
    if path.suffix == ".md":
        lines = list(enumerate(path.read_text(encoding="utf-8").split("\n"), start=1))
        return tuple(kt.markdown_pieces(path, lines))
    if path.parent == kt.LESSON_DIR:
        return tuple(kt.lesson_pieces(path))
    return tuple(kt.docstring_pieces(path))


def _report(findings) -> str:
    return "\n".join(map(str, findings))


def _lesson(*cells: str) -> str:
    """심어 둔 실수를 담은 작은 강의 파일 (jupytext percent 형식)."""
    return "# ---\n# jupyter:\n# ---\n\n" + "\n\n".join(cells) + "\n"


# ── 1. 머리줄을 잃은 Markdown 셀 ─────────────────────────────────────────────────────────────────
@pytest.mark.parametrize("path", LESSONS, ids=_ids(LESSONS))
def test_no_code_cell_holds_korean_prose(path):
    findings = kt.lost_markdown_headers(path)
    assert not findings, _report(findings)


LOST_HEADER = """# %%
print("결론")

# 위의 마지막 두 줄이 이 측정의 결론입니다. 두 학습률에서 결론이 다르다면, 매끄러움의 비교가 학습 설정에
# 따라 달라진다는 것 자체가 이 실험의 결과입니다.
#
# - **같은 걸음 크기, 다른 모델.** 같은 $\\eta$라도 기울기가 큰 모델은 더 멀리 움직입니다."""


@pytest.mark.parametrize("cell, reason, line", [
    (LOST_HEADER, "lines of Korean comments", 11),  # 10강에 실제로 있었던 실수
    ("# %%\nx = 1\n# 첫 문단입니다.\n#\n# 둘째 문단입니다.", "paragraphs", 10),
    ("# %%\nx = 1\n# 값이 **두 배**가 됩니다.", "Markdown syntax", 10),
    ("# %%\n# 그래서 이 값은 1이 됩니다.", "only Korean comments", 9),
])
def test_planted_lost_header_is_caught(cell, reason, line):
    # 파일의 8번째 줄이 심어 둔 셀의 머리줄입니다 (_lesson의 머리말 4줄 + 제목 셀 2줄 + 빈 줄).
    findings = kt.lost_markdown_headers(FAKE, _lesson("# %% [markdown]\n# # 제목", cell))
    assert [(reason in f.message, f.line) for f in findings] == [(True, line)], _report(findings)


def test_short_teaching_comments_are_fine():
    cell = ("# %%\n# 출처: CS231n 과제 2의 cs231n/layers.py (설명, 기본값).\n# 본문은 설명대로 채웠습니다.\n"
            "def f(x):\n    return x  # 그대로 돌려줍니다\n# %% [markdown]\n# 설명 문단은\n#\n# Markdown 셀에.")
    assert kt.lost_markdown_headers(FAKE, _lesson(cell)) == []


# ── 2. 조사 띄어쓰기와 발음에 맞는 조사 ──────────────────────────────────────────────────────────
@pytest.mark.parametrize("path", TEXT_FILES, ids=_ids(TEXT_FILES))
def test_particles_attach_to_the_word_before(path):
    findings = kt.particle_spacing(list(_pieces(path)))
    assert not findings, _report(findings)


@pytest.mark.parametrize("text", [
    "BN 은 미니배치의 통계를 씁니다", "CODE 를 부릅니다", "1 과 2", "GPU 용입니다", "랭크(rank) 라고 부릅니다",
    "분산 1 인 값", "MATH 입니다", "ε 이 없으면", "x̂ 의 평균", "**가중치 공유(weight sharing)** 에 있습니다",
    "float64 로 합칩니다", "`x` 가 아니라", "n−1 로 나눔", "None 이면", "\"분산이 1\" 이라고",
])
def test_planted_spaced_particle_is_caught(text):
    assert kt.spaced_particles(kt.mask_markdown_line(text)), text


@pytest.mark.parametrize("text", [
    "BN은 미니배치의 통계를 씁니다", "1 과목", "x 값을", "그리고 이 값은", "γ = 1, β = 0으로", "샘플 4 개",
    "- 이 목록", "그래도 순서가 \"뒤집힐\" 뿐", "평균 50, 표준편차 10인", "ReLU 뒤의 특성",
    "**4.** 이 강의의 측정에서",  # 번호를 굵게 쓴 뒤의 지시어 "이"
])
def test_attached_particles_and_ordinary_words_pass(text):
    assert kt.spaced_particles(kt.mask_markdown_line(text)) == [], text


@pytest.mark.parametrize("text, bad", [
    ("ε가 하는 일", "ε가"), ("ε를 더하면", "ε를"), ("ε로 나눔", "ε로"), ("γ을 곱합니다", "γ을"),
    ("β은 0입니다", "β은"), ("BN를 넣으면", "BN를"), ("GPU으로", "GPU으로"),
])
def test_planted_mismatched_particle_is_caught(text, bad):
    assert [snippet for _, snippet in kt.mismatched_particles(text)] == [bad]


def test_particles_matching_the_pronunciation_pass():
    text = "ε이 없으면 ε을 더합니다. ε과 γ가 β를 BN은 BN이 GPU가 γ로 ε으로 β와 γ는 β이고 ε이며"
    assert kt.mismatched_particles(text) == []


def test_string_literals_on_consecutive_lines_are_separate_texts():
    lesson = _lesson("# %% [markdown]\n# # 제목", '# %%\nrows = [f"배치 {n}",\n        "이 크기의 망에서"]\nx = "BN 은 통계를 씁니다"')
    findings = kt.particle_spacing(kt.lesson_pieces(FAKE, lesson))
    assert [f.line for f in findings] == [11], _report(findings)  # "BN 은" only, not "{n}" + "이 크기"


def test_a_particle_after_a_line_break_is_caught_where_it_is():
    pieces = kt.markdown_pieces(FAKE, [(10, "배치 정규화, 곧 BN"), (11, "은 미니배치의 통계를 씁니다.")])
    assert [(f.line, "particle" in f.message) for f in kt.particle_spacing(pieces)] == [(11, True)]


def test_docstrings_the_api_page_shows_are_checked_and_others_not():
    source = '''"""모듈 설명: ``bnref`` 의 일부."""

def public(x):
    """``x`` 를 돌려줍니다.

    >>> public(1)  # 1 을 넣으면
    1
    """
    return x  # 코드 주석 x 를 보지 않습니다


def _private():
    """``y`` 를 보지 않습니다."""


class Layer:
    def __init__(self):
        """``num_features`` 를 받습니다."""

    def _helper(self):
        """``z`` 를 보지 않습니다."""
'''
    findings = kt.particle_spacing(kt.docstring_pieces(FAKE, source))
    assert sorted(f.line for f in findings) == [1, 4, 6, 18], _report(findings)


def test_the_docstrings_checked_are_those_of_the_api_page():
    assert "bnref.functional" in kt.api_modules() and kt.ROOT / "bnref" / "functional.py" in kt.docstring_files()


# ── 3. 쓰지 않는 말 ──────────────────────────────────────────────────────────────────────────────
@functools.cache
def _avoided() -> dict[str, str]:
    return kt.avoided_terms_table()


def test_the_glossary_lists_the_words_to_avoid():
    table = _avoided()
    for term, instead in [("매개변수", "파라미터"), ("훈련", "학습"), ("running 통계", "이동 통계"),
                          ("합치기(fusion)", "접어 넣기"), ("표준화", "정규화"), ("정규화(regularization)", "규제")]:
        assert term in table and instead in table[term], term
    assert "표본 분산" in table and "표본 분산 (어느 쪽인지 모호함)" not in table  # 괄호 속 설명은 말이 아님


@pytest.mark.parametrize("path", TEXT_FILES, ids=_ids(TEXT_FILES))
def test_no_avoided_terms(path):
    findings = kt.avoided_terms(kt.term_pieces(list(_pieces(path))), _avoided())
    assert not findings, _report(findings)


def test_planted_avoided_terms_are_caught():
    lines = [(1, "층은 매개변수와 버퍼를 들고 있습니다."), (2, "훈련 모드에서는"), (3, "앞 층에 합치기(fusion)"),
             (4, "입력은 표준화되어"), (5, "학습 중의 running"), (6, "통계는 지수 이동 평균")]
    findings = kt.avoided_terms(kt.markdown_pieces(FAKE, lines), _avoided())
    assert sorted(f.line for f in findings) == [1, 2, 3, 4, 5], _report(findings)


def test_quoted_mentions_and_code_are_not_uses():
    lines = [(1, '특성(feature)과 같은 말을 써서 "특징 맵"이라 하지 않습니다.'),
             (2, "`running 통계`처럼 코드 안의 글은 보지 않습니다."), (3, "`running_mean`과 이동 통계")]
    assert kt.avoided_terms(kt.markdown_pieces(FAKE, lines), _avoided()) == []


def test_the_glossary_page_itself_is_not_checked_for_terms():
    pieces = list(_pieces(kt.GLOSSARY))
    assert pieces and kt.term_pieces(pieces) == []


@pytest.mark.parametrize("path", LESSONS, ids=_ids(LESSONS))
def test_biased_variance_says_what_it_divides_by_at_first_use(path):
    findings = kt.biased_variance_first_use(path)
    assert not findings, _report(findings)


@pytest.mark.parametrize("prose, ok", [
    ("# 정규화에는 편향 분산(biased variance)을 씁니다.", False),
    ("# 정규화에는 편향 분산(biased variance, $n$으로 나눈 분산)을 씁니다.", True),
    ("# 정규화에는 $n$으로 나누는 편향 분산(biased variance)을 씁니다.", True),
])
def test_planted_unexplained_biased_variance_is_caught(prose, ok):
    findings = kt.biased_variance_first_use(FAKE, _lesson("# %% [markdown]\n# # 제목\n#\n" + prose))
    assert (findings == []) == ok


# ── 4. 측정한 결과를 말하는 문장 = 출력된 숫자 ──────────────────────────────────────────────────
@pytest.mark.parametrize("path", LESSONS, ids=_ids(LESSONS))
def test_numbers_in_the_prose_are_printed_or_set_in_the_code(path):
    findings = kt.stale_numbers(path, kt.expected_output(path))
    assert not findings, _report(findings)


@pytest.mark.parametrize("path", LESSONS, ids=_ids(LESSONS))
def test_the_prose_states_printed_results_instead_of_supposing_them(path):
    findings = kt.hedged_outcomes(path)
    assert not findings, _report(findings)


PLANTED_NUMBERS = _lesson(
    "# %% [markdown]\n# # 제목\n#\n# 학습률 0.3에서 BN 모델의 정확도는 0.687이었고, 없는 모델은 0.88이었습니다.",
    "# %%\nlr = 0.3\nprint(acc)",
    "# %% [markdown]\n# 처음 값의 비중은 $0.9^k$이고, Keras의 `momentum=0.99`와 반대입니다.",
)


@pytest.mark.parametrize("printed, stale", [
    ("BN: 0.6870, 없음: 0.8812", []),  # 글의 숫자는 출력된 숫자를 반올림한 것: 통과
    ("BN: 0.7021, 없음: 0.8812", ["0.687"]),  # 코드를 바꿔 출력이 달라졌는데 글은 옛 숫자
    ("BN: 0.6870, 없음: 0.8712", ["0.88"]),
])
def test_planted_stale_number_is_caught(printed, stale):
    findings = kt.stale_numbers(FAKE, printed, PLANTED_NUMBERS)
    assert [f.message.split()[1] for f in findings] == stale
    assert all(f.line == 8 for f in findings)


def test_section_numbers_and_numbers_quoted_on_the_references_page_are_not_measurements():
    lesson = _lesson("# %% [markdown]\n# # 제목\n#\n# 원 논문 3.2절과 §4.1, d2l 8.5절에 따르면 정확도 0.499였습니다.",
                     "# %%\nprint(1)")
    quoted = "0.499" in kt._references_text()  # Mishkin의 CaffeNet 벤치마크, 참고 문헌 페이지에 적힌 숫자
    findings = kt.stale_numbers(FAKE, "1", lesson)
    assert quoted and findings == [], _report(findings)
    made_up = kt.stale_numbers(FAKE, "1", lesson.replace("0.499", "0.517"))
    assert [f.message.split()[1] for f in made_up] == ["0.517"]


@pytest.mark.parametrize("prose, caught", [
    ("# 위 두 줄이 이 실험의 답입니다. 두 학습률이 다르다면 그 비가 곧 답입니다.", True),  # 7강에 있던 문장
    ("# 표를 읽을 때 큰 배율이 느려지는 것이 보인다면 원인은 $1/a^2$입니다.", True),
    ("# 위 두 줄이 이 실험의 답입니다. 두 학습률의 비는 3입니다.", False),
    ("# 분포의 안정이 비결이었다면 나올 수 없는 결과입니다.", False),  # 출력을 가리키지 않는 가정
    ("# 어떻게 설정하는지 궁금하다면 그림의 설명을 보세요.", False),
    ("# 편향이 움직인다면 학습 때와 평가 때의 출력이 어긋납니다.", False),  # 모델의 출력: 찍힌 결과가 아님
    ("# <details markdown=\"1\">\n# <summary>풀이</summary>\n#\n# 위 표에서 평균이 맞다면 3.2배입니다.\n#\n# </details>", False),
])
def test_planted_hedged_outcome_is_caught(prose, caught):
    findings = kt.hedged_outcomes(FAKE, _lesson("# %% [markdown]\n# # 제목\n#\n" + prose))
    assert bool(findings) == caught, _report(findings)
