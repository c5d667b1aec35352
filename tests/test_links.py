"""Link check of the built course over HTTP, lesson pages and the print page included.

A small crawler rather than linkchecker: LinkChecker 10.6 with its AnchorCheck plugin found planted
broken links and anchors here, but on the whole course it ran past five minutes on this 2-core
machine (and once never finished after reporting an error), which a test suite cannot afford.

From the home page it follows every link to a page of the site, and checks every reference each page
makes (a/area href, img/script/source/iframe/embed src, srcset, link href): the target answers
200, and a #fragment names an element of the target page. Links to other origins are not fetched
(there is no internet here, and the site must work without it); they are only checked to be
well-formed http(s) links.
"""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor
from urllib.error import HTTPError
from urllib.parse import unquote, urldefrag, urljoin, urlparse
from urllib.request import urlopen

import pytest
from bs4 import BeautifulSoup

# The first test may also wait for the shared clean build (conftest.py: course_build), up to 540 s.
pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]

REFERENCES = {
    "a": ["href"],
    "area": ["href"],
    "img": ["src", "srcset"],
    "script": ["src"],
    "source": ["src", "srcset"],
    "iframe": ["src"],
    "embed": ["src"],
    "link": ["href"],
}


def _fetch(url: str) -> tuple[int, str, bytes]:
    try:
        with urlopen(url, timeout=30) as response:
            return response.status, response.headers.get_content_type(), response.read()
    except HTTPError as err:
        return err.code, "", b""


def _references(html: str) -> list[tuple[str, str]]:
    """(tag, url) for every reference the page makes."""
    soup = BeautifulSoup(html, "html.parser")
    found = []
    for tag, attrs in REFERENCES.items():
        for element in soup.find_all(tag):
            if tag == "link" and "canonical" in (element.get("rel") or []):
                continue  # the hosted address (site_url), not a resource this copy serves
            for attr in attrs:
                value = element.get(attr)
                if not value:
                    continue
                urls = [part.split()[0] for part in value.split(",")] if attr == "srcset" else [value]
                found += [(tag, url.strip()) for url in urls if url.strip()]
    return found


def _ids(html: str) -> set[str]:
    soup = BeautifulSoup(html, "html.parser")
    return {el["id"] for el in soup.select("[id]")} | {el["name"] for el in soup.select("a[name]")}


class Crawl:
    """Every page reachable from the home page, and every reference they make."""

    def __init__(self, base: str):
        self.base = base
        self.pages: dict[str, str] = {}  # url -> html
        self.status: dict[str, int] = {}
        self.references: list[tuple[str, str, str]] = []  # (page, tag, absolute url)
        self.outside: list[tuple[str, str]] = []
        self._ids: dict[str, set[str]] = {}
        todo = [base]
        with ThreadPoolExecutor(4) as pool:
            while todo:
                todo = [url for url in dict.fromkeys(todo) if url not in self.status]
                for url, (status, kind, body) in zip(todo, pool.map(_fetch, todo)):
                    self.status[url] = status
                    if status == 200 and kind == "text/html":
                        self.pages[url] = body.decode("utf-8")
                todo = [ref for ref in self._new_references(todo) if ref not in self.status]

    def _new_references(self, urls: list[str]) -> list[str]:
        follow = []
        for page in urls:
            if page not in self.pages:
                continue
            for tag, ref in _references(self.pages[page]):
                absolute = urljoin(page, ref)
                if not absolute.startswith(self.base):
                    if urlparse(absolute).scheme not in ("mailto", "data"):
                        self.outside.append((page, absolute))
                    continue
                self.references.append((page, tag, absolute))
                follow.append(urldefrag(absolute).url)
        return follow

    def ids(self, url: str) -> set[str]:
        if url not in self._ids:
            self._ids[url] = _ids(self.pages.get(url, ""))
        return self._ids[url]


@pytest.fixture(scope="module")
def crawl(site_url) -> Crawl:
    return Crawl(site_url)


def test_the_crawl_reaches_every_page_of_the_site(crawl, course_site):
    on_disk = {p.parent.relative_to(course_site).as_posix() for p in course_site.rglob("index.html")}
    reached = {urlparse(u).path.strip("/") or "." for u in crawl.pages}
    assert on_disk - reached == set()


def test_every_internal_link_and_resource_answers(crawl):
    broken = [
        f"{page} -> {url} ({crawl.status.get(urldefrag(url).url)})"
        for page, _, url in crawl.references
        if crawl.status.get(urldefrag(url).url) != 200
    ]
    assert broken == []


def test_every_anchor_names_an_element_of_its_page(crawl):
    missing = []
    for page, tag, url in crawl.references:
        target, fragment = urldefrag(url)
        if tag == "a" and fragment and urlparse(target).path.endswith("/"):
            if unquote(fragment) not in crawl.ids(target):
                missing.append(f"{page} -> {url}")
    assert missing == []


def test_links_to_other_origins_are_well_formed(crawl):
    bad = [
        f"{page} -> {url}"
        for page, url in crawl.outside
        if urlparse(url).scheme not in ("http", "https") or not urlparse(url).hostname or re.search(r"\s", url)
    ]
    assert bad == []

