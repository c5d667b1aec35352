"""MkDocs hook: pages that every reader can read (phones, keyboards, screen readers) and a published
address that works.

- Figures for phones: an <img> that lesson_markdown.py marked with `data-phone` becomes a <picture>
  whose <source> (the narrow rendering, bnref/course/viz.py) narrow screens choose. A tap or a click
  opens the wide figure full-screen (mkdocs-glightbox, which ships its own JS and CSS: the <a> it
  wraps around every <img> comes first, the <picture> goes inside it).
- Page content: mkdocs-glightbox hands it back as a whole HTML document; it becomes a fragment
  again (`unwrap_document`).
- Tables: a header cell with no text (a table's blank corner) becomes a data cell, so that a screen
  reader announces no empty header (axe: empty-table-header).
- The "Colab에서 열기" links need the GitHub repository that holds the published site. Its name
  comes from `extra.course.github_repo` (mkdocs.yml reads GITHUB_REPOSITORY, which GitHub Actions
  sets), else from the `origin` remote when that is on GitHub (`setup_cell.github_repository`).
  Without one a local build leaves the links out (hooks/course.py) and a deploy build warns, which
  fails it under `--strict`. A deploy build is `mkdocs gh-deploy` or any build with DEPLOY=1 in the
  environment (`extra.course.deploy` in mkdocs.yml; the Pages workflow sets it).

Scrollable regions and the copy buttons' <nav> are handled in the browser (overrides/main.html):
whether a formula or a table scrolls depends on the reader's screen.
"""

from __future__ import annotations

import logging
import re
import sys
from pathlib import Path

sys.modules.pop("setup_cell", None)  # `mkdocs serve` reloads: see hooks/course.py
from setup_cell import github_repository  # noqa: E402

log = logging.getLogger("mkdocs.hooks.readers")

# Narrow screens: Material's breakpoint below which the layout is a phone's (one column, 44.9375em).
PHONE_MEDIA = "(max-width: 44.9375em)"

_command = "build"


def on_startup(command: str, dirty: bool) -> None:
    global _command
    _command = command


def is_deploy(config) -> bool:
    """A build that will be published: `mkdocs gh-deploy`, or `extra.course.deploy` (DEPLOY=1)."""
    flag = config.extra.get("course", {}).get("deploy")
    return _command == "gh-deploy" or str(flag).strip().lower() in ("1", "true", "yes")


def on_config(config):
    course = config.extra.setdefault("course", {})
    root = Path(config.config_file_path).resolve().parent
    repo = course.get("github_repo") or github_repository(root)
    if repo is not None and not re.fullmatch(r"[\w.-]+/[\w.-]+", str(repo)):
        log.warning(f"extra.course.github_repo (GITHUB_REPOSITORY) should be 'owner/name', got {repo!r}")
        repo = None
    course["github_repo"] = repo
    if repo is None:
        message = (
            "no GitHub repository for the lessons' 'Colab에서 열기' links: set GITHUB_REPOSITORY=owner/name "
            "or build from a clone whose 'origin' remote is on GitHub"
        )
        if is_deploy(config):
            log.warning(f"deploy build: {message}")
        else:
            log.info(f"{message} (a local build leaves the links out)")
    return config


_PHONE_IMG = re.compile(r'<img\b(?=[^>]*\sdata-phone=")[^>]*>')
_ATTR = re.compile(r'\s(?P<name>[\w-]+)="(?P<value>[^"]*)"')


def phone_pictures(page_html: str) -> str:
    """Each <img data-phone="NAME" ...> becomes <picture><source ...><img ...></picture>: the <source>
    is the file NAME in the <img>'s own folder, with the phone rendering's size and metadata."""

    def picture(match: re.Match) -> str:
        img = match[0]
        attrs = {m["name"]: m["value"] for m in _ATTR.finditer(img)}
        folder = attrs["src"].rpartition("/")[0]
        src = f"{folder}/{attrs['data-phone']}" if folder else attrs["data-phone"]
        source = (
            f'<source media="{PHONE_MEDIA}" srcset="{src}" width="{attrs["data-phone-width"]}" '
            f'height="{attrs["data-phone-height"]}" data-text-pt="{attrs["data-phone-text-pt"]}" '
            f'data-dpi="{attrs["data-phone-dpi"]}">'
        )
        kept = re.sub(r'\sdata-phone(?:-[\w-]+)?="[^"]*"', "", img)
        return f"<picture>{source}{kept}</picture>"

    return _PHONE_IMG.sub(picture, page_html)


_EMPTY_TH = re.compile(r"<th(?P<attrs>\b[^>]*)>(?P<space>\s*)</th>")


def blank_header_cells(page_html: str) -> str:
    """`<th></th>` (a blank corner of a table) becomes `<td></td>`: a header must name something."""
    return _EMPTY_TH.sub(lambda m: f"<td{m['attrs']}>{m['space']}</td>", page_html)


_DOCUMENT = re.compile(r"\s*<html><head>(?P<head>.*?)</head><body>(?P<body>.*)</body></html>\s*", re.DOTALL)


def unwrap_document(page_html: str) -> str:
    """A page's content as a fragment again: mkdocs-glightbox 0.5.3 re-serialises it through
    selectolax, which wraps it in <html><head></head><body>...</body></html>. Browsers drop the
    extra tags, but print-site joins the fragments into one page and its anchor rewriting then
    misses the headings (the first tag of the line is <html>)."""
    match = _DOCUMENT.fullmatch(page_html)
    return match["head"] + match["body"] if match else page_html


def on_page_content(html: str, page, config, files) -> str:
    return blank_header_cells(phone_pictures(unwrap_document(html)))
