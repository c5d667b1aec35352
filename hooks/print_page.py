"""MkDocs hook: the print page (mkdocs-print-site-plugin, /print_page/) gets each page as readers see it.

print-site keeps a copy of every page's HTML in its own `on_page_content` and joins the copies into
the print page after the build. MkDocs runs hooks after plugins, so that copy is taken before
hooks/course.py has turned the page's math into MathML: the print page would show raw TeX. This hook
runs last (lowest priority) and hands print-site the finished HTML instead.

After the build it also mends the print page's cross-references (see `print_page_links`).
"""

from __future__ import annotations

import re
from pathlib import Path

from mkdocs.plugins import event_priority


@event_priority(-100)
def on_page_content(html: str, page, config, files) -> str:
    if "print-site" in config.plugins:
        page.html = html  # the attribute print-site's renderer reads
    return html


_AUTOREF = re.compile(r'<a class="autorefs[^"]*"(?P<title> title="[^"]*")? href="#(?P<anchor>[^"]+)"[^>]*>(?P<text>.*?)</a>', re.S)
_ID = re.compile(r'\bid="([^"]+)"')


def print_page_links(html: str) -> str:
    """Cross-references on the print page that land on its copy of the API page, or on nothing.

    print-site resolves autorefs links itself and points every one of them into the print page,
    also those to objects the API page does not show (`#torch.nn.Module`), and it keeps the
    anchors of the API page's entries unprefixed (`#bnref.modules.BatchNorm1d`) while it prefixes
    the entries' ids (`api-bnref.modules.BatchNorm1d`). Here a link whose anchor is missing goes to
    the prefixed id when there is one, and becomes plain text otherwise."""
    ids = set(_ID.findall(html))

    def fix(match: re.Match) -> str:
        anchor = match["anchor"]
        if anchor in ids:
            return match[0]
        if f"api-{anchor}" in ids:
            return match[0].replace(f'href="#{anchor}"', f'href="#api-{anchor}"', 1)
        return f"<span{match['title'] or ''}>{match['text']}</span>"

    return _AUTOREF.sub(fix, html)


def on_post_build(config) -> None:
    if "print-site" not in config.plugins:
        return
    page = Path(config.site_dir) / "print_page" / "index.html"
    page.write_text(print_page_links(page.read_text(encoding="utf-8")), encoding="utf-8")
