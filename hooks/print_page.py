"""MkDocs hook: the print page (mkdocs-print-site-plugin, /print_page/) gets each page as readers see it.

print-site keeps a copy of every page's HTML in its own `on_page_content` and joins the copies into
the print page after the build. MkDocs runs hooks after plugins, so that copy is taken before
hooks/course.py has turned the page's math into MathML: the print page would show raw TeX. This hook
runs last (lowest priority) and hands print-site the finished HTML instead.
"""

from __future__ import annotations

from mkdocs.plugins import event_priority


@event_priority(-100)
def on_page_content(html: str, page, config, files) -> str:
    if "print-site" in config.plugins:
        page.html = html  # the attribute print-site's renderer reads
    return html
