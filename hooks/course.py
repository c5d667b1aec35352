"""MkDocs hook: the lessons in lessons/*.py become executed pages of the site.

At every build (and every `mkdocs serve` reload):
1. the bnref wheel is built and published at /bnref/<wheel> (wheel_build.py);
2. each lesson is executed with a setup cell in front (setup_cell.py), or taken from the cache when
   neither it, bnref, nor the tool chain changed (lesson_exec.py); a raising cell or any stderr output
   (a warning) fails the build;
3. each executed notebook becomes a Markdown page lessons/<name>.md with its figures, plus the
   download lessons/<name>.ipynb (lesson_markdown.py);
4. every page's math becomes MathML (math_mathml.py).

Settings, in mkdocs.yml: `site_url` (the wheel's address in the setup cell) and
`extra.course.github_repo` / `extra.course.pages_branch` (the "Colab에서 열기" link; the published
site must be on that branch, as `mkdocs gh-deploy` does; hooks/readers.py derives the repository or
leaves the link out).
"""

from __future__ import annotations

import logging
import sys
import time
from pathlib import Path

# `mkdocs serve` re-imports this file on each rebuild but would keep its siblings from the first
# import: drop them, so that an edit to any hook takes effect at the next reload.
for _sibling in ("lesson_exec", "lesson_markdown", "math_mathml", "setup_cell", "wheel_build"):
    sys.modules.pop(_sibling, None)

import nbformat  # noqa: E402
from lesson_exec import LessonError, execute_all  # noqa: E402
from lesson_markdown import LessonPageError, markdown_in_html, notebook_for_download, notebook_to_markdown  # noqa: E402
from math_mathml import MathError, render_math  # noqa: E402
from mkdocs.exceptions import PluginError  # noqa: E402
from mkdocs.structure.files import File, Files  # noqa: E402
from setup_cell import colab_url, setup_source, wheel_url  # noqa: E402
from wheel_build import build_wheel  # noqa: E402

log = logging.getLogger("mkdocs.hooks.course")

LESSON_GLOB = "[0-9][0-9]_*.py"


def _root(config) -> Path:
    return Path(config.config_file_path).resolve().parent


def lesson_header(name: str, colab: str | None) -> str:
    """Download and Colab links under a lesson's title (no Colab link without a repository)."""
    download = f'[노트북 내려받기 (.ipynb)]({name}.ipynb){{ .md-button download="{name}.ipynb" }}'
    return download + (f"\n[Colab에서 열기]({colab}){{ .md-button }}" if colab else "")


def on_files(files: Files, config) -> Files:
    root = _root(config)
    course = config.extra.get("course", {})
    started = time.perf_counter()

    wheel, wheel_bytes = build_wheel(root)
    files.append(File.generated(config, f"bnref/{wheel}", content=wheel_bytes))

    lessons = sorted((root / "lessons").glob(LESSON_GLOB))
    site_url = config.site_url or "http://127.0.0.1:8000/"
    setup = setup_source(wheel_url(site_url, wheel))
    try:
        executed = execute_all(
            lessons, root / "bnref", setup, root / ".cache" / "lessons", workers=2, log=log.info
        )
    except LessonError as err:
        raise PluginError(f"a lesson failed:\n{err}") from None

    for lesson in executed:
        colab = colab_url(
            course.get("github_repo"),  # None: left out (hooks/readers.py)
            course.get("pages_branch", "gh-pages"),
            f"lessons/{lesson.name}.ipynb",
        )
        try:
            markdown, figures = notebook_to_markdown(
                lesson.notebook, lesson.name, lesson_header(lesson.name, colab)
            )
        except LessonPageError as err:
            raise PluginError(str(err)) from None
        files.append(File.generated(config, f"lessons/{lesson.name}.md", content=markdown))
        files.append(
            File.generated(
                config, f"lessons/{lesson.name}.ipynb", content=nbformat.writes(notebook_for_download(lesson.notebook, site_url))
            )
        )
        for uri, png in figures.items():
            files.append(File.generated(config, uri, content=png))
    log.info(f"lessons ready in {time.perf_counter() - started:.1f} s")
    return files


def on_page_markdown(markdown: str, page, config, files) -> str:
    return markdown_in_html(markdown)


def on_page_content(html: str, page, config, files) -> str:
    try:
        return render_math(html)
    except MathError as err:
        raise PluginError(f"{page.file.src_uri}: {err}") from None
