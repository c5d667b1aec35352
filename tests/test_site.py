"""The built site: a real `mkdocs build --strict` of a copy of the repository, and checks of its HTML.

One clean, strict build of the whole course (every lesson executed) is shared by the HTML checks.
The tests that edit a lesson or bnref rebuild a copy holding only the first two lessons, and put
each edit back. Kernel-level behaviours (cwd, warnings, the cache) are
checked on tiny lessons, which start a kernel each but build no site.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from urllib.parse import unquote, urljoin, urlparse

import jupytext
import nbformat
import pytest
from bs4 import BeautifulSoup

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "hooks"))

import lesson_exec  # noqa: E402
import lesson_markdown  # noqa: E402
from site_build import Build, copy_repo  # noqa: E402

# Generous bounds: a clean build of the whole course takes minutes on a busy 2-core machine.
pytestmark = [pytest.mark.slow, pytest.mark.timeout(1800)]

LESSONS = sorted(p.stem for p in (ROOT / "lessons").glob("[0-9][0-9]_*.py"))
SETUP_TAG = "bnref-setup"
# mkdocs.yml's site_url (MkDocs ends it with a slash).
SITE_URL = os.environ.get("SITE_URL", "http://127.0.0.1:8000/").rstrip("/") + "/"


@pytest.fixture(scope="module")
def built(course_build) -> Build:
    """The whole course, built once per session with --strict from a clean cache (tests/conftest.py)."""
    return course_build


@pytest.fixture(scope="module")
def site(built) -> Path:
    return built.site


SMALL_CONFIG = """\
site_name: small
site_url: http://127.0.0.1:8000/
hooks: [hooks/course.py]
markdown_extensions: [attr_list, md_in_html, toc, pymdownx.superfences, {pymdownx.arithmatex: {generic: true}}]
"""


@pytest.fixture(scope="module")
def small(tmp_path_factory) -> Path:
    """A copy with only the first two lessons and only the lesson hook, for the tests that rebuild.

    Built once already. Its builds check execution, not pages: no nav, no other plugins, not strict.
    """
    repo = copy_repo(tmp_path_factory.mktemp("small") / "repo")
    for lesson in sorted((repo / "lessons").glob("*.py"))[2:]:
        lesson.unlink()
    (repo / "mkdocs.yml").write_text(SMALL_CONFIG, encoding="utf-8")
    first = Build(repo, repo / "site", strict=False)
    assert first.ok and first.counts() == (2, 0), first.log
    return repo


def _small_lessons(repo: Path) -> list[str]:
    return sorted(p.stem for p in (repo / "lessons").glob("*.py"))


@contextlib.contextmanager
def _edited(path: Path, addition: str):
    """`path` with `addition` appended, put back afterwards."""
    original = path.read_text(encoding="utf-8")
    path.write_text(original + addition, encoding="utf-8")
    try:
        yield
    finally:
        path.write_text(original, encoding="utf-8")


def _pages(site: Path) -> list[Path]:
    return sorted(p for p in site.rglob("*.html") if p.name != "404.html")


def _soup(path: Path) -> BeautifulSoup:
    return BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser")


def _article(path: Path):
    return _soup(path).select_one("article.md-content__inner")


# ── Execution at every build ──────────────────────────────────────────────────────────────────────


def test_clean_build_executes_every_lesson(built):
    assert LESSONS, "no lessons in lessons/"
    assert built.counts() == (len(LESSONS), 0)
    assert built.executed() == set(LESSONS)


def test_rebuild_without_changes_executes_nothing(small):
    again = Build(small, small / "site", strict=False)
    assert again.ok, again.log
    assert again.counts() == (0, 2)


def test_a_change_to_one_lesson_re_executes_only_that_lesson(small):
    first, second = _small_lessons(small)
    with _edited(small / "lessons" / f"{second}.py", "\n# %%\nprint('새 셀')\n"):
        again = Build(small, small / "site", strict=False)
    assert again.ok, again.log
    assert again.executed() == {second}
    assert "새 셀" in (small / "site" / "lessons" / second / "index.html").read_text(encoding="utf-8")


def test_a_change_to_bnref_re_executes_every_lesson(small):
    with _edited(small / "bnref" / "__init__.py", "\n# a change that the cache must notice\n"):
        again = Build(small, small / "site", strict=False)
    assert again.ok, again.log
    assert again.executed() == set(_small_lessons(small))


def test_a_raising_cell_fails_the_build_showing_cell_and_traceback(small):
    first, _ = _small_lessons(small)
    with _edited(small / "lessons" / f"{first}.py", "\n# %%\nshare = 1 / 0  # planted\n"):
        failed = Build(small, small / "site", strict=False)
    assert not failed.ok
    assert failed.executed() == {first}
    assert "share = 1 / 0  # planted" in failed.log
    assert "ZeroDivisionError" in failed.log


def test_every_lesson_page_shows_its_executed_outputs(site):
    for name in LESSONS:
        article = _article(site / "lessons" / name / "index.html")
        assert article.select_one("h1"), name
        assert article.select(".nb-output"), f"{name}: no outputs"


def test_the_setup_cell_comes_before_every_output_on_each_lesson_page(site):
    for name in LESSONS:
        blocks = _article(site / "lessons" / name / "index.html").select("div.highlight, .nb-output")
        setup = [i for i, b in enumerate(blocks) if 'find_spec("bnref") is None' in b.get_text()]
        outputs = [i for i, b in enumerate(blocks) if "nb-output" in b.get("class", [])]
        assert len(setup) == 1 and setup[0] < outputs[0], name


# ── Headings, links, search ───────────────────────────────────────────────────────────────────────


def test_headings_have_unique_nonempty_ids(site):
    # The print page (print-site) titles its own table of contents without an id; its copies of
    # the pages' headings are checked through the pages themselves.
    for page in [p for p in _pages(site) if p.parent.name != "print_page"]:
        ids = [h.get("id") for h in _article(page).select("h1, h2, h3, h4, h5, h6")]
        assert all(ids), f"{page}: a heading without id: {ids}"
        assert len(ids) == len(set(ids)), f"{page}: duplicate ids {ids}"


def test_table_of_contents_links_land_on_headings(site):
    for page in _pages(site):
        soup = _soup(page)
        ids = {tag.get("id") for tag in soup.select("[id]")}
        for link in soup.select("nav.md-nav--secondary a.md-nav__link"):
            fragment = unquote(urlparse(link["href"]).fragment)
            assert fragment in ids, f"{page}: TOC link {link['href']} lands nowhere"


@functools.lru_cache(maxsize=None)
def _ids(path: Path) -> frozenset[str]:
    return frozenset(tag["id"] for tag in _soup(path).select("[id]"))


def test_local_links_and_anchors_resolve(site):
    for page in _pages(site):
        base = "/" + page.relative_to(site).as_posix()
        for link in _article(page).select("a[href]"):
            url = urlparse(urljoin(base, link["href"]))
            if url.scheme or url.netloc:
                continue
            target = site / unquote(url.path).lstrip("/")
            if target.is_dir():
                target = target / "index.html"
            assert target.is_file(), f"{page}: broken link {link['href']}"
            if url.fragment and target.suffix == ".html":
                assert unquote(url.fragment) in _ids(target), f"{page}: {link['href']}"


_AUTOREF_HREF = re.compile(r'<a class="autorefs[^"]*"[^>]*? href="([^"]*)"')


def test_print_page_cross_references_land_where_the_pages_do(site):
    """Each API link on the print page goes to the entry the same link on its own page goes to.

    print-site once sent a link to a module to one of the module's functions, chosen by set order
    (`#bnref.course.printing` -> `#api-bnref.course.printing.fmt`); hooks/print_page.py's exact_anchors prevents it."""
    def anchors(html: str) -> list[str]:
        return sorted(unquote(href.split("#")[-1]) for href in _AUTOREF_HREF.findall(html))

    on_pages = sorted(
        a for page in _pages(site) if page.parent.name != "print_page" for a in anchors(page.read_text(encoding="utf-8"))
    )
    on_print = anchors((site / "print_page" / "index.html").read_text(encoding="utf-8"))
    assert on_pages and on_print == on_pages


def test_fast_update_anchor_ids_gives_print_sites_own_output(site):
    """hooks/print_page.py replaces print-site's slow update_anchor_ids; on every page of the site,
    with each page's key, its output is the original's to the byte (the original is loaded afresh
    from print-site's source, so no patch of ours can be under test twice)."""
    import importlib.util

    import mkdocs_print_site_plugin
    import print_page

    source = Path(mkdocs_print_site_plugin.__file__).parent / "urls.py"
    spec = importlib.util.spec_from_file_location("print_site_urls_original", source)
    original = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(original)
    pages = [p for p in _pages(site) if p.parent.name != "print_page"]
    for page in pages:
        html, key = page.read_text(encoding="utf-8"), page.parent.name or "index"
        assert print_page.update_anchor_ids(html, key) == original.update_anchor_ids(html, key), page


def test_jinja_templates_are_compiled_once_and_cached(built):
    assert len(list((built.repo / ".cache" / "jinja").glob("*.cache"))) > 50


def test_search_index_has_every_lesson_with_unique_locations(site):
    index = json.loads((site / "search" / "search_index.json").read_text(encoding="utf-8"))
    locations = [doc["location"] for doc in index["docs"]]
    assert len(locations) == len(set(locations))
    for name in LESSONS:
        assert f"lessons/{name}/" in locations
        sections = [doc for doc in index["docs"] if doc["location"].startswith(f"lessons/{name}/#")]
        assert sections and all(re.search("[가-힣]", doc["text"] + doc["title"]) for doc in sections[:1])


# ── Math ──────────────────────────────────────────────────────────────────────────────────────────

# TeX left as text: \( \) \[ \] $$, or $...$ holding a command, ^ or _.
_RAW_TEX = re.compile(r"\\\(|\\\)|\\\[|\\\]|\$\$|\$[^$\n]*[\\^_][^$\n]*\$")


def test_no_raw_tex_is_left_on_any_page(site):
    for page in _pages(site):
        article = _article(page)
        for code in article.select("pre, code, math"):
            code.decompose()
        found = _RAW_TEX.findall(article.get_text())
        assert not found, f"{page}: raw TeX {found[:3]}"


def test_lesson_math_is_mathml(site):
    assert any(_article(site / "lessons" / name / "index.html").select("math") for name in LESSONS)


# ── Figures ───────────────────────────────────────────────────────────────────────────────────────


def test_images_exist_and_have_korean_alt_text(site):
    for page in _pages(site):
        for img in _article(page).select("img"):
            alt = img.get("alt", "")
            assert re.search("[가-힣]", alt), f"{page}: alt {alt!r}"
            assert "No description has been provided" not in alt
            src = urlparse(urljoin("/" + page.relative_to(site).as_posix(), img["src"]))
            assert not src.scheme and (site / src.path.lstrip("/")).is_file(), img["src"]


# ── Offline ───────────────────────────────────────────────────────────────────────────────────────

_RESOURCE_ATTRS = {
    "script": ["src"],
    "img": ["src", "srcset"],
    "iframe": ["src"],
    "source": ["src", "srcset"],
    "video": ["src", "poster"],
    "audio": ["src"],
    "embed": ["src"],
    "object": ["data"],
    "track": ["src"],
    "input": ["src"],
}
_CSS_URL = re.compile(r"""url\(\s*['"]?([^'")]+)|@import\s+['"]([^'"]+)""")


def _external(url: str) -> bool:
    return bool(re.match(r"^\s*(https?:)?//", url))


def test_no_page_loads_anything_from_another_origin(site):
    for page in [*_pages(site), site / "404.html"]:
        soup = _soup(page)
        for tag, attrs in _RESOURCE_ATTRS.items():
            for element in soup.find_all(tag):
                for attr in attrs:
                    for url in re.split(r",\s*", element.get(attr, "")):
                        assert not _external(url), f"{page}: <{tag} {attr}={url}>"
        for link in soup.find_all("link"):
            assert not _external(link.get("href", "")) or link.get("rel") == ["canonical"], f"{page}: {link}"
        for style in [*soup.find_all("style"), *soup.select("[style]")]:
            css = style.get("style", "") if style.name != "style" else style.get_text()
            assert not [u for u in _CSS_URL.findall(css) if any(map(_external, u))], page
        # What would make Material's JavaScript fetch from elsewhere: repository facts, Mermaid.
        assert not soup.select(".md-source, .mermaid"), page


def test_stylesheets_load_nothing_from_another_origin(site):
    for css in site.rglob("*.css"):
        for groups in _CSS_URL.findall(css.read_text(encoding="utf-8")):
            assert not any(map(_external, groups)), f"{css}: {groups}"


# ── Downloads, Colab, wheel ───────────────────────────────────────────────────────────────────────


def test_each_lesson_offers_its_notebook_with_outputs_and_original_markdown(site):
    for name in LESSONS:
        page = _article(site / "lessons" / name / "index.html")
        download = page.select_one("a[download]")
        assert download and download["href"] == f"../{name}.ipynb"
        nb = nbformat.read(site / "lessons" / f"{name}.ipynb", as_version=4)
        nbformat.validate(nb)
        source = jupytext.read(ROOT / "lessons" / f"{name}.py")
        # The lesson's own Markdown, with its relative links turned into the site's addresses.
        assert [c.source for c in nb.cells if c.cell_type == "markdown"] == [
            lesson_markdown.site_links(c.source, SITE_URL) for c in source.cells if c.cell_type == "markdown"
        ]
        code = [c for c in nb.cells if c.cell_type == "code"]
        assert SETUP_TAG in code[0].metadata.get("tags", [])
        assert all(c.execution_count for c in code), f"{name}: a cell was not executed"
        assert any(c.outputs for c in code[1:])


def test_downloaded_notebooks_link_to_pages_that_exist(site):
    """In Colab a notebook travels alone: its links must be the site's addresses, of real pages."""
    found = 0
    for name in LESSONS:
        nb = nbformat.read(site / "lessons" / f"{name}.ipynb", as_version=4)
        for cell in (c for c in nb.cells if c.cell_type == "markdown"):
            assert not re.search(r"\]\((?![a-z]+:)[^)]*\.(py|md)\b", cell.source), f"{name}: {cell.source[:200]}"
            for url in re.findall(r"\]\((" + re.escape(SITE_URL) + r"[^)\s]*)\)", cell.source):
                path, _, fragment = url[len(SITE_URL):].partition("#")
                page = site / path / "index.html"
                assert page.is_file(), f"{name}: {url}"
                assert not fragment or fragment in _ids(page), f"{name}: {url}"
                found += 1
    assert found > 10


def test_without_a_repository_no_lesson_links_to_colab(site):
    """The session build is of a copy that is no Git clone, with GITHUB_REPOSITORY unset: it knows no
    repository, so it publishes no Colab link rather than one to github/OWNER/REPO (tests/test_published.py
    checks the links of a build that has one)."""
    if os.environ.get("GITHUB_REPOSITORY"):
        pytest.skip("GITHUB_REPOSITORY is set: the session build has a repository")
    for name in LESSONS:
        html = (site / "lessons" / name / "index.html").read_text(encoding="utf-8")
        assert "colab.research.google.com" not in html and "OWNER/REPO" not in html, name


def test_the_setup_cell_is_folded_away_on_each_lesson_page(site):
    for name in LESSONS:
        article = _article(site / "lessons" / name / "index.html")
        setup = [d for d in article.select("details") if 'find_spec("bnref") is None' in d.get_text()]
        assert len(setup) == 1, name
        assert "open" not in setup[0].attrs and setup[0].summary.get_text(strip=True) == "Colab에서만 필요한 준비"


def test_published_wheel_installs_and_imports(site, tmp_path):
    wheels = list((site / "bnref").glob("bnref-*-py3-none-any.whl"))
    assert len(wheels) == 1
    target = tmp_path / "target"
    requirement = f"bnref[lessons] @ {wheels[0].as_uri()}"  # the setup cell's form
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", str(target), requirement],
        check=True,
        timeout=120,
    )
    code = f"import sys; sys.path.insert(0, {str(target)!r}); import bnref, bnref.functional; print(bnref.__file__)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().startswith(str(target))


def test_setup_cell_points_at_the_published_wheel(site):
    nb = nbformat.read(site / "lessons" / f"{LESSONS[0]}.ipynb", as_version=4)
    wheel = next((site / "bnref").glob("*.whl")).name
    assert f"/bnref/{wheel}'" in nb.cells[[c.cell_type for c in nb.cells].index("code")].source


# ── Kernels: cwd, warnings, errors, cache (tiny lessons, no site) ─────────────────────────────────


@pytest.fixture
def tiny(tmp_path):
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "__init__.py").write_text("X = 1\n")
    (tmp_path / "lessons").mkdir()
    return tmp_path


def _lesson(course: Path, name: str, code: str) -> Path:
    path = course / "lessons" / f"{name}.py"
    path.write_text(f"# %% [markdown]\n# # 제목\n\n# %%\n{code}\n", encoding="utf-8")
    return path


def _run(course: Path, lessons: list[Path], log: list[str]):
    return lesson_exec.execute_all(lessons, course / "pkg", "pass", course / ".cache", log=log.append)


def test_lessons_run_in_their_own_directory(tiny):
    lesson = _lesson(tiny, "01_cwd", "import os\nprint(os.getcwd())")
    nb = lesson_exec.execute_lesson(lesson, "pass")
    assert nb.cells[-1].outputs[0].text.strip() == str(tiny / "lessons")


@pytest.mark.parametrize(
    ("code", "message"),
    [
        ("import warnings\nwarnings.warn('조심')", "UserWarning"),
        ("import sys\nprint('oops', file=sys.stderr)", "oops"),
        (
            "import matplotlib\nmatplotlib.use('module://matplotlib_inline.backend_inline')\n"
            "import matplotlib.pyplot as plt\nplt.rcParams['font.family'] = ['DejaVu Sans']\n"
            "plt.title('한글 제목')\nplt.show()",
            "Glyph",
        ),
        ("raise RuntimeError('planted')", "planted"),
    ],
    ids=["warning", "stderr", "missing-glyph", "exception"],
)
def test_warnings_stderr_and_exceptions_fail_the_lesson(tiny, code, message):
    lesson = _lesson(tiny, "01_bad", code)
    with pytest.raises(lesson_exec.LessonError, match=message):
        lesson_exec.execute_lesson(lesson, "pass")


def test_cache_re_executes_exactly_what_changed(tiny):
    # Both import the package: a change to it re-executes the lessons that import it (#12).
    a = _lesson(tiny, "01_a", "import pkg\nprint('a')")
    b = _lesson(tiny, "02_b", "import pkg\nprint('b')")
    log: list[str] = []
    assert [r.cache_hit for r in _run(tiny, [a, b], log)] == [False, False]
    assert [r.cache_hit for r in _run(tiny, [a, b], log)] == [True, True]
    _lesson(tiny, "01_a", "import pkg\nprint('a, changed')")
    first, second = _run(tiny, [a, b], log)
    assert (first.cache_hit, second.cache_hit) == (False, True)
    assert first.notebook.cells[-1].outputs[0].text == "a, changed\n"
    for i in range(lesson_exec.KEEP_PER_LESSON + 1):  # stale entries, older than any real one
        stale = tiny / ".cache" / f"02_b-stale{i}.ipynb"
        stale.write_text("{}")
        os.utime(stale, (1_000_000 + i, 1_000_000 + i))
    (tiny / "pkg" / "__init__.py").write_text("X = 2\n")
    assert [r.cache_hit for r in _run(tiny, [a, b], log)] == [False, False]
    kept = sorted(p.name for p in (tiny / ".cache").glob("02_b-*.ipynb"))
    assert len(kept) == lesson_exec.KEEP_PER_LESSON  # the newest: both real entries, then stale ones
    assert len([n for n in kept if "stale" not in n]) == 2 and "02_b-stale0.ipynb" not in kept
