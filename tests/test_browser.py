"""The built course in a real browser (Chromium via Playwright), served from 127.0.0.1, as a reader meets it.

Every page is opened once per way of reading it, with every request routed through a handler that
lets only 127.0.0.1 through: at 1280 px in the light scheme (fixture `visits`) and in the dark scheme
(`dark_visits`), each time audited by axe-core (tests/site_audit.py), and on a 390×844 phone
(`phone_visits`). What each page shows is measured in the page itself, and each test below asserts
one behaviour on those measurements. Search, the colour-scheme toggle, a tap on a figure, the
keyboard and the screenshots drive the pages themselves.

Needs Debian's Chromium (/usr/bin/chromium) and a Korean font (fonts-nanum): `make test` installs
both (Makefile: system-deps), and axe-core from npm (`make setup`). Screenshots for review:
test-output/screenshots/ (not committed), phone ones as <page>-phone.png.
"""

from __future__ import annotations

import json
import re
import shutil
from collections import Counter
from pathlib import Path
from urllib.parse import unquote, urljoin, urlparse

import pytest
from playwright.sync_api import sync_playwright
from site_audit import AXE_JS, PHONE, PHONE_MEASURE, axe_violations
from site_build import ROOT, site_pages

# The first test also waits for the shared clean build (conftest.py: course_build), up to 540 s.
pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOTS = ROOT / "test-output" / "screenshots"
HANGUL = re.compile("[가-힣]")
# TeX a reader must never see: delimiters left by arithmatex, or common commands outside <math>.
RAW_TEX = re.compile(r"\\\(|\\\)|\\\[|\\\]|\$\$|\\(?:frac|sqrt|mathrm|hat|gamma|beta|epsilon|sum|cdot)\b")

# Images are marked lazy: load them all before measuring or taking a full-page screenshot.
LOAD_IMAGES = """async () => {
  const images = [...document.images];
  for (const img of images) img.loading = "eager";
  await Promise.all(images.map(img => img.decode().catch(() => null)));
}"""

# Measured inside each page once it has loaded and LOAD_IMAGES has run.
MEASURE = """async () => {
  const article = document.querySelector("article.md-content__inner");
  const images = [...document.images];
  const hidden = el => el.closest("details:not([open])") !== null;
  const text = (() => {
    if (!article) return "";
    const copy = article.cloneNode(true);
    copy.querySelectorAll("pre, code, math, script, style").forEach(el => el.remove());
    document.body.appendChild(copy);  // innerText needs a rendered element
    copy.style.position = "absolute"; copy.style.left = "-99999px";
    const t = copy.innerText;
    copy.remove();
    return t;
  })();
  const toc = [...document.querySelectorAll("nav.md-nav--secondary a.md-nav__link")].map(a => {
    const id = decodeURIComponent(new URL(a.href).hash.slice(1));
    const target = id ? document.getElementById(id) : null;
    const heading = el => el !== null && /^H[1-6]$/.test(el.tagName);
    return {href: a.getAttribute("href"),
            lands: heading(target) || (target !== null && heading(target.firstElementChild))};
  });
  const h1 = article && article.querySelector("h1");
  return {
    h1: h1 ? h1.textContent.replace("¶", "").trim() : null,
    scheme: document.body.getAttribute("data-md-color-scheme"),
    images: images.map(img => ({src: img.getAttribute("src"), alt: img.getAttribute("alt") || "",
                                width: img.naturalWidth})),
    arithmatex: article ? article.querySelectorAll(".arithmatex").length : 0,
    arithmatexWithoutMath: article ? [...article.querySelectorAll(".arithmatex")]
        .filter(el => !el.querySelector("math")).map(el => el.textContent.slice(0, 80)) : [],
    math: article ? article.querySelectorAll("math").length : 0,
    mathNotRendered: article ? [...article.querySelectorAll("math")]
        .filter(m => !hidden(m) && m.getBoundingClientRect().width === 0).length : 0,
    text,
    toc,
  };
}"""


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: `make system-deps` installs Debian's chromium and fonts-nanum")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


class Reader:
    """A browser context that records what leaves 127.0.0.1 (and blocks it) and what goes wrong."""

    def __init__(self, browser, color_scheme: str = "light", viewport=None, phone: bool = False):
        self.context = browser.new_context(
            color_scheme=color_scheme,
            viewport=viewport or {"width": 1280, "height": 800},
            locale="ko-KR",
            is_mobile=phone,
            has_touch=phone,
        )
        # The print page (1 MB of HTML and MathML) can take more than Playwright's default 30 s to
        # load on a busy 2-core machine.
        self.context.set_default_navigation_timeout(180_000)
        self.outside: list[str] = []
        self.errors: list[str] = []
        self.failed: list[str] = []
        self.context.route("**/*", self._route)

    def _route(self, route):
        url = urlparse(route.request.url)
        if url.scheme in ("http", "https", "ws", "wss") and url.hostname != "127.0.0.1":
            self.outside.append(route.request.url)
            route.abort()
        else:
            route.continue_()

    def open(self, url: str):
        page = self.context.new_page()
        page.on("console", lambda msg: msg.type == "error" and self.errors.append(f"{url}: console: {msg.text}"))
        page.on("pageerror", lambda exc: self.errors.append(f"{url}: {exc}"))
        page.on("response", lambda r: r.status >= 400 and self.failed.append(f"{url}: {r.status} {r.url}"))
        page.goto(url, wait_until="load")
        return page

    def close(self):
        self.context.close()


def _shot_name(path: str) -> str:
    return path.strip("/").split("/")[-1] or "home"


def _screenshot_pages(pages: list[str]) -> list[str]:
    return [p for p in pages if p == "" or re.fullmatch(r"lessons/\d\d_[^/]+/", p)]


@pytest.fixture(scope="module")
def visits(browser, site_url, course_site):
    """Every page opened once in the light scheme: its measurements and axe-core's violations, plus
    what the reader saw go wrong.

    Also saves the light screenshots of the home page and the lessons."""
    pages = site_pages(course_site)
    shutil.rmtree(SCREENSHOTS, ignore_errors=True)
    SCREENSHOTS.mkdir(parents=True)
    reader = Reader(browser)
    measured, axe = {}, {}
    try:
        for path in pages:
            page = reader.open(site_url + path)
            page.evaluate(LOAD_IMAGES)
            measured[path] = page.evaluate(MEASURE)
            if path in _screenshot_pages(pages):
                page.screenshot(path=SCREENSHOTS / f"{_shot_name(path)}-light.png", full_page=True)
            axe[path] = axe_violations(page)
            page.close()
    finally:
        reader.close()
    return {"pages": measured, "axe": axe, "errors": reader.errors, "failed": reader.failed, "outside": reader.outside}


@pytest.fixture(scope="module")
def dark_visits(browser, site_url, visits):
    """Every page in the dark scheme (the reader's system setting): axe-core's violations; the dark
    screenshots of the home page and the lessons."""
    reader = Reader(browser, color_scheme="dark")
    schemes, axe = {}, {}
    try:
        for path in visits["pages"]:
            page = reader.open(site_url + path)
            schemes[path] = page.evaluate("document.body.getAttribute('data-md-color-scheme')")
            if path in _screenshot_pages(list(visits["pages"])):
                page.evaluate(LOAD_IMAGES)
                page.screenshot(path=SCREENSHOTS / f"{_shot_name(path)}-dark.png", full_page=True)
            axe[path] = axe_violations(page)
            page.close()
    finally:
        reader.close()
    return {"schemes": schemes, "axe": axe, "errors": reader.errors, "outside": reader.outside}


# Phone screenshots for review: lessons 02 (code and printed output), 04 (figures), 08 (placement)
# and 10 (the old 08: wide figures, printed tables).
PHONE_SHOTS = ("02_", "04_", "08_", "10_")


@pytest.fixture(scope="module")
def phone_visits(browser, site_url, visits):
    """Every page on a 390×844 touch screen: what a phone reader sees (tests/site_audit.py:
    PHONE_MEASURE), and screenshots of PHONE_SHOTS."""
    reader = Reader(browser, viewport=PHONE, phone=True)
    measured = {}
    try:
        for path in visits["pages"]:
            page = reader.open(site_url + path)
            page.evaluate(LOAD_IMAGES)
            measured[path] = page.evaluate(PHONE_MEASURE)
            if any(path.startswith(f"lessons/{p}") for p in PHONE_SHOTS):
                page.screenshot(path=SCREENSHOTS / f"{_shot_name(path)}-phone.png", full_page=True)
            page.close()
    finally:
        reader.close()
    return {"pages": measured, "errors": reader.errors, "failed": reader.failed, "outside": reader.outside}


def _lesson_pages(visits) -> list[str]:
    return [p for p in visits["pages"] if re.fullmatch(r"lessons/\d\d_[^/]+/", p)]


# ── Loading ───────────────────────────────────────────────────────────────────────────────────────


def test_the_site_has_the_home_page_every_lesson_the_api_and_the_print_page(visits):
    lessons = sorted(p.stem for p in (ROOT / "lessons").glob("[0-9][0-9]_*.py"))
    assert [p.split("/")[1] for p in _lesson_pages(visits)] == lessons
    assert {"", "api/", "print_page/"} <= set(visits["pages"])


def test_every_page_loads_without_javascript_errors(visits):
    assert visits["errors"] == []


def test_every_resource_a_page_asks_for_exists(visits):
    assert visits["failed"] == []


def test_no_request_leaves_127_0_0_1(visits):
    assert visits["outside"] == []


# ── Math, images, table of contents ───────────────────────────────────────────────────────────────


def test_math_is_rendered_as_mathml_on_markdown_and_lesson_pages(visits):
    with_math = {path for path, m in visits["pages"].items() if m["arithmatex"]}
    assert any(p in with_math for p in _lesson_pages(visits)), "no lesson page has math"
    assert with_math - set(_lesson_pages(visits)) - {"print_page/"}, "no Markdown page has math"
    for path in with_math:
        m = visits["pages"][path]
        assert m["arithmatexWithoutMath"] == [], path
        assert m["math"] >= m["arithmatex"], path
        assert m["mathNotRendered"] == 0, f"{path}: <math> with no width (not rendered)"


def test_no_raw_tex_is_visible(visits):
    for path, m in visits["pages"].items():
        assert not RAW_TEX.findall(m["text"]), f"{path}: {RAW_TEX.findall(m['text'])[:5]}"


def test_every_image_loads_and_has_korean_alt_text(visits):
    images = [(path, img) for path, m in visits["pages"].items() for img in m["images"]]
    assert images, "the site shows no image"
    for path, img in images:
        assert img["width"] > 0, f"{path}: {img['src']} did not load"
        alt = img["alt"]
        assert HANGUL.search(alt) and len(alt) >= 8, f"{path}: {img['src']} alt {alt!r}"
        assert "No description has been provided" not in alt


def test_figures_have_alt_texts_of_their_own(visits):
    """Alt text says what the figure shows: two different figures on a page never share one."""
    for path, m in visits["pages"].items():
        alts = Counter(img["alt"] for img in m["images"] if "/lessons/" in urljoin("/" + path, img["src"]))
        assert [alt for alt, n in alts.items() if n > 1] == [], path


def test_every_table_of_contents_link_lands_on_a_heading(visits):
    for path, m in visits["pages"].items():
        assert [link["href"] for link in m["toc"] if not link["lands"]] == [], path


def test_print_page_holds_every_page_of_the_navigation_in_order(visits, course_site):
    titles = [re.sub(r"\s+", " ", h1) for h1 in _print_sections(course_site)]
    for path in ["", *_lesson_pages(visits), "glossary/", "references/"]:
        title = visits["pages"][path]["h1"]
        assert any(title in t for t in titles), f"{path} ({title!r}) is not on the print page"
    lesson_titles = [visits["pages"][p]["h1"] for p in _lesson_pages(visits)]
    positions = [next(i for i, t in enumerate(titles) if title in t) for title in lesson_titles]
    assert positions == sorted(positions)


def _print_sections(site: Path) -> list[str]:
    html = (site / "print_page" / "index.html").read_text(encoding="utf-8")
    return [re.sub("<[^>]+>", "", h1) for h1 in re.findall(r"<section class=.print-page[^>]*>\s*<h1[^>]*>(.*?)</h1>", html, re.S)]


def test_print_page_prints_to_pdf_without_the_site_chrome(browser, site_url, tmp_path):
    reader = Reader(browser)
    try:
        page = reader.open(site_url + "print_page/")
        page.emulate_media(media="print")
        hidden = page.evaluate(
            "[...document.querySelectorAll('.md-header, .md-sidebar--primary')]"
            ".every(el => getComputedStyle(el).display === 'none')"
        )
        pdf = page.pdf(path=str(SCREENSHOTS.parent / "course.pdf"), format="A4")
    finally:
        reader.close()
    assert hidden, "the header and navigation would be printed"
    pages = len(re.findall(rb"/Type\s*/Page[^s]", pdf))
    assert pages >= len(list((ROOT / "lessons").glob("[0-9][0-9]_*.py"))), pages
    assert reader.errors == [] and reader.outside == []


# ── Search ────────────────────────────────────────────────────────────────────────────────────────


def _search_index(site: Path) -> list[dict]:
    return json.loads((site / "search" / "search_index.json").read_text(encoding="utf-8"))["docs"]


def _page_texts(site: Path) -> dict[str, str]:
    texts: dict[str, str] = {}
    for doc in _search_index(site):
        page = doc["location"].split("#")[0]
        texts[page] = texts.get(page, "") + " " + doc["title"] + " " + doc["text"]
    return texts


def _search(page, query: str) -> list[str]:
    """Type `query` into Material's search box; the result pages' paths, best first, all of them."""
    box = page.locator("input.md-search__input")
    results = "els => els.map(a => a.href)"
    hrefs: list[str] = []
    for _ in range(40):  # the search worker may still be loading its index: ask again
        box.fill(query)
        box.dispatch_event("keyup")  # Material searches on keyup; fill() alone sends none
        page.wait_for_timeout(250)
        hrefs = page.eval_on_selector_all(".md-search-result__item > a", results)
        if hrefs:
            break
    while True:  # Material shows ten results and adds more as the list is scrolled
        page.eval_on_selector(".md-search__scrollwrap", "el => el.scrollTo(0, el.scrollHeight)")
        page.wait_for_timeout(200)
        more = page.eval_on_selector_all(".md-search-result__item > a", results)
        if len(more) == len(hrefs):
            break
        hrefs = more
    return list(dict.fromkeys(urlparse(h).path.lstrip("/") for h in hrefs))


@pytest.fixture(scope="module")
def search_page(browser, site_url):
    reader = Reader(browser)
    page = reader.open(site_url)
    yield page
    reader.close()
    assert reader.errors == [] and reader.outside == []


@pytest.mark.parametrize("term", ["분산", "이동 평균", "감마", "미니배치"])
def test_korean_search_finds_the_page_that_uses_the_term_most(search_page, course_site, term):
    counts = {page: text.count(term) for page, text in _page_texts(course_site).items()}
    expected = max(counts, key=counts.get)
    assert counts[expected] > 0, f"{term!r} is on no page"
    assert expected in _search(search_page, term)


def test_korean_search_finds_each_lesson_by_a_word_only_it_uses(search_page, course_site):
    texts = _page_texts(course_site)
    lessons = [p for p in texts if re.fullmatch(r"lessons/\d\d_[^/]+/", p)]
    assert lessons
    for lesson in lessons:
        word = _word_only_in(lesson, texts)
        assert word, f"{lesson}: no Korean word that only it uses"
        assert _search(search_page, word)[:1] == [lesson], word


def _word_only_in(page: str, texts: dict[str, str]) -> str | None:
    """The lesson's most frequent Hangul word (3+ syllables) that no other page contains."""
    # A whole search token (after a space, before a space or punctuation): search matches prefixes of tokens.
    words = Counter(re.findall(r"(?:^|(?<=\s))[가-힣]{3,}(?=[\s.,)]|$)", texts[page]))
    others = " ".join(t for p, t in texts.items() if p != page)
    unique = [w for w, _ in words.most_common() if w not in others]
    return unique[0] if unique else None


# ── Colour schemes, screenshots ───────────────────────────────────────────────────────────────────


def test_the_toggle_switches_between_light_and_dark(browser, site_url):
    reader = Reader(browser)
    try:
        page = reader.open(site_url)
        scheme = lambda: page.evaluate("document.body.getAttribute('data-md-color-scheme')")  # noqa: E731
        assert scheme() == "default"
        page.locator("form[data-md-component=palette] label:visible").click()
        page.wait_for_function("document.body.getAttribute('data-md-color-scheme') === 'slate'")
        page.locator("form[data-md-component=palette] label:visible").click()
        page.wait_for_function("document.body.getAttribute('data-md-color-scheme') === 'default'")
    finally:
        reader.close()
    assert reader.errors == []


def test_dark_screenshots_of_the_home_page_and_every_lesson(dark_visits, visits):
    """Saved for review next to the light ones (taken by `visits`); the dark scheme follows the
    reader's system setting."""
    assert set(dark_visits["schemes"].values()) == {"slate"}
    assert dark_visits["errors"] == [] and dark_visits["outside"] == []
    for path in _screenshot_pages(list(visits["pages"])):
        for scheme in ("light", "dark"):
            assert (SCREENSHOTS / f"{_shot_name(path)}-{scheme}.png").stat().st_size > 10_000


# ── Accessibility (axe-core) ──────────────────────────────────────────────────────────────────────


def _violations(axe: dict) -> list[str]:
    return [
        f"{path}: {v['id']} ({v['impact']}) × {len(v['nodes'])}: {v['nodes'][0]['target']} {v['nodes'][0]['summary'][:160]}"
        for path, violations in axe.items()
        for v in violations
    ]


def test_axe_core_is_the_pinned_version():
    lock = json.loads((ROOT / "package-lock.json").read_text(encoding="utf-8"))
    pinned = lock["packages"]["node_modules/axe-core"]["version"]
    assert AXE_JS.read_text(encoding="utf-8")[:40].startswith(f"/*! axe v{pinned}")


def test_axe_finds_no_violation_on_any_page_in_the_light_scheme(visits):
    assert visits["axe"] and _violations(visits["axe"]) == []


def test_axe_finds_no_violation_on_any_page_in_the_dark_scheme(dark_visits):
    assert dark_visits["axe"] and _violations(dark_visits["axe"]) == []


# ── Phones (390×844) ──────────────────────────────────────────────────────────────────────────────


def test_phone_pages_load_and_fit_the_screen(phone_visits):
    assert phone_visits["errors"] == [] and phone_visits["failed"] == [] and phone_visits["outside"] == []
    wider = {path: m["pageWidth"] for path, m in phone_visits["pages"].items() if m and m["pageWidth"] > PHONE["width"]}
    assert wider == {}


def test_the_smallest_text_of_every_figure_is_at_least_9_px_on_a_phone(phone_visits):
    """From each figure's metadata (smallest font in pt, dpi, recorded by the lesson's kernel) and the
    size the browser draws the image it chose: pt / 72 · dpi · CSS width / natural width."""
    figures = [(path, f) for path, m in phone_visits["pages"].items() if m for f in m["figures"]]
    assert figures, "no figure on the site"
    small = [f"{path} {f['src']}: {f['textPx']:.1f} px" for path, f in figures if not f["textPx"] >= 9]
    assert small == []


def test_printed_output_shows_every_number_on_a_phone(phone_visits):
    cut = [
        f"{path}: {o['text']!r}"
        for path, m in phone_visits["pages"].items() if m
        for o in m["outputs"] if o["cut"]
    ]
    assert cut == []
    overflowing = [f"{path}: {o['text']!r}" for path, m in phone_visits["pages"].items() if m for o in m["outputOverflow"]]
    assert overflowing == []


def test_what_scrolls_sideways_on_a_phone_shows_that_it_does(phone_visits):
    """Code, formulas and tables wider than a phone scroll, and fade at the right edge (the cue)."""
    regions = [(path, r) for path, m in phone_visits["pages"].items() if m for kind in ("code", "math", "tables") for r in m[kind]]
    assert regions, "nothing scrolls on a phone: the check would check nothing"
    assert [f"{path}: {r['kind']} {r['text']!r}" for path, r in regions if not r["cue"]] == []


def test_phone_screenshots_of_lessons_02_04_08_10(phone_visits):
    shots = sorted(SCREENSHOTS.glob("*-phone.png"))
    assert [s.name[:3] for s in shots] == list(PHONE_SHOTS)
    assert all(s.stat().st_size > 10_000 for s in shots)


def _lesson(visits, prefix: str) -> str:
    return next(p for p in visits["pages"] if p.startswith(f"lessons/{prefix}"))


def test_a_tap_on_a_figure_opens_it_full_screen(browser, site_url, visits):
    reader = Reader(browser, viewport=PHONE, phone=True)
    try:
        page = reader.open(site_url + _lesson(visits, "04_"))
        link = page.locator("figure.nb-figure a.glightbox").first
        link.scroll_into_view_if_needed()
        href = link.get_attribute("href")
        link.tap()
        image = page.locator(".glightbox-container .gslide-image img").first
        image.wait_for(state="visible", timeout=10_000)
        # The whole screen's width, once the zoom-in animation has ended.
        page.wait_for_function(
            "w => { const img = document.querySelector('.glightbox-container .gslide-image img');"
            " return img && img.naturalWidth > 0 && img.getBoundingClientRect().width >= w; }",
            arg=PHONE["width"] * 0.95, timeout=10_000,
        )
        assert urljoin(page.url, image.get_attribute("src")) == urljoin(page.url, href)
        cover = page.evaluate("() => { const r = document.querySelector('.glightbox-container').getBoundingClientRect();"
                              " return [r.width, r.height]; }")
        assert cover == [PHONE["width"], PHONE["height"]]
        page.keyboard.press("Escape")
        page.locator(".glightbox-container").wait_for(state="detached", timeout=10_000)
    finally:
        reader.close()
    assert reader.errors == [] and reader.outside == []


# ── Keyboard ──────────────────────────────────────────────────────────────────────────────────────

# Marks every region of the article that scrolls sideways, and every fold's summary, with an index.
_TARGETS = """() => {
  const article = document.querySelector("article.md-content__inner");
  const shown = el => el.getClientRects().length > 0 && el.closest("details:not([open])") === null;
  const scrolls = [...article.querySelectorAll("pre > code, div.arithmatex, .md-typeset__scrollwrap")]
    .filter(el => shown(el) && el.scrollWidth > el.clientWidth + 1);
  const toggles = [...article.querySelectorAll("details > summary")].filter(el => el.getClientRects().length > 0);
  [...scrolls, ...toggles].forEach((el, i) => el.setAttribute("data-target", String(i)));
  // Chromium (since 130) lets Tab reach a scroller by itself; other browsers need a tabindex.
  const untabbable = scrolls.filter(el => !el.hasAttribute("tabindex")).map(el => el.textContent.slice(0, 40));
  return {scrolls: scrolls.length, toggles: toggles.length, untabbable};
}"""


def test_the_keyboard_reaches_every_scrollable_region_and_every_fold(browser, site_url, course_site):
    """Tab from the top of a lesson to its end, on a narrow window: every region that scrolls
    sideways (code, formulas, tables) and every fold's toggle gets the focus, and every such region
    has a tabindex (in every browser, not only in Chromium, which makes scrollers focusable itself)."""
    lesson = next(p for p in site_pages(course_site) if p.startswith("lessons/03_"))
    reader = Reader(browser, viewport=PHONE)
    try:
        page = reader.open(site_url + lesson)
        page.evaluate(LOAD_IMAGES)
        page.wait_for_timeout(500)  # Material and readers.js mark scrollable regions as they mount
        counts = page.evaluate(_TARGETS)
        assert counts["scrolls"] > 0 and counts["toggles"] > 0, counts
        assert counts["untabbable"] == []
        reached: set[str] = set()
        last = None
        for _ in range(600):
            page.keyboard.press("Tab")
            focused = page.evaluate("""() => { const el = document.activeElement;
                return el ? [el.getAttribute("data-target"), el.closest("footer") !== null] : [null, true]; }""")
            if focused[0] is not None:
                reached.add(focused[0])
            if focused[1]:  # the page's footer: past the article
                break
            last = focused
        expected = {str(i) for i in range(counts["scrolls"] + counts["toggles"])}
    finally:
        reader.close()
    assert last is not None
    assert expected - reached == set(), f"not reached by Tab: {sorted(expected - reached, key=int)} of {counts}"
