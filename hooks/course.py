"""MkDocs hook: the lessons in lessons/*.py become executed pages of the site.

At every build (and every `mkdocs serve` reload):
1. the bnref wheel is built and published at /bnref/<wheel> (wheel_build.py);
2. each lesson is executed with a setup cell in front (setup_cell.py), or its outputs are taken from
   the cache when neither its code, the bnref files it imports, nor the tool chain changed
   (lesson_exec.py, lesson_kernel.py, lesson_cache.py); a raising cell or any stderr output (a warning) fails the build
   at once, naming lessons/<name>.py:<line>;
3. each executed notebook becomes a Markdown page lessons/<name>.md with its figures, plus the
   download lessons/<name>.ipynb (lesson_markdown.py);
4. every page's math becomes MathML (math_mathml.py).

Under `mkdocs serve`, a failing lesson does not stop the server: its page shows the error, the
terminal logs it at every rebuild, and the other lessons run and are served as usual.

Settings, in mkdocs.yml: `site_url` (the wheel's address in the setup cell) and
`extra.course.github_repo` / `extra.course.pages_branch` (the "Colab에서 열기" link; the published
site must be on that branch, as `mkdocs gh-deploy` does; hooks/readers.py derives the repository or
leaves the link out).
"""

from __future__ import annotations

import logging
import os
import re
import sys
import time
from pathlib import Path

# `mkdocs serve` re-imports this file on each rebuild but would keep its siblings from the first
# import: drop them, so that an edit to any hook takes effect at the next reload.
for _sibling in ("lesson_cache", "lesson_exec", "lesson_kernel", "lesson_markdown", "math_mathml", "setup_cell", "wheel_build"):
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
DEFAULT_SITE_URL = "http://127.0.0.1:8000/"
# The setup cell's address as the cache key sees it: the real one (serve's port, a sub-path, the
# hosted site) only says where a reader without bnref gets the wheel, which the build never does.
KEY_SITE_URL = "https://site.invalid/"
# `mkdocs serve` loads this file anew at every rebuild; the command it was started with stays here.
COMMAND_VARIABLE = "BNREF_MKDOCS_COMMAND"


def _root(config) -> Path:
    return Path(config.config_file_path).resolve().parent


def lesson_header(name: str, colab: str | None) -> str:
    """Download and Colab links under a lesson's title (no Colab link without a repository)."""
    download = f'[노트북 내려받기 (.ipynb)]({name}.ipynb){{ .md-button download="{name}.ipynb" }}'
    return download + (f"\n[Colab에서 열기]({colab}){{ .md-button }}" if colab else "")


def lesson_colab_url(config, name: str) -> str | None:
    """The "Colab에서 열기" link of lesson `name`."""
    course = config.extra.get("course", {})
    return colab_url(
        course.get("github_repo"),  # None: left out (hooks/readers.py derives it where it can)
        course.get("pages_branch", "gh-pages"),
        f"lessons/{name}.ipynb",
    )


def setup_sources(site_url: str, wheel: str) -> tuple[str, str]:
    """(the setup cell as run and shown, the setup cell as the cache key sees it)."""
    return setup_source(wheel_url(site_url, wheel)), setup_source(wheel_url(KEY_SITE_URL, wheel))


def error_admonition(error: str) -> str:
    """A failed lesson's error, in a box at the top of its page (only `mkdocs serve` makes such pages)."""
    ticks = "`" * max(3, 1 + max(map(len, re.findall("`+", error)), default=0))
    fenced = f"{ticks}text\n{error.rstrip()}\n{ticks}"
    indented = "\n".join(f"    {line}" if line else "" for line in fenced.splitlines())
    return f'!!! failure "이 강의를 실행하지 못했습니다"\n\n{indented}\n'


def on_startup(command, dirty) -> None:
    os.environ[COMMAND_VARIABLE] = command


def on_files(files: Files, config) -> Files:
    root = _root(config)
    started = time.perf_counter()
    serving = os.environ.get(COMMAND_VARIABLE) == "serve"

    wheel, wheel_bytes = build_wheel(root)
    files.append(File.generated(config, f"bnref/{wheel}", content=wheel_bytes))

    lessons = sorted((root / "lessons").glob(LESSON_GLOB))
    site_url = config.site_url or DEFAULT_SITE_URL
    setup, setup_key = setup_sources(site_url, wheel)
    try:
        executed = execute_all(
            lessons,
            root / "bnref",
            setup,
            root / ".cache" / "lessons",
            workers=2,
            log=log.info,
            setup_key_source=setup_key,
            fail_fast=not serving,
        )
    except LessonError as err:
        raise PluginError(f"a lesson failed:\n{err}") from None

    for lesson in executed:
        header = lesson_header(lesson.name, lesson_colab_url(config, lesson.name))
        if lesson.error:
            # Logged by this hook's logger, which (unlike mkdocs' own) repeats an identical message.
            log.error(f"lesson {lesson.name} failed; its page shows the error:\n{lesson.error}")
            header += "\n\n" + error_admonition(lesson.error)
        try:
            markdown, figures = notebook_to_markdown(lesson.notebook, lesson.name, header)
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
