"""Fast tests of what makes pages readable for every reader and the published address right (issue #13):
folded cells, phone figures, blank table corners, the Colab links' repository. No kernel, no site
build (one tiny `mkdocs build` of a one-page site checks that a deploy build fails --strict)."""

from __future__ import annotations

import base64
import io
import logging
import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import jupytext
import markdown
import nbformat
import pytest
from bs4 import BeautifulSoup
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "hooks"))

import lesson_markdown  # noqa: E402
import readers  # noqa: E402
import setup_cell  # noqa: E402


@pytest.fixture(scope="module")
def site_markdown():
    """Markdown to HTML with exactly the extensions of mkdocs.yml, and the course hook's md_in_html step."""
    from mkdocs.config import load_config

    config = load_config(str(ROOT / "mkdocs.yml"))
    return lambda text: markdown.Markdown(
        extensions=config.markdown_extensions, extension_configs=config.mdx_configs
    ).convert(lesson_markdown.markdown_in_html(text))


def _notebook(*cells):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("# 제목\n\n본문"), *cells]
    return nb


def _stream(text):
    return nbformat.v4.new_output("stream", name="stdout", text=text)


# ── Folding ───────────────────────────────────────────────────────────────────────────────────────


def test_a_fold_cell_in_a_percent_lesson_has_its_summary_in_the_metadata():
    nb = jupytext.reads('# %% [markdown]\n# # 제목\n\n# %% fold="답 보기"\nanswer = 1\n', fmt="py:percent")
    assert nb.cells[1].metadata["fold"] == "답 보기"


def test_a_folded_cell_is_a_closed_details_block_holding_its_code_and_outputs(site_markdown):
    folded = nbformat.v4.new_code_cell("answer = 41 + 1\nprint(answer)", metadata={"fold": "답 보기"})
    folded.outputs = [_stream("42\n")]
    shown = nbformat.v4.new_code_cell("print('보이는 셀')", outputs=[_stream("보이는 셀\n")])
    text, _ = lesson_markdown.notebook_to_markdown(_notebook(folded, shown), "01_x")
    soup = BeautifulSoup(site_markdown(text), "html.parser")
    (details,) = soup.select("details")
    assert "open" not in details.attrs and "bnref-fold" in details["class"]
    assert details.summary.get_text() == "답 보기"
    assert "answer = 41 + 1" in details.select_one(".language-python").get_text()
    assert details.select_one(".nb-output").get_text().strip() == "42"
    assert "보이는 셀" not in details.get_text() and "보이는 셀" in soup.get_text()


def test_the_setup_cell_is_folded_as_colab_only():
    setup = nbformat.v4.new_code_cell("import bnref", metadata={"tags": [lesson_markdown.SETUP_TAG]})
    text, _ = lesson_markdown.notebook_to_markdown(_notebook(setup), "01_x")
    assert f"<summary>{lesson_markdown.SETUP_SUMMARY}</summary>" in text
    assert lesson_markdown.SETUP_SUMMARY == "Colab에서만 필요한 준비"


@pytest.mark.parametrize("fold", ["", "  ", True, 3])
def test_a_fold_without_a_summary_text_is_refused(fold):
    cell = nbformat.v4.new_code_cell("x = 1", metadata={"fold": fold})
    with pytest.raises(lesson_markdown.LessonPageError, match="fold needs a summary"):
        lesson_markdown.notebook_to_markdown(_notebook(cell), "01_x")


def test_the_downloaded_notebook_keeps_folded_cells_with_their_source_collapsed():
    setup = nbformat.v4.new_code_cell("import bnref", metadata={"tags": [lesson_markdown.SETUP_TAG]})
    folded = nbformat.v4.new_code_cell("print(42)", metadata={"fold": "답 보기"}, outputs=[_stream("42\n")])
    plain = nbformat.v4.new_code_cell("y = 1")
    nb = _notebook(setup, folded, plain)
    copy = lesson_markdown.notebook_for_download(nb, "http://127.0.0.1:8000/")
    hidden = [c.metadata.get("jupyter", {}).get("source_hidden", False) for c in copy.cells[1:]]
    assert hidden == [True, True, False]
    assert copy.cells[2].source == "print(42)" and copy.cells[2].outputs[0].text == "42\n"
    assert "jupyter" not in nb.cells[2].metadata  # the executed notebook is left alone
    nbformat.validate(copy)


# ── Figures for phones ────────────────────────────────────────────────────────────────────────────


def _png(width, height) -> str:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), "white").save(buffer, format="PNG")
    return base64.b64encode(buffer.getvalue()).decode()


def _figure_cell(phone: bool):
    variants = {"dpi": 100, "text_pt": 7.0}
    if phone:
        variants["phone"] = {"png": _png(684, 900), "width": 684, "height": 900, "dpi": 167, "text_pt": 9.5}
    output = nbformat.v4.new_output(
        "display_data",
        data={"image/png": _png(960, 340), "text/plain": "<Figure>", lesson_markdown.FIGURE_MIME: variants},
        metadata={"image/png": {"alt": "표준, BN, 잡음 섞인 BN"}},
    )
    return nbformat.v4.new_code_cell("plt.show()", outputs=[output])


def test_a_figure_with_a_phone_rendering_becomes_a_picture_for_narrow_screens(site_markdown):
    text, figures = lesson_markdown.notebook_to_markdown(_notebook(_figure_cell(phone=True)), "01_x")
    assert sorted(figures) == ["lessons/figures/01_x-1-0-phone.png", "lessons/figures/01_x-1-0.png"]
    # MkDocs rewrites the <img> src for the page's URL (lessons/01_x/): as it would, here.
    page = site_markdown(text).replace('src="figures/', 'src="../figures/')
    picture = BeautifulSoup(readers.phone_pictures(page), "html.parser").select_one("figure picture")
    source, img = picture.select_one("source"), picture.select_one("img")
    assert source["media"] == readers.PHONE_MEDIA and source["srcset"] == "../figures/01_x-1-0-phone.png"
    assert (source["width"], source["height"], source["data-text-pt"], source["data-dpi"]) == ("684", "900", "9.5", "167")
    assert img["src"] == "../figures/01_x-1-0.png" and (img["width"], img["data-text-pt"], img["data-dpi"]) == ("960", "7.0", "100")
    assert img["alt"] == "표준, BN, 잡음 섞인 BN"
    assert not [a for a in img.attrs if a.startswith("data-phone")]


def test_a_figure_without_a_phone_rendering_stays_an_img(site_markdown):
    text, figures = lesson_markdown.notebook_to_markdown(_notebook(_figure_cell(phone=False)), "01_x")
    assert list(figures) == ["lessons/figures/01_x-1-0.png"]
    html = readers.phone_pictures(site_markdown(text))
    assert "<picture>" not in html and 'data-text-pt="7.0"' in html


def test_the_downloaded_notebook_has_no_phone_rendering():
    copy = lesson_markdown.notebook_for_download(_notebook(_figure_cell(phone=True)), "http://127.0.0.1:8000/")
    assert list(copy.cells[1].outputs[0].data) == ["image/png", "text/plain"]


# ── Tables ────────────────────────────────────────────────────────────────────────────────────────


def test_a_blank_table_corner_is_a_data_cell_not_an_empty_header(site_markdown):
    html = readers.blank_header_cells(site_markdown("|  | 학습 | 평가 |\n| --- | ---: | ---: |\n| 평균 | 1 | 2 |\n"))
    soup = BeautifulSoup(html, "html.parser")
    assert [th.get_text() for th in soup.select("th")] == ["학습", "평가"]
    assert soup.select("thead tr > *")[0].name == "td"


# ── The Colab links' repository ───────────────────────────────────────────────────────────────────


@pytest.mark.parametrize(
    ("url", "repo"),
    [
        ("https://github.com/owner/bn-course.git", "owner/bn-course"),
        ("https://github.com/owner/bn.course", "owner/bn.course"),
        ("git@github.com:owner/bn-course.git\n", "owner/bn-course"),
        ("ssh://git@github.com/owner/bn-course", "owner/bn-course"),
        ("https://x-access-token:secret@github.com/owner/bn-course", "owner/bn-course"),
        ("https://gitlab.com/owner/bn-course.git", None),
        ("/srv/git/bn-course.git", None),
        ("https://github.com/owner/bn-course/tree/main", None),
    ],
)
def test_repository_from_a_remote_url(url, repo):
    assert setup_cell.repository_from_remote(url) == repo


def _git(*args, cwd):
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True)


def test_the_repository_of_a_clone_comes_from_its_origin_remote(tmp_path):
    assert setup_cell.github_repository(tmp_path) is None  # not a clone
    _git("init", "-q", cwd=tmp_path)
    assert setup_cell.github_repository(tmp_path) is None  # no origin
    _git("remote", "add", "origin", "git@github.com:owner/bn-course.git", cwd=tmp_path)
    assert setup_cell.github_repository(tmp_path) == "owner/bn-course"


def test_without_a_repository_there_is_no_colab_link():
    assert setup_cell.colab_url(None, "gh-pages", "lessons/01_x.ipynb") is None
    url = setup_cell.colab_url("owner/bn-course", "gh-pages", "lessons/01_x.ipynb")
    assert url == "https://colab.research.google.com/github/owner/bn-course/blob/gh-pages/lessons/01_x.ipynb"


def _config(tmp_path, **course):
    return SimpleNamespace(extra={"course": course}, config_file_path=str(tmp_path / "mkdocs.yml"))


def test_a_local_build_without_a_repository_leaves_the_links_out_quietly(tmp_path, caplog, monkeypatch):
    monkeypatch.setattr(readers, "_command", "build")
    with caplog.at_level(logging.INFO, logger="mkdocs.hooks.readers"):
        config = readers.on_config(_config(tmp_path, github_repo=None, deploy=False))
    assert config.extra["course"]["github_repo"] is None
    assert [r.levelno for r in caplog.records] == [logging.INFO]


@pytest.mark.parametrize(("command", "deploy"), [("gh-deploy", False), ("build", "1"), ("build", True)])
def test_a_deploy_build_without_a_repository_warns(tmp_path, caplog, monkeypatch, command, deploy):
    monkeypatch.setattr(readers, "_command", command)
    readers.on_config(_config(tmp_path, github_repo=None, deploy=deploy))
    assert [r.levelno for r in caplog.records] == [logging.WARNING]
    assert "GITHUB_REPOSITORY" in caplog.records[0].getMessage()


def test_the_repository_is_derived_from_the_clone_when_not_set(tmp_path, monkeypatch):
    _git("init", "-q", cwd=tmp_path)
    _git("remote", "add", "origin", "https://github.com/owner/bn-course.git", cwd=tmp_path)
    config = readers.on_config(_config(tmp_path, github_repo=None, deploy="1"))
    assert config.extra["course"]["github_repo"] == "owner/bn-course"
    config = readers.on_config(_config(tmp_path, github_repo="other/name", deploy="1"))
    assert config.extra["course"]["github_repo"] == "other/name"  # GITHUB_REPOSITORY wins


def test_a_deploy_build_without_a_repository_fails_strict(tmp_path):
    """A real `mkdocs build --strict` of a one-page site with this hook and mkdocs.yml's settings."""
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "index.md").write_text("# 홈\n", encoding="utf-8")
    (tmp_path / "hooks").mkdir()
    for name in ("readers.py", "setup_cell.py"):
        (tmp_path / "hooks" / name).write_text((ROOT / "hooks" / name).read_text(encoding="utf-8"), encoding="utf-8")
    (tmp_path / "mkdocs.yml").write_text(
        "site_name: t\nhooks: [hooks/readers.py]\n"
        "extra:\n  course:\n    github_repo: !ENV GITHUB_REPOSITORY\n    deploy: !ENV [DEPLOY, false]\n",
        encoding="utf-8",
    )
    env = {k: v for k, v in os.environ.items() if k not in ("GITHUB_REPOSITORY", "DEPLOY")}

    def build(**extra):
        return subprocess.run(
            [sys.executable, "-m", "mkdocs", "build", "--strict", "-d", str(tmp_path / "site")],
            cwd=tmp_path, env={**env, "NO_MKDOCS_2_WARNING": "1", **extra}, capture_output=True, text=True, timeout=120,
        )

    assert build().returncode == 0  # local: links left out, no warning
    failed = build(DEPLOY="1")
    assert failed.returncode != 0 and "GITHUB_REPOSITORY" in failed.stderr
    assert build(DEPLOY="1", GITHUB_REPOSITORY="owner/bn-course").returncode == 0


def test_the_print_page_finds_the_phone_rendering_of_each_figure():
    """print-site makes <img src> relative to the print page; hooks/print_page.py does the same for
    the phone rendering's <source srcset>, which print-site would leave pointing nowhere."""
    import print_page

    html = ('<picture><source media="(max-width: 44.9375em)" srcset="../figures/04_x-3-0-phone.png">'
            '<img src="../figures/04_x-3-0.png" alt="분포"></picture>')
    fixed = print_page.fix_image_src(html, "lessons/04_x/", True)
    assert 'srcset="../lessons/figures/04_x-3-0-phone.png"' in fixed
    assert 'src="../lessons/figures/04_x-3-0.png"' in fixed


def test_page_content_wrapped_in_a_document_by_the_lightbox_becomes_a_fragment_again():
    wrapped = '<html><head><script>x()</script></head><body><h1 id="a">제목</h1>\n<p>본문</p></body></html>'
    assert readers.unwrap_document(wrapped) == '<script>x()</script><h1 id="a">제목</h1>\n<p>본문</p>'
    assert readers.unwrap_document("<p>본문</p>") == "<p>본문</p>"
