"""An executed lesson notebook as a Markdown page, so that MkDocs treats it like any other page.

Why Markdown and not mkdocs-jupyter's HTML: as a Markdown page a lesson gets, from MkDocs and
Material themselves, what mkdocs-jupyter 0.26.3 gets wrong or leaves out: heading ids for Korean
headings (the toc extension's unicode slugs, unique per page), links rewritten to URLs and checked by
`--strict` (anchors too), the same math pipeline as every other page, the search index, Material's
code copy buttons and both colour schemes, and no 575 kB of notebook CSS inlined into each page.

Markdown cells pass through unchanged except for links to other lessons (`03_train_eval.py` ->
`03_train_eval.md`); in the downloadable .ipynb, relative links become the site's addresses
(`notebook_for_download`). Code cells become ```python fences; outputs follow in blocks of class
`nb-output`: text in a text fence, `text/markdown` as Markdown, figures as PNG files next to the
page with their alt text (see kernel_startup.py) and pixel size.

Figures for phones: a figure output may carry, under the MIME type `bnref.course.viz.FIGURE_MIME`,
the smallest text size (pt) and dpi of its PNG and a second, narrow rendering for phones (see
bnref/course/viz.py). The page's <img> then carries `data-text-pt` and `data-dpi`, and, when there
is a phone rendering, `data-phone` (its file name, next to the figure) with its `data-phone-width`,
`-height`, `-text-pt`, `-dpi`; hooks/readers.py turns that into a <picture> whose <source> narrow
screens choose. The downloaded notebook keeps only the ordinary PNG.

Folding a cell (the interface for lessons):
    A code cell whose metadata has `"fold": "<summary>"` is shown on the page folded away: a closed
    Material details block (`<details class="note bnref-fold">`) whose summary is that text, holding
    the cell's code and its outputs. In a jupytext percent lesson:

        # %% fold="답 보기"
        answer = x.mean(dim=0)
        print(fmt(answer))

    The cell is executed like any other, and the downloaded notebook keeps it, with its source marked
    collapsed (`metadata.jupyter.source_hidden`, which Jupyter and Colab honour). The summary must be
    a non-empty string. The setup cell that the build puts in front of every lesson (tag
    `bnref-setup`, see lesson_exec.py) is folded the same way, as "Colab에서만 필요한 준비".
"""

from __future__ import annotations

import base64
import copy as copy_module
import html
import posixpath
import re
import struct

import nbformat

# bnref.course.viz.FIGURE_MIME; written out, so that the hooks do not import bnref (and torch).
FIGURE_MIME = "application/vnd.bnref.figure+json"
FOLD = "fold"  # the cell metadata key of a folded cell
SETUP_TAG = "bnref-setup"  # the setup cell's tag (lesson_exec.py)
SETUP_SUMMARY = "Colab에서만 필요한 준비"


def _relative_link(extensions: str) -> re.Pattern:
    """A Markdown link or image target, `[text](target)` or `[id]: target`, that is a relative path to
    a file with one of `extensions` ("py|md"), with an optional #anchor or ?query kept in `tail`."""
    return re.compile(
        r"""(?P<head>\]\(\s*<?|^[ ]{0,3}\[[^\]]+\]:[ \t]*<?)"""
        r"""(?P<path>(?![a-zA-Z][a-zA-Z0-9+.-]*:|/)[^\s()<>#?]*?)\.(?:"""
        + extensions
        + r""")(?P<tail>[#?][^\s()<>]*)?(?=>?[\s)]|>?$)""",
        re.MULTILINE,
    )


_PY_LINK = _relative_link("py")  # a lesson
_REL_LINK = _relative_link("py|md")  # a lesson or a page of the site

_HANGUL = re.compile(r"[\uac00-\ud7a3]")
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


class LessonPageError(ValueError):
    """A lesson's output cannot be shown as it should (e.g. a figure without Korean alt text)."""


def rewrite_links(markdown: str) -> str:
    """Point relative links to `.py` lessons at their pages: `03_train_eval.py#x` -> `03_train_eval.md#x`.

    MkDocs then turns `.md` links into URLs and, with `--strict`, fails on a missing page or anchor.
    Absolute URLs (`https://...`) and links to other files are left alone.
    """
    return _PY_LINK.sub(lambda m: f"{m['head']}{m['path']}.md{m['tail'] or ''}", markdown)


def site_links(markdown: str, site_url: str) -> str:
    """For the downloaded notebook: relative links to lessons and pages become the site's addresses.

    In Colab or a Jupyter of one's own, `03_train_eval.py#x` or `../glossary.md` lead nowhere (the
    notebook travels alone), so they go to `<site_url>lessons/03_train_eval/#x` and
    `<site_url>glossary/`. A lesson's links are relative to lessons/, as on its page.
    """

    def absolute(m: re.Match) -> str:
        path = posixpath.normpath(posixpath.join("lessons", m["path"]))
        if posixpath.basename(path) == "index":
            path = posixpath.dirname(path)
        directory = "" if path in ("", ".") else f"{path}/"
        return f"{m['head']}{site_url}{directory}{m['tail'] or ''}"

    return _REL_LINK.sub(absolute, markdown)


def fold_summary(cell, where: str = "a cell") -> str | None:
    """The summary of a folded code cell (see the module's docstring), or None if it is not folded."""
    if cell.cell_type != "code":
        return None
    if SETUP_TAG in cell.metadata.get("tags", []):
        return SETUP_SUMMARY
    summary = cell.metadata.get(FOLD)
    if summary is None:
        return None
    if not isinstance(summary, str) or not summary.strip():
        raise LessonPageError(f'{where}: fold needs a summary text, e.g. # %% fold="답 보기" (got {summary!r})')
    return summary.strip()


def notebook_for_download(nb, site_url: str):
    """A copy of the executed notebook for readers: Markdown links that work outside the site (see
    site_links), folded cells marked collapsed, and only the outputs Jupyter shows (no phone figures)."""
    copy = nbformat.from_dict(copy_module.deepcopy(dict(nb)))
    for cell in copy.cells:
        if cell.cell_type == "markdown":
            cell.source = site_links(cell.source, site_url)
        elif cell.cell_type == "code":
            if fold_summary(cell) is not None:
                cell.metadata.setdefault("jupyter", {})["source_hidden"] = True
            for output in cell.get("outputs", []):
                output.get("data", {}).pop(FIGURE_MIME, None)
    return copy


# An HTML block's opening tag at the start of a line, without a `markdown` attribute yet.
_HTML_BLOCK = re.compile(r"^(?P<indent>[ ]{0,3})<(?P<tag>details|div)(?P<attrs>(?![^>]*\bmarkdown\b)[^>]*)>", re.MULTILINE)


def markdown_in_html(markdown: str) -> str:
    """`<details>` and `<div>` blocks get `markdown="1"`, so their content is Markdown (md_in_html).

    Jupyter and Colab render Markdown (and math) inside such blocks; Python-Markdown would show it raw.
    """
    out, fence = [], None
    for line in markdown.splitlines(keepends=True):
        opening = re.match(r"^[ ]{0,3}(`{3,}|~{3,})", line)
        if fence is None and opening:
            fence = opening[1]
        elif fence is not None and re.match(rf"^[ ]{{0,3}}{fence[0]}{{{len(fence)},}}\s*$", line):
            fence = None
        elif fence is None:
            line = _HTML_BLOCK.sub(lambda m: f'{m["indent"]}<{m["tag"]} markdown="1"{m["attrs"]}>', line)
        out.append(line)
    return "".join(out)


def _fence(text: str, info: str) -> str:
    """A fenced block that its own content cannot close: longer than any backtick run inside."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    ticks = "`" * max(3, longest + 1)
    return f"{ticks}{info}\n{text.rstrip(chr(10))}\n{ticks}"


def png_size(data: bytes) -> tuple[int, int]:
    """Width and height in pixels, from the PNG header (IHDR)."""
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise LessonPageError("image/png output is not a PNG")
    return struct.unpack(">II", data[16:24])


def _join(text) -> str:
    return "".join(text) if isinstance(text, list) else text


def _alt_text(output, where: str) -> str:
    alt = output.get("metadata", {}).get("image/png", {}).get("alt", "")
    alt = " ".join(alt.split()).replace("[", "(").replace("]", ")")
    if not _HANGUL.search(alt):
        raise LessonPageError(
            f"{where}: a figure needs Korean alt text; give it a Korean suptitle or axes titles, "
            f'or fig.set_label("...") (got {alt!r})'
        )
    return alt


def _output_markdown(output, where: str, figure_uri: str, figures: dict[str, bytes]) -> str:
    kind = output["output_type"]
    if kind == "stream":
        return _fence(_ANSI.sub("", _join(output["text"])), " { .text .nb-output .no-copy }")
    if kind == "error":  # the executor refuses these; kept for notebooks built elsewhere
        raise LessonPageError(f"{where}: the cell raised {output['ename']}")
    data = output.get("data", {})
    if "text/markdown" in data:
        return f'<div class="nb-output nb-markdown" markdown>\n\n{_join(data["text/markdown"])}\n\n</div>'
    if "image/png" in data:
        png = base64.b64decode(_join(data["image/png"]))
        width, height = png_size(png)
        figures[figure_uri] = png
        name = figure_uri.rsplit("/", 1)[-1]
        alt = _alt_text(output, where)
        attrs = f"width={width} height={height} loading=lazy{_figure_attrs(data.get(FIGURE_MIME), figure_uri, figures)}"
        return f'<figure class="nb-output nb-figure" markdown>\n\n![{alt}](figures/{name}){{ {attrs} }}\n\n</figure>'

    if "text/plain" in data:
        return _fence(_ANSI.sub("", _join(data["text/plain"])), " { .text .nb-output .no-copy }")
    raise LessonPageError(f"{where}: no way to show an output of type {sorted(data)}")


def _figure_attrs(variants, figure_uri: str, figures: dict[str, bytes]) -> str:
    """The <img> attributes for a figure's metadata and its phone rendering (added to `figures`)."""
    if not variants:
        return ""
    attrs = f' data-text-pt="{variants["text_pt"]}" data-dpi="{variants["dpi"]}"'
    phone = variants.get("phone")
    if phone:
        phone_uri = figure_uri.removesuffix(".png") + "-phone.png"
        png = base64.b64decode(phone["png"])
        if png_size(png) != (phone["width"], phone["height"]):
            raise LessonPageError(f"{phone_uri}: the phone rendering's size does not match its metadata")
        figures[phone_uri] = png
        attrs += (
            f' data-phone="{phone_uri.rsplit("/", 1)[-1]}" data-phone-width="{phone["width"]}"'
            f' data-phone-height="{phone["height"]}" data-phone-text-pt="{phone["text_pt"]}"'
            f' data-phone-dpi="{phone["dpi"]}"'
        )
    return attrs


def _folded(summary: str, blocks: list[str]) -> str:
    """A closed details block (Material styles it) holding a cell's code and outputs."""
    inner = "\n\n".join(block for block in blocks if block.strip())
    return f'<details class="note bnref-fold" markdown="1">\n<summary>{html.escape(summary)}</summary>\n\n{inner}\n\n</details>'


def _insert_after_title(markdown: str, block: str) -> str:
    """Put `block` right after the first `# ` heading of a Markdown cell."""
    match = re.search(r"^# .*$", markdown, re.MULTILINE)
    return f"{markdown[: match.end()]}\n\n{block}\n{markdown[match.end():]}"


def notebook_to_markdown(nb, name: str, header: str = "") -> tuple[str, dict[str, bytes]]:
    """The page's Markdown and its figures, {src_uri: png bytes}, for lesson `name` ("02_implement").

    The page lives at `lessons/<name>.md`, its figures at `lessons/figures/<name>-<cell>-<output>.png`.
    `header` (download and Colab links) goes under the lesson's title.
    """
    parts: list[str] = []
    figures: dict[str, bytes] = {}
    pending_header = header
    for i, cell in enumerate(nb.cells):
        source = _join(cell.source)
        if cell.cell_type == "markdown":
            source = rewrite_links(source)
            if pending_header and re.search(r"^# ", source, re.MULTILINE):
                source, pending_header = _insert_after_title(source, pending_header), ""
            parts.append(source)
        elif cell.cell_type == "code":
            blocks = [_fence(source, "python")] if source.strip() else []
            for j, output in enumerate(cell.get("outputs", [])):
                uri = f"lessons/figures/{name}-{i}-{j}.png"
                blocks.append(_output_markdown(output, f"{name} cell {i}", uri, figures))
            summary = fold_summary(cell, f"{name} cell {i}")
            if summary is not None and blocks:
                parts.append(_folded(summary, blocks))
            else:
                parts.extend(blocks)
    if pending_header:  # no title: the links go on top
        parts.insert(0, pending_header)
    return "\n\n".join(part for part in parts if part.strip()) + "\n", figures
