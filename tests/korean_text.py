"""강좌의 한국어 글을 검사하는 함수들 (tests/test_korean_text.py가 씁니다).

독자가 보는 글은 세 곳에 있습니다: 강의(lessons/NN_*.py의 Markdown 셀, 코드 셀의 한국어 주석과
문자열), docs/*.md, 그리고 API 페이지(docs/api.md의 ``::: 모듈``)가 보여 주는 bnref의 독스트링.
:func:`corpus`가 이것들을 (파일, 줄 번호, 글) 조각으로 모아 주고, 검사 함수는 조각마다
``Finding(path, line, message)``을 돌려줍니다. 검사는 네 가지입니다.

1. :func:`lost_markdown_headers` — 코드 셀 안의 한국어 문단(머리줄 ``# %% [markdown]``을 잃은 셀).
2. :func:`particle_spacing` — 라틴 문자·숫자·코드·기호 뒤에 띄어 쓴 조사, 그리고 ε·γ·β 등의 발음과
   맞지 않는 조사.
3. :func:`avoided_terms` — 용어집의 "쓰지 않는 말" 표에 있는 말.
4. :func:`stale_numbers` — 강의 글에 적힌 소수가 그 강의가 출력한 숫자(tests/lessons/NN_*.txt)나
   코드에 적힌 설정값이 아닌 것.

모두 정규식과 ``ast``/``tokenize``만 쓰므로 빠릅니다(torch를 불러오지 않습니다). 직접 실행하면
지금 저장소에서 걸리는 곳을 모두 보여 줍니다: ``python tests/korean_text.py``.
"""

from __future__ import annotations

import ast
import functools
import io
import re
import sys
import tokenize
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LESSON_DIR = ROOT / "lessons"
DOCS_DIR = ROOT / "docs"
EXPECTED_DIR = ROOT / "tests" / "lessons"
GLOSSARY = DOCS_DIR / "glossary.md"

HANGUL = "가-힣"


@dataclass(frozen=True)
class Piece:
    """독자가 보는 글 한 줄. ``text``는 코드·수식·링크 주소를 자리표시로 바꾼 것입니다."""

    path: Path
    line: int  # 1부터
    text: str
    kind: str  # "markdown" | "comment" | "string" | "docstring"
    exercise: bool = False  # 연습 문제의 풀이(<details> … </details>) 안인가


@dataclass(frozen=True)
class Finding:
    path: Path
    line: int
    message: str

    def __str__(self) -> str:
        try:
            where = self.path.relative_to(ROOT)
        except ValueError:
            where = self.path
        return f"{where}:{self.line}: {self.message}"


# ── 글에서 코드·수식·주소 가리기 ───────────────────────────────────────────────────────────────
# 가린 자리에는 라틴 문자 자리표시를 둡니다. 그래야 "`x` 를"처럼 코드 뒤에 띄어 쓴 조사를 찾을 수
# 있고, 코드 속의 숫자나 낱말이 다른 검사에 걸리지 않습니다.
CODE, MATH = "CODE", "MATH"

_INLINE_CODE = re.compile(r"(`+)(?:(?!\1).)+?\1")
_INLINE_MATH = re.compile(r"(?<![\\$])\$(?!\$)(?:\\.|[^$\\])+?\$")
_LINK_TARGET = re.compile(r"\]\([^)\s]*\)|\]\[[^\]]*\]")
_HTML_TAG = re.compile(r"</?[A-Za-z][^<>]*>")
_URL = re.compile(r"https?://\S+")
_ROLE = re.compile(r":[a-z]+(?::[a-z]+)?:`[^`]*`")


def mask_markdown_line(line: str) -> str:
    """Markdown 한 줄에서 인라인 코드, 인라인 수식, 링크 주소, HTML 태그, URL을 가립니다."""
    line = _INLINE_CODE.sub(CODE, line)
    line = _INLINE_MATH.sub(MATH, line)
    line = _LINK_TARGET.sub("]", line)
    line = _HTML_TAG.sub(" ", line)
    return _URL.sub(" ", line)


def markdown_pieces(path: Path, lines: list[tuple[int, str]], kind: str = "markdown") -> list[Piece]:
    """Markdown 줄들(줄 번호, 글)에서 울타리 코드 블록과 ``$$`` 수식 블록을 빼고 가린 조각들."""
    pieces, fence, in_math, in_details = [], None, False, False
    for number, line in lines:
        stripped = line.strip()
        if stripped.startswith("<details"):
            in_details = True
        elif stripped.startswith("</details>"):
            in_details = False
        if fence:
            if stripped.startswith(fence):
                fence = None
            continue
        match = re.match(r"(```+|~~~+)", stripped)
        if match:
            fence = match.group(1)
            continue
        if in_math:
            if "$$" in stripped:
                in_math = False
            continue
        if stripped.startswith("$$"):
            in_math = stripped == "$$" or not stripped.endswith("$$") or len(stripped) < 4
            continue
        if stripped.startswith(":::"):  # mkdocstrings 지시문
            continue
        pieces.append(Piece(path, number, mask_markdown_line(line), kind, in_details))
    return pieces


# ── 강의 파일 (jupytext percent 형식) ──────────────────────────────────────────────────────────
@dataclass
class Cell:
    kind: str  # "markdown" | "code"
    start: int  # 머리줄 다음 줄의 번호 (1부터)
    lines: list[str]


def lesson_cells(text: str) -> list[Cell]:
    """``# %%`` 머리줄로 셀을 나눕니다. 맨 앞의 jupytext 머리말(``# ---`` … ``# ---``)은 뺍니다."""
    cells: list[Cell] = []
    current: Cell | None = None
    for number, line in enumerate(text.split("\n"), start=1):
        if line.startswith("# %%"):
            kind = "markdown" if re.match(r"# %% \[markdown\]", line) else "code"
            current = Cell(kind, number + 1, [])
            cells.append(current)
        elif current is not None:
            current.lines.append(line)
    return cells


def _markdown_text(line: str) -> str:
    return line[2:] if line.startswith("# ") else line[1:] if line.startswith("#") else line


def _code_pieces(path: Path, cell: Cell) -> list[Piece]:
    """코드 셀에서 독자가 보는 한국어: 주석과 문자열 (코드 자체는 빼고)."""
    source = "\n".join(cell.lines)
    pieces = []
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(source).readline))
    except (tokenize.TokenError, SyntaxError, IndentationError):
        return pieces
    for token in tokens:
        if token.type not in (tokenize.COMMENT, tokenize.STRING) or not re.search(f"[{HANGUL}]", token.string):
            continue
        kind = "comment" if token.type == tokenize.COMMENT else "string"
        literal = token.string
        if kind == "string":  # 접두사와 따옴표를 떼고 내용만
            literal = re.sub(r"^[rRbBuUfF]*(\"\"\"|\'\'\'|\"|\')(.*)\1$", r"\2", literal, flags=re.S)
        for offset, text in enumerate(literal.split("\n")):
            if kind == "string":
                text = re.sub(r"\{[^{}]*\}", CODE, text)  # f-문자열의 {식}
            pieces.append(Piece(path, cell.start + token.start[0] - 1 + offset,
                                mask_markdown_line(text.lstrip("#")), kind))
    return pieces


def lesson_pieces(path: Path, text: str | None = None) -> list[Piece]:
    text = path.read_text(encoding="utf-8") if text is None else text
    return list(_lesson_pieces(path, text))


@functools.lru_cache(maxsize=64)
def _lesson_pieces(path: Path, text: str) -> tuple[Piece, ...]:
    pieces: list[Piece] = []
    for cell in lesson_cells(text):
        if cell.kind == "markdown":
            lines = [(cell.start + i, _markdown_text(line)) for i, line in enumerate(cell.lines)]
            pieces += markdown_pieces(path, lines)
        else:
            pieces += _code_pieces(path, cell)
    return tuple(pieces)


# ── 사이트가 보여 주는 독스트링 ────────────────────────────────────────────────────────────────
def api_modules(api_page: Path = DOCS_DIR / "api.md") -> list[str]:
    """API 페이지가 ``::: 이름``으로 보여 주는 모듈들."""
    return re.findall(r"^::: *([\w.]+)", api_page.read_text(encoding="utf-8"), flags=re.M)


def _module_path(name: str) -> Path:
    base = ROOT.joinpath(*name.split("."))
    return base / "__init__.py" if base.is_dir() else base.with_suffix(".py")


def _docstring_node(body: list[ast.stmt], index: int = 0) -> ast.Constant | None:
    if len(body) > index and isinstance(body[index], ast.Expr):
        value = body[index].value
        if isinstance(value, ast.Constant) and isinstance(value.value, str):
            return value
    return None


def shown_docstrings(tree: ast.Module) -> list[ast.Constant]:
    """mkdocstrings(``filters: ["!^_"]``)가 보여 주는 독스트링: 모듈, 이름이 _로 시작하지 않는
    함수·클래스·메서드·속성(대입 바로 뒤의 문자열), 그리고 클래스에 합쳐 보여 주는 ``__init__``."""
    found = []

    def visit(body: list[ast.stmt], in_class: bool) -> None:
        for i, node in enumerate(body):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                public = not node.name.startswith("_") or (in_class and node.name == "__init__")
                if public:
                    doc = _docstring_node(node.body)
                    if doc is not None:
                        found.append(doc)
                    if isinstance(node, ast.ClassDef):
                        visit(node.body, in_class=True)
            elif isinstance(node, (ast.Assign, ast.AnnAssign)):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                names = [t.id for t in targets if isinstance(t, ast.Name)]
                doc = _docstring_node(body, i + 1)
                if doc is not None and names and not names[0].startswith("_"):
                    found.append(doc)

    module_doc = _docstring_node(tree.body)
    if module_doc is not None:
        found.append(module_doc)
    visit(tree.body, in_class=False)
    return found


def _docstring_lines(doc: ast.Constant) -> list[tuple[int, str]]:
    """독스트링의 줄들과 소스 파일의 줄 번호. 리터럴이 시작하는 줄에 첫 줄이 있습니다."""
    lines, in_math, math_indent = [], False, 0
    for offset, line in enumerate(doc.value.split("\n")):
        indent = len(line) - len(line.lstrip())
        if in_math and (not line.strip() or indent > math_indent):
            continue
        in_math = False
        if line.strip().startswith(".. math::"):
            in_math, math_indent = True, indent
            continue
        stripped = line.strip()
        if stripped.startswith((">>>", "...")):  # 예시의 코드: 주석만 남깁니다.
            line = line.split("#", 1)[1] if "#" in line else ""
        lines.append((doc.lineno + offset, _ROLE.sub(CODE, line)))
    return lines


def docstring_pieces(path: Path, source: str | None = None) -> list[Piece]:
    source = path.read_text(encoding="utf-8") if source is None else source
    pieces = []
    for doc in shown_docstrings(ast.parse(source)):
        pieces += markdown_pieces(path, _docstring_lines(doc), kind="docstring")
    return pieces


# ── 모든 글 ────────────────────────────────────────────────────────────────────────────────────
def lesson_files() -> list[Path]:
    return sorted(LESSON_DIR.glob("[0-9][0-9]_*.py"))


def doc_files() -> list[Path]:
    return sorted(DOCS_DIR.glob("*.md"))


def docstring_files() -> list[Path]:
    return [_module_path(name) for name in api_modules()]


def corpus() -> list[Piece]:
    """독자가 보는 한국어 글 전부: 강의, docs/*.md, API 페이지의 독스트링."""
    pieces: list[Piece] = []
    for path in lesson_files():
        pieces += lesson_pieces(path)
    for path in doc_files():
        lines = list(enumerate(path.read_text(encoding="utf-8").split("\n"), start=1))
        pieces += markdown_pieces(path, lines)
    for path in docstring_files():
        pieces += docstring_pieces(path)
    return pieces


# ── 1. 머리줄을 잃은 Markdown 셀 ────────────────────────────────────────────────────────────────
_MARKDOWN_SYNTAX = re.compile(r"\*\*|\$|\]\(|^\s*#{1,6}\s|^\s*[-*]\s+\S.*[가-힣]")


def lost_markdown_headers(path: Path, text: str | None = None) -> list[Finding]:
    """코드 셀 안에서 주석 줄이 연달아 있는 덩어리가 한국어 문단으로 보이면 실패입니다.

    문단으로 보는 기준(하나만 맞아도): 한국어가 든 주석 줄이 3줄 이상, 빈 ``#`` 줄로 나뉜 한국어
    주석(문단 나눔), Markdown 문법(``**굵게**``, ``$수식$``, ``[링크](주소)``, ``## 제목``, ``- 목록``)이
    든 한국어 주석, 또는 한국어 주석만 있고 코드가 없는 셀. 설명하는 주석은 한두 줄이면 충분하고,
    그보다 긴 설명은 Markdown 셀(``# %% [markdown]``)에 써야 페이지에 글로 보입니다.
    """
    text = path.read_text(encoding="utf-8") if text is None else text
    findings = []
    for cell in lesson_cells(text):
        if cell.kind != "code":
            continue
        runs: list[list[tuple[int, str]]] = [[]]
        for i, line in enumerate(cell.lines):
            if re.match(r"\s*#", line):
                runs[-1].append((cell.start + i, re.sub(r"^\s*#", "", line)))
            elif runs[-1]:
                runs.append([])
        has_code = any(line.strip() and not line.strip().startswith("#") for line in cell.lines)
        for run in runs:
            korean = [(n, t) for n, t in run if re.search(f"[{HANGUL}]", t)]
            if not korean:
                continue
            blank_inside = any(not t.strip() for n, t in run if korean[0][0] < n < korean[-1][0])
            syntax = [n for n, t in korean if _MARKDOWN_SYNTAX.search(t)]
            reason = None
            if len(korean) >= 3:
                reason = f"{len(korean)} lines of Korean comments"
            elif blank_inside:
                reason = "Korean comments split into paragraphs by a bare '#' line"
            elif syntax:
                reason = "Korean comment with Markdown syntax"
            elif not has_code:
                reason = "a code cell holding only Korean comments"
            if reason:
                findings.append(Finding(path, run[0][0], f"{reason} in a code cell: a Markdown cell that lost "
                                        "its '# %% [markdown]' header? (renders as code, its math never renders)"))
    return findings


# ── 2. 조사 띄어쓰기와 발음에 맞는 조사 ────────────────────────────────────────────────────────
# 조사와, 조사처럼 앞말에 붙는 서술격 조사(이다)의 활용형·접미사. 띄어 쓴 낱말 전체가 이 중 하나일
# 때만 조사로 봅니다("1 과목"의 "과목", "x 값"의 "값"은 조사가 아닙니다). 앞말이 한글이면 보지
# 않습니다: "그리고 이 값은"의 "이"처럼 한글 뒤에 띄어 쓴 "이", "도", "만"은 대개 조사가 아닙니다.
# 알려진 한계: 닫는 괄호 뒤에 띄어 쓴 지시어 "이"("…(아래 표) 이 값은")도 조사로 읽습니다. 그런 문장은
# 괄호를 옮기거나 문장을 나누면 됩니다. 숫자 뒤의 단위·의존 명사("4 개", "3 번째")는 보지 않습니다.
_CASE = ["은", "는", "이", "가", "을", "를", "과", "와", "의", "로", "으로", "에", "에서", "에게", "께",
         "한테", "도", "만", "까지", "부터", "보다", "처럼", "마다", "뿐", "밖에", "조차", "마저", "랑",
         "이랑", "로서", "으로서", "로써", "으로써", "이나", "이든", "든", "씩", "쯤", "용",
         "들", "만큼", "대로", "끼리", "께서", "에는", "에서는", "에서도", "에도", "에만", "에서의",
         "에의", "으로는", "로는", "으로도", "로도", "으로만", "로만", "으로의", "로의", "과는", "와는",
         "과의", "와의", "과도", "와도", "만의", "만으로", "만이", "만을", "만은", "까지는", "까지의",
         "부터는", "부터의", "보다는", "보다도", "처럼", "마다의", "뿐만", "뿐인", "뿐입니다", "이라도",
         "라도", "이나마", "이야", "야", "이랑은", "용으로", "용의", "용은", "용입니다", "짜리"]
_COPULA = ["인", "일", "이다", "입니다", "입니까", "이고", "이며", "이면", "이라", "이라서", "이라면",
           "이므로", "이니", "이니까", "인데", "인데도", "인지", "인지를", "인지는", "인가", "인가요",
           "인가를", "일까", "일까요", "일지", "이지만", "이어서", "이어야", "이어도", "이었다",
           "이었습니다", "였다", "였습니다", "이에요", "예요", "이죠", "이고요", "이라고", "라고",
           "이라는", "라는", "이란", "란", "라서", "라면", "이라고는", "이어서는", "입니다만", "면", "이면서", "이면서도"]
PARTICLES = frozenset(_CASE + _COPULA)

# 띄어 쓴 조사 앞의 글자: 라틴 문자, 숫자, 그리스 문자, 가린 코드·수식, 닫는 괄호·따옴표, %, 위·아래
# 첨자, 결합 문자(x̂의 ^). 문장 부호(. , : ; ! ?), 여는 괄호, 줄표, 표의 |, 화살표 뒤는 보지 않습니다.
_BEFORE = r"[A-Za-z0-9Α-Ωα-ωϵ)\]}%\"”’'」』²³ⁿ₀-₉\u0300-\u036f*]"
_SPACED = re.compile(rf"(?P<before>{_BEFORE}) +(?P<word>[{HANGUL}]+)(?![{HANGUL}])")

# 발음: ε(엡실론), BN(비엔), CNN(씨엔엔)은 받침으로 끝나고 γ(감마), β(베타), μ(뮤), σ(시그마),
# GPU(지피유), ReLU(렐루), torch·PyTorch(토치)는 모음으로 끝납니다.
ENDS_IN_CONSONANT = ("ε", "BN", "CNN")
ENDS_IN_VOWEL = ("γ", "β", "μ", "σ", "GPU", "CPU", "ReLU", "torch", "PyTorch")
_AFTER_VOWEL_ONLY = frozenset(["가", "를", "는", "와", "로", "로는", "로도", "로서", "로써", "로의", "로만",
                               "와는", "와의", "와도", "라고", "라는", "란", "라서", "라면", "랑", "나",
                               "야", "다", "고", "며", "면", "였다", "였습니다", "예요"])
_AFTER_CONSONANT_ONLY = frozenset(["을", "은", "과", "으로", "으로는", "으로도", "으로서", "으로써",
                                   "으로의", "으로만", "과는", "과의", "과도", "이랑"])
# 따옴표 안이 동사의 관형형일 수 있으므로("뒤집힐" 뿐), 따옴표 뒤에서는 의존 명사로도 쓰이는 말을 보지 않습니다.
_QUOTES = "\"”’'」』"
_AFTER_QUOTE_SPACED = frozenset(["뿐", "뿐입니다", "뿐인", "뿐만", "만큼", "대로", "들"])
_ATTACHED = re.compile(rf"(?<![A-Za-z])(?P<word>{'|'.join(map(re.escape, ENDS_IN_CONSONANT + ENDS_IN_VOWEL))})"
                       rf"(?P<particle>[{HANGUL}]+)")


def spaced_particles(text: str) -> list[tuple[int, str]]:
    """가린 글에서 앞말과 띄어 쓴 조사들: (조사의 위치, 앞뒤 글) ("BN 은" → [(3, "BN 은")])."""
    found = []
    for match in _SPACED.finditer(text):
        before, word = match.group("before"), match.group("word")
        start = match.start("before")
        if before == "*":
            # 목록 기호나 강조의 시작("* 이", " **이"), 또는 문장 부호로 끝난 강조("**4.** 이 강의")
            stripped = text[:start].rstrip("*")
            if not stripped or stripped[-1] in " .,:;!?":
                continue
        if before in _QUOTES and word in _AFTER_QUOTE_SPACED:
            continue
        if word in PARTICLES:
            found.append((match.start("word"), text[max(0, start - 12):match.end()].strip()))
    return found


def mismatched_particles(text: str) -> list[tuple[int, str]]:
    """발음과 맞지 않는 조사: (위치, 낱말) ("ε가" → 받침이 있으니 "ε이")."""
    found = []
    for match in _ATTACHED.finditer(text):
        word, particle = match.group("word"), match.group("particle")
        if (word in ENDS_IN_CONSONANT and particle in _AFTER_VOWEL_ONLY
                or word in ENDS_IN_VOWEL and particle in _AFTER_CONSONANT_ONLY):
            found.append((match.start(), f"{word}{particle}"))
    return found


@dataclass(frozen=True)
class Block:
    """빈 줄 없이 이어진 조각들(한 문단, 한 주석 덩어리)을 한 줄로 이은 글. 페이지에서는 줄바꿈이
    빈칸이 되므로, 줄 끝과 다음 줄 처음에 걸친 "BN⏎은"이나 "running⏎통계"도 이렇게 해야 보입니다."""

    path: Path
    lines: tuple[int, ...]
    starts: tuple[int, ...]  # 각 줄이 ``text``에서 시작하는 위치
    text: str

    def line_at(self, offset: int) -> int:
        index = 0
        for i, start in enumerate(self.starts):
            if start <= offset:
                index = i
        return self.lines[index]


def blocks(pieces: list[Piece]) -> list[Block]:
    result, current = [], []

    def flush():
        if current:
            lines, starts, parts, position = [], [], [], 0
            for piece in current:
                part = piece.text.strip()
                lines.append(piece.line)
                starts.append(position)
                parts.append(part)
                position += len(part) + 1
            result.append(Block(current[0].path, tuple(lines), tuple(starts), " ".join(parts)))

    for piece in pieces:
        previous = current[-1] if current else None
        # Separate string literals on consecutive lines of code are separate texts; everything else joins.
        joined = (previous is not None and piece.path == previous.path and piece.kind == previous.kind
                  and piece.kind != "string" and piece.line == previous.line + 1 and piece.text.strip())
        if not joined:
            flush()
            current = []
        if piece.text.strip():
            current.append(piece)
    flush()
    return result


def particle_spacing(pieces: list[Piece]) -> list[Finding]:
    """조사는 앞말에 붙여 씁니다. 라틴 낱말, 숫자, 코드, 수식, 기호 뒤에서도 ("BN은", "`x`를",
    "1과", "GPU용"). 조사는 앞말의 발음에 맞춥니다 ("ε이", "γ가")."""
    findings = []
    for block in blocks(pieces):
        for offset, snippet in spaced_particles(block.text):
            findings.append(Finding(block.path, block.line_at(offset), f"particle separated by a space: {snippet!r}"))
        for offset, snippet in mismatched_particles(block.text):
            findings.append(Finding(block.path, block.line_at(offset),
                                    f"particle does not match the pronunciation: {snippet!r}"))
    return findings


# ── 3. 쓰지 않는 말 ────────────────────────────────────────────────────────────────────────────
def avoided_terms_table(glossary: Path = GLOSSARY) -> dict[str, str]:
    """용어집의 "## 쓰지 않는 말" 표: {쓰지 않는 말: 대신 쓰는 말}.

    첫 칸은 쉼표로 나눈 말들이고, 말 뒤에 띄어 쓴 괄호(예: "표본 분산 (어느 쪽인지 모호함)")는
    독자를 위한 설명이라 검사에 쓰지 않습니다. 말 안의 괄호(예: "합치기(fusion)")는 말의 일부입니다.
    """
    text = glossary.read_text(encoding="utf-8")
    section = re.search(r"^## 쓰지 않는 말\n(.*?)(?=^## |\Z)", text, flags=re.M | re.S)
    if section is None:
        raise AssertionError(f"{glossary}: no '## 쓰지 않는 말' section")
    table = {}
    for row in re.findall(r"^\|(.+)\|\s*$", section.group(1), flags=re.M):
        cells = [c.strip() for c in row.split("|")]
        if len(cells) < 2 or cells[0] in ("쓰지 않는 말", "") or set(cells[0]) <= set("-: "):
            continue
        for term in re.split(r",\s*", re.sub(r"\s+\([^)]*\)", "", cells[0])):
            if term:
                table[term.strip("` ")] = cells[1]
    return table


_QUOTED = re.compile(r"\"[^\"]*\"|“[^”]*”|「[^」]*」")


def avoided_terms(pieces: list[Piece], table: dict[str, str]) -> list[Finding]:
    """용어집이 쓰지 않기로 한 말을 찾습니다. 따옴표 안의 말은 쓰는 것이 아니라 가리키는 것이라
    봅니다 (예: 용어집의 '"특징 맵"이라 하지 않습니다'). 용어집 자체는 :func:`term_pieces`가 뺍니다."""
    findings = []
    for block in blocks(pieces):
        text = _QUOTED.sub(lambda m: " " * len(m.group()), block.text)
        for term, instead in table.items():
            for match in re.finditer(re.escape(term), text):
                findings.append(Finding(block.path, block.line_at(match.start()),
                                        f"avoided term {term!r}: the glossary says {instead!r}"))
    return findings


def term_pieces(pieces: list[Piece]) -> list[Piece]:
    """용어 검사의 대상: 용어집 페이지를 뺀 모든 글 (용어집은 쓰지 않는 말을 나열합니다)."""
    return [p for p in pieces if p.path != GLOSSARY]


_DIVIDED_BY_N = re.compile(r"으로 나(?:눈|눕니다|눔|누는|누어)")


def biased_variance_first_use(path: Path, text: str | None = None) -> list[Finding]:
    """"편향 분산"의 "편향"은 층의 편향(bias)과 다른 뜻이므로, 강의마다 처음 쓰는 곳에서 무엇으로
    나누는지를 함께 말해야 합니다: "편향 분산(n으로 나눈 분산)", "$n$으로 나누는 편향 분산". 처음
    나오는 곳의 앞 20자, 뒤 60자 안에 "…으로 나눈/나누는/나눕니다"가 있어야 통과입니다."""
    text = path.read_text(encoding="utf-8") if text is None else text
    pieces = [p for p in lesson_pieces(path, text) if p.kind == "markdown"]
    for block in blocks(pieces):
        found = block.text.find("편향 분산")
        if found >= 0:
            window = block.text[max(0, found - 20):found + len("편향 분산") + 60]
            if _DIVIDED_BY_N.search(window):
                return []
            return [Finding(path, block.line_at(found), "first use of '편향 분산' in this lesson: say what it "
                            "divides by, e.g. '편향 분산(n으로 나눈 분산)' (편향 also means a layer's bias)")]
    return []


# ── 4. 글에 적힌 숫자 = 출력된 숫자 ────────────────────────────────────────────────────────────
_DECIMAL = re.compile(r"(?<![0-9A-Za-z_.])[-−]?\d+\.\d+(?![0-9A-Za-z_]|\.\d)")
# 소프트웨어 판 번호와 책·논문의 절 번호("3.2절", "§3.2")는 측정값이 아닙니다.
_VERSION_BEFORE = re.compile(r"(?:Python|PyTorch|torch|mkdocs|Material|CUDA|NCCL|판|버전|§)\s*$")
_SECTION_AFTER = re.compile(r"^\s*절")
REFERENCES = DOCS_DIR / "references.md"


def prose_decimals(pieces: list[Piece]) -> list[tuple[Piece, str]]:
    """Markdown 글(수식·코드 밖)에 적힌 소수들."""
    found = []
    for piece in pieces:
        if piece.kind != "markdown":
            continue
        for match in _DECIMAL.finditer(piece.text):
            if _VERSION_BEFORE.search(piece.text[:match.start()]) or _SECTION_AFTER.match(piece.text[match.end():]):
                continue
            found.append((piece, match.group().replace("−", "-")))
    return found


def _numbers_in(text: str) -> set[str]:
    return {m.replace("−", "-") for m in re.findall(r"[-−]?\d+\.\d+|[-−]?\d+", text)}


def _is_shown(number: str, shown: set[str]) -> bool:
    """``number``가 ``shown``의 한 숫자 그대로이거나, 그 숫자를 같은 자릿수로 반올림한 것인가."""
    if number in shown or number.lstrip("-") in shown:
        return True
    digits = len(number.split(".")[1])
    value = float(number)
    for candidate in shown:
        if "." in candidate and len(candidate.split(".")[1]) > digits:
            rounded = f"{float(candidate):.{digits}f}"
            if rounded in (number, f"{-value:.{digits}f}") or rounded.lstrip("-") == number.lstrip("-"):
                return True
    return False


@functools.cache
def _references_text() -> str:
    return "\n".join(p.text for p in markdown_pieces(REFERENCES, list(enumerate(
        REFERENCES.read_text(encoding="utf-8").splitlines(), 1))))


def stale_numbers(path: Path, printed: str, text: str | None = None) -> list[Finding]:
    """강의 글(Markdown)에 적힌 소수는 모두 그 강의가 출력한 숫자이거나 코드에 적힌 설정값이어야
    합니다.

    규칙: Markdown 셀의 소수(``0.687``, ``1.08``; 수식 ``$…$``·``$$…$$``와 코드 ```…```, 링크 주소 밖)마다
    - 그 강의의 고정된 출력(tests/lessons/NN_*.txt, 곧 페이지에 찍힌 숫자)에 같은 숫자가 있거나
      출력된 더 긴 숫자를 같은 자릿수로 반올림한 값이면 통과 (``0.32``는 출력된 ``0.3234``로 통과),
    - 그 강의의 코드에 적힌 숫자(``momentum=0.1``, ``lr=0.3``, ``eps = 1e-5`` 같은 설정값과 상수)면
      통과,
    - 다른 사람이 잰 숫자를 인용한 것이면, 참고 문헌 페이지(docs/references.md)의 그 출처 항목에 같은
      숫자가 적혀 있을 때 통과(인용한 숫자의 출처는 한 곳에 적습니다),
    - 아니면 실패입니다. 코드를 바꿔 출력이 달라졌는데 글이 옛 숫자를 말하고 있거나, 어디에서도
      계산하지 않은 숫자를 글이 지어낸 것입니다.
    정수(스텝 수, 샘플 수, 배치 크기)와 수식 속의 숫자는 보지 않습니다. 결과가 코드에 따라 뒤집힐 수
    있는 문장(어느 쪽이 더 좋았다)은 숫자를 비교해 f-문자열로 출력합니다(10강의 결론처럼). 그러면
    그 문장은 출력이라서 언제나 숫자와 맞습니다.
    """
    text = path.read_text(encoding="utf-8") if text is None else text
    cells = lesson_cells(text)
    code = "\n".join("\n".join(c.lines) for c in cells if c.kind == "code")
    allowed = _numbers_in(printed) | _numbers_in(code) | _numbers_in(_references_text())
    pieces = [p for p in lesson_pieces(path, text) if p.kind == "markdown"]
    return [Finding(path, piece.line, f"number {number} in the prose is neither printed by the lesson "
                    "nor a setting in its code (stale or made up?)")
            for piece, number in prose_decimals(pieces) if not _is_shown(number, allowed)]


_REFERS_TO_OUTPUT = re.compile(
    r"(?:위|아래)(?:의|에서|에)? ?(?:표|그림|출력|숫자|두 줄|마지막|줄|결과)|출력한|출력된|찍힌|찍은"
    r"|표를|표에서|그림에서")
# 결과를 가정하는 조건문. 읽는 사람에게 건네는 말("궁금하다면", "필요하다면")은 빼고 봅니다.
_CONDITIONAL = re.compile(rf"(?<![{HANGUL}])(?!(?:궁금하|원한|필요하)다면)[{HANGUL}]+다면")


def paragraphs(pieces: list[Piece]) -> list[tuple[int, str]]:
    """Markdown 조각들을 문단(빈 줄이나 셀 경계로 나뉨)으로 묶습니다: (첫 줄 번호, 글)."""
    result, current, previous = [], [], None
    for piece in pieces:
        if not piece.text.strip() or (previous is not None and piece.line != previous + 1):
            if current:
                result.append((current[0][0], " ".join(t for _, t in current)))
            current = []
        if piece.text.strip():
            current.append((piece.line, piece.text.strip()))
        previous = piece.line
    if current:
        result.append((current[0][0], " ".join(t for _, t in current)))
    return result


def hedged_outcomes(path: Path, text: str | None = None) -> list[Finding]:
    """출력된 결과를 가리키면서 결과를 말하지 않고 가정하는 문단("위 두 줄이 답입니다. 두 학습률이
    다르다면…", "표에서 … 보인다면…")은 실패입니다. 글을 쓸 때는 결과가 이미 찍혀 있으므로, 결과를
    그대로 말하거나(숫자는 :func:`stale_numbers`가 확인), 코드가 바뀌면 뒤집힐 수 있는 결과라면 숫자를
    비교해 결론 문장을 출력합니다."""
    text = path.read_text(encoding="utf-8") if text is None else text
    pieces = [p for p in lesson_pieces(path, text) if p.kind == "markdown" and not p.exercise]
    findings = []
    for line, paragraph in paragraphs(pieces):
        conditional, reference = _CONDITIONAL.search(paragraph), _REFERS_TO_OUTPUT.search(paragraph)
        if conditional and reference:
            findings.append(Finding(path, line, f"the prose points at the printed result ({reference.group()!r}) "
                                    f"but only supposes it ({conditional.group()!r}): state what was printed, "
                                    "or print the verdict from the numbers"))
    return findings


def expected_output(path: Path) -> str:
    expected = EXPECTED_DIR / f"{path.stem}.txt"
    return expected.read_text(encoding="utf-8") if expected.exists() else ""


def main() -> int:
    pieces = corpus()
    findings = []
    for path in lesson_files():
        findings += lost_markdown_headers(path)
        findings += stale_numbers(path, expected_output(path))
        findings += hedged_outcomes(path)
        findings += biased_variance_first_use(path)
    findings += particle_spacing(pieces)
    findings += avoided_terms(term_pieces(pieces), avoided_terms_table())
    for finding in sorted(findings, key=lambda f: (str(f.path), f.line)):
        print(finding)
    print(f"{len(findings)} findings", file=sys.stderr)
    return 1 if findings else 0


if __name__ == "__main__":
    sys.exit(main())
