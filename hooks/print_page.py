"""MkDocs hook: the print page (mkdocs-print-site-plugin, /print_page/) gets each page as readers see it.

print-site keeps a copy of every page's HTML in its own `on_page_content` and joins the copies into
the print page after the build. MkDocs runs hooks after plugins, so that copy is taken before
hooks/course.py has turned the page's math into MathML: the print page would show raw TeX. This hook
runs last (lowest priority) and hands print-site the finished HTML instead.

After the build it also mends the print page's cross-references (see `print_page_links`), and it
swaps in a faster copy of one of print-site's functions (see `update_anchor_ids`) and an extended
one of another (`fix_image_src`: the phone renderings of figures too).
"""

from __future__ import annotations

import re
from pathlib import Path

from mkdocs.plugins import event_priority
from mkdocs_print_site_plugin import urls as print_site_urls

# print-site's own pattern and tags, unchanged (mkdocs_print_site_plugin/urls.py, version 2.9).
_ANCHOR_TAG = re.compile(r"<([^\s]+).*?id=\"([^\"]*?)\".*?>", flags=re.IGNORECASE)
_HAS_ID = re.compile(r'id="', flags=re.IGNORECASE)
_CHANGE_TAGS = ["h1", "h2", "h3", "h4", "h5", "h6", "sup", "li"]


def update_anchor_ids(page_html: str, page_key: str) -> str:
    """print-site's `update_anchor_ids` (prefixes heading ids with the page's key), 27 times faster.

    Its pattern tries every `<` of a page and scans to the end of the line for `id="`; our MathML
    and highlighted code make long lines of many tags, so that search took 1.3 s of a 5 s rebuild.
    `.` does not match a newline, so no match spans two lines: searching only the lines that
    contain `id="` finds exactly the same matches, which are then replaced exactly as print-site
    does. tests/test_site.py checks that the output is identical on every page of the site.
    """
    matches = [m for line in page_html.split("\n") if _HAS_ID.search(line) for m in _ANCHOR_TAG.finditer(line)]
    for m in matches:
        tag_text, id_text, match_text = m.group(1), m.group(2), m.group()
        if tag_text in _CHANGE_TAGS:
            page_html = page_html.replace(match_text, match_text.replace(id_text, page_key + "-" + id_text))
    return page_html


_print_site_fix_image_src = print_site_urls.fix_image_src
_SOURCE_SRCSET = re.compile(r'(<source\b[^>]*?\ssrcset=")([^"]+)(")', flags=re.IGNORECASE)


def fix_image_src(page_html: str, page_url: str, directory_urls: bool) -> str:
    """print-site's `fix_image_src` (makes each <img src> relative to the print page), and the same
    for the <source srcset> of a <picture> (a figure's phone rendering, hooks/readers.py), which
    print-site leaves relative to the page it came from."""

    def fix(match: re.Match) -> str:
        url = match[2]
        if print_site_urls.is_external(url) or url.startswith("data:"):
            return match[0]
        new_url = print_site_urls.get_url_from_root(url, page_url)
        return f"{match[1]}{'../' + new_url if directory_urls else new_url}{match[3]}"

    return _SOURCE_SRCSET.sub(fix, _print_site_fix_image_src(page_html, page_url, directory_urls))


def on_config(config):
    print_site_urls.update_anchor_ids = update_anchor_ids  # read by print-site's fix_internal_links
    print_site_urls.fix_image_src = fix_image_src  # likewise
    return config


_DOC_HEADING = re.compile(r'(<h[1-6] id="([^"]+)" class="doc doc-heading"[^>]*>)')


def exact_anchors(html: str) -> str:
    """Each API entry's heading, for print-site's copy only, also holds an anchor under the entry's own
    name (`<span id="bnref.course.printing">` in `<h2 id="bnref.course.printing">`).

    print-site prefixes the headings' ids with the page's key (`api-bnref.course.printing`) and then looks up
    each cross-reference's anchor among the ids of the print page. When the exact id is missing it
    takes the first id that *contains* it, in set order: `bnref.course.printing` went to
    `api-bnref.course.printing.fmt` or `.compare`, differently from build to build. Spans keep their ids,
    so the lookup finds the exact one.
    """
    return _DOC_HEADING.sub(lambda m: f'{m[1]}<span id="{m[2]}"></span>', html)


_GLUED_HEADING = re.compile(r"(?<=>)(?=<h[1-6][\s>])", flags=re.IGNORECASE)


def heading_on_its_own_line(html: str) -> str:
    """A heading written right after another tag (`</div><h2 id="강의의-도우미">`, where mkdocstrings'
    output ends) starts a line of its own, for print-site's copy only.

    print-site's pattern takes everything from `<` to the first space as the tag's name, reads
    `/div><h2` there, and leaves that heading's id unprefixed while it prefixes the heading's `¶` link:
    the link landed on nothing."""
    return _GLUED_HEADING.sub("\n", html)


@event_priority(-100)
def on_page_content(html: str, page, config, files) -> str:
    if "print-site" in config.plugins:
        page.html = exact_anchors(heading_on_its_own_line(html))  # the attribute print-site's renderer reads
    return html


_AUTOREF = re.compile(r'<a class="autorefs[^"]*"(?P<title> title="[^"]*")? href="#(?P<anchor>[^"]+)"[^>]*>(?P<text>.*?)</a>', re.S)
_EXACT_ANCHOR = re.compile(r'<span id="([^"]+)"></span>')


def print_page_links(html: str) -> str:
    """Cross-references on the print page that would not land on an API entry become plain text.

    print-site resolves autorefs links itself and points every one of them into the print page,
    also those to objects the API page does not show: it falls back to the first id that contains
    the name, in set order (`str` -> `#lessons-04_distribution-분포로-보기`: "distribution"
    contains "str"). On the site's own pages every cross-reference is to an API entry, and the API
    page's entries are found under their exact names (see `exact_anchors`); the rest are text there
    too."""
    entries = set(_EXACT_ANCHOR.findall(html))

    def fix(match: re.Match) -> str:
        if match["anchor"] in entries:
            return match[0]
        return f"<span{match['title'] or ''}>{match['text']}</span>"

    return _AUTOREF.sub(fix, html)


def on_post_build(config) -> None:
    if "print-site" not in config.plugins:
        return
    page = Path(config.site_dir) / "print_page" / "index.html"
    page.write_text(print_page_links(page.read_text(encoding="utf-8")), encoding="utf-8")
