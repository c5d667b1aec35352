"""Fast tests of the API reference machinery and the print page's links (no site build).

hooks/api_docstrings.py (bnref's torch-style docstrings as Markdown), hooks/api_links.py (lessons
link to the API page) and hooks/print_page.py; the built pages themselves are checked by
test_browser.py and test_links.py.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "hooks"))

import api_docstrings  # noqa: E402
import api_links  # noqa: E402
import griffe  # noqa: E402
from print_page import exact_anchors, heading_on_its_own_line, print_page_links  # noqa: E402

# Modules left off the API page on purpose: a measurement script and an example script readers copy
# (lesson 14 shows its code), not APIs.
NOT_ON_API_PAGE = {"bnref.course.bench", "bnref.course.examples.ddp_digits"}


# ── Docstrings as Markdown ────────────────────────────────────────────────────────────────────────


def _md(text: str, known: dict[str, str] | None = None) -> str:
    return api_docstrings.markdown_docstring(text, (known or {}).get)


def test_math_directive_becomes_a_display_math_block():
    text = "Normalise:\n\n.. math::\n    y = \\frac{x}{2}\n\nDone."
    assert _md(text) == "Normalise:\n\n$$\ny = \\frac{x}{2}\n$$\n\nDone."


def test_math_role_becomes_inline_math():
    assert _md("- Input: :math:`(N, C, *)`") == "- Input: $(N, C, *)$"


def test_cross_reference_roles_link_what_the_page_documents_and_quote_the_rest():
    known = {"BatchNorm1d": "bnref.modules.BatchNorm1d"}
    text = "See :class:`BatchNorm1d` and :class:`torch.nn.BatchNorm1d`, :func:`_private`."
    assert _md(text, known) == (
        "See [`BatchNorm1d`][bnref.modules.BatchNorm1d] and `torch.nn.BatchNorm1d`, `_private`."
    )


def test_double_backticks_become_code():
    assert _md("``running_var`` is unbiased") == "`running_var` is unbiased"


def test_examples_with_double_colon_become_a_google_section():
    assert _md("Examples::\n\n    >>> 1 + 1\n    2\n") == "Examples:\n    >>> 1 + 1\n    2\n"


def test_shape_becomes_a_bold_title_over_its_list():
    assert _md("Shape:\n    - Input: x\n    - Output: y\n") == "**Shape:**\n\n- Input: x\n- Output: y\n"


def test_a_doctest_in_the_description_becomes_a_code_block():
    text = "Sets fonts.\n\n>>> f()\n['DejaVu Sans', 'NanumGothic']\n"
    assert _md(text) == "Sets fonts.\n\n```pycon\n>>> f()\n['DejaVu Sans', 'NanumGothic']\n```\n"


def test_a_doctest_block_runs_to_the_blank_line_even_past_indented_output():
    # fmt's 2-D output continues on a line that starts with a space; it once fell out of the block.
    text = ">>> print(fmt(t))\n[[1.00, 2.00],\n [3.00, nan]]\n>>> g()\n'x'\n\nAfter.\n"
    assert _md(text) == (
        "```pycon\n>>> print(fmt(t))\n[[1.00, 2.00],\n [3.00, nan]]\n>>> g()\n'x'\n```\n\nAfter.\n"
    )


@pytest.fixture(scope="module")
def package():
    extensions = griffe.load_extensions(api_docstrings.ReSTDocstrings())
    return griffe.load("bnref", search_paths=[str(ROOT)], extensions=extensions)


def test_no_bnref_docstring_keeps_rest_markup(package):
    left = []
    for obj in api_docstrings._walk(package):
        if obj.docstring and re.search(r":(?:math|class|func|mod|meth):`|\.\. math::|(?<!`)``(?!`)", obj.docstring.value):
            left.append(obj.path)
    assert left == []


def test_every_doctest_lands_in_an_examples_section_or_a_code_block(package):
    # griffe reads an unknown title such as "Example:" as an admonition; its ">>>" lines then render
    # as nested quotes, and a page-level heading after it lost its anchor on the print page.
    from griffe import DocstringSectionKind, Parser

    loose = []
    for obj in api_docstrings._walk(package):
        if not obj.docstring:
            continue
        for section in obj.docstring.parse(Parser.google, warn_missing_types=False, warn_unknown_params=False):
            if section.kind in (DocstringSectionKind.text, DocstringSectionKind.admonition):
                text = section.value if isinstance(section.value, str) else section.value.contents
                outside = re.sub(r"```.*?```", "", text, flags=re.S)
                if ">>>" in outside:
                    loose.append(f"{obj.path}: {section.kind.value}")
    assert loose == []


def test_a_docstring_with_a_control_character_fails_loudly(tmp_path):
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "__init__.py").write_text('def f():\n    """y = \\frac{1}{2}"""\n')  # \f: form feed
    with pytest.raises(ValueError, match="raw string"):
        griffe.load("pkg", search_paths=[str(tmp_path)], extensions=griffe.load_extensions(api_docstrings.ReSTDocstrings()))


def test_every_public_bnref_module_is_on_the_api_page(package):
    def public(module):
        for sub in module.modules.values():
            if not sub.is_alias and not sub.name.startswith("_"):
                yield sub
                yield from public(sub)

    # A subpackage (bnref.course) is a heading of its own: its modules are on the page one by one.
    modules = {m.path for m in public(package) if not m.is_subpackage}
    on_page = set(re.findall(r"^::: (\S+)", (ROOT / "docs" / "api.md").read_text(encoding="utf-8"), re.M))
    assert on_page == modules - NOT_ON_API_PAGE


# ── Lessons link to the API page ──────────────────────────────────────────────────────────────────


@pytest.fixture(scope="module")
def api():
    return api_links.ApiIndex(ROOT)


@pytest.mark.parametrize(
    ("code", "names"),
    [
        ("import bnref\nbn = bnref.BatchNorm1d(3)", ["bnref", "bnref.BatchNorm1d"]),
        ("import bnref\ny = bnref.functional.batch_norm(x, None, None).sum()", ["bnref", "bnref.functional.batch_norm"]),
        ("from bnref.course.printing import fmt as f\nprint(f(x))", ["bnref.course.printing.fmt"]),
        ("import bnref.functional as F\nF.batch_norm(x)", ["bnref.functional", "bnref.functional.batch_norm"]),
        ("import torch\ntorch.nn.BatchNorm1d(3)", []),
    ],
    ids=["attribute", "call-chain", "from-import-as", "module-as", "torch-only"],
)
def test_names_a_cell_uses(code, names):
    assert api_links.bnref_names(code) == names


def test_cells_share_their_imports():
    local: dict[str, str] = {}
    api_links.bnref_names("import bnref", local)
    assert api_links.bnref_names("bn = bnref.BatchNorm2d(3)", local) == ["bnref.BatchNorm2d"]


def test_names_resolve_to_the_entries_the_api_page_shows(api):
    assert api.resolve("bnref.BatchNorm1d") == "bnref.modules.BatchNorm1d"
    assert api.resolve("bnref.functional.batch_norm") == "bnref.functional.batch_norm"
    assert api.resolve("bnref.functional._reduce_dims") is None  # private: no entry
    assert api.resolve("bnref.course.bench") is None  # not on the page
    assert api.resolve("bnref.no_such_thing") is None


def test_a_lesson_page_links_its_inline_code_and_lists_the_api_its_code_uses(api):
    page = (
        "# 제목\n\n`bnref.BatchNorm1d`를 씁니다. `bnref.nothing`은 없습니다. `bnref.course.launch.spawn(fn, 4)`\n\n"
        "```python\nimport bnref\nbn = bnref.BatchNorm1d(3)\ny = bnref.functional.batch_norm(x, None, None)\n```\n\n"
        "```python\n# `bnref.BatchNorm1d` in a comment stays as it is\n```\n"
    )
    out = api_links.link_inline_code(page, api)
    assert "[`bnref.BatchNorm1d`][bnref.modules.BatchNorm1d]를 씁니다" in out
    assert "`bnref.nothing`은" in out and "[`bnref.nothing`]" not in out
    assert "[`bnref.course.launch.spawn(fn, 4)`][bnref.course.launch.spawn]" in out
    assert "# `bnref.BatchNorm1d` in a comment" in out
    assert api_links.used_api(page, api) == ["bnref.modules.BatchNorm1d", "bnref.functional.batch_norm"]
    box = api_links.api_box(api_links.used_api(page, api), api)
    assert api_links.BOX_TITLE in box and "[`bnref.modules.BatchNorm1d`][bnref.modules.BatchNorm1d]" in box


# ── The print page's cross-references ─────────────────────────────────────────────────────────────


def test_print_page_links_to_nothing_or_to_a_fuzzy_match_become_text():
    html = (
        '<h2 id="api-bnref.modules.BatchNorm1d"><span id="bnref.modules.BatchNorm1d"></span>x</h2>'
        '<h1 id="lessons-04_distribution-분포로-보기">y</h1>'
        '<a class="autorefs autorefs-internal" href="#bnref.modules.BatchNorm1d">BN</a>'
        '<a class="autorefs autorefs-internal" title="torch.nn.Module" href="#torch.nn.Module">Module</a>'
        # print-site's fallback for `str`: the first id containing it ("distribution").
        '<a class="autorefs autorefs-internal" href="#lessons-04_distribution-분포로-보기">str</a>'
    )
    out = print_page_links(html)
    assert 'href="#bnref.modules.BatchNorm1d">BN</a>' in out
    assert '<span title="torch.nn.Module">Module</span>' in out
    assert "<span>str</span>" in out


def test_api_entries_keep_an_exact_anchor_on_the_print_page():
    html = '<h2 id="bnref.course.printing" class="doc doc-heading">bnref.course.printing</h2><h2 id="other">x</h2>'
    assert exact_anchors(html) == (
        '<h2 id="bnref.course.printing" class="doc doc-heading"><span id="bnref.course.printing"></span>bnref.course.printing</h2>'
        '<h2 id="other">x</h2>'
    )


def test_a_heading_glued_to_the_tag_before_it_gets_its_prefixed_id_on_the_print_page():
    from mkdocs_print_site_plugin.urls import update_anchor_ids as print_site_update_anchor_ids

    html = '</div><h2 id="강의의-도우미">강의의 도우미<a class="headerlink" href="#강의의-도우미">¶</a></h2>'
    assert 'id="api-강의의-도우미"' not in print_site_update_anchor_ids(html, "api")  # print-site alone
    assert 'id="api-강의의-도우미"' in print_site_update_anchor_ids(heading_on_its_own_line(html), "api")
    assert heading_on_its_own_line('<p>a</p>\n<h3 id="x">') == '<p>a</p>\n<h3 id="x">'  # already on its own line
