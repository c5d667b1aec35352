"""What a reader meets on each page of the built course, measured in Chromium: axe-core's violations,
and on a 390×844 phone the figures' smallest text, the widest output and what scrolls sideways.

Used by tests/test_browser.py; also a script, for before/after figures:

    .venv/bin/python tests/site_audit.py SITE_DIR [--phone] [--axe] [--json OUT]

axe-core is the npm package pinned in package.json (`make setup` runs `npm ci`): its axe.min.js is
injected into each page and run with its default rule set (every rule but the experimental ones).

The smallest text of a figure, in CSS px, is computed from the figure's own metadata, which the
lesson kernel records (bnref.course.viz) and the page carries on each <img>/<source> as
`data-text-pt` (the smallest font size in the figure, in points) and `data-dpi` (the rendering's
pixels per inch), and from what the browser shows: text px = pt / 72 · dpi · (rendered CSS width /
natural pixel width of the image the browser chose).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
AXE_JS = ROOT / "node_modules" / "axe-core" / "axe.min.js"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}

# Images are marked lazy: load them all before measuring.
LOAD_IMAGES = """async () => {
  const images = [...document.images];
  for (const img of images) img.loading = "eager";
  await Promise.all(images.map(img => img.decode().catch(() => null)));
}"""

AXE_RUN = """async () => {
  const result = await axe.run(document, {resultTypes: ["violations"]});
  return result.violations.map(v => ({id: v.id, impact: v.impact,
    nodes: v.nodes.map(n => ({target: n.target.join(" "), html: n.html.slice(0, 200),
                              summary: (n.failureSummary || "").slice(0, 300)}))}));
}"""

# On the page as shown: figures (smallest text), and every block wider than its box.
PHONE_MEASURE = """() => {
  const article = document.querySelector("article.md-content__inner");
  if (!article) return null;
  const shown = el => el.getClientRects().length > 0 && el.closest("details:not([open])") === null;
  const figures = [...article.querySelectorAll("img")].filter(shown).map(img => {
    const src = img.currentSrc || img.src;
    const picture = img.parentElement && img.parentElement.tagName === "PICTURE" ? img.parentElement : null;
    // The <source> the browser chose, else the <img> itself, holds the metadata of what is shown.
    let meta = img;
    if (picture) {
      for (const source of picture.querySelectorAll("source")) {
        if (new URL(source.getAttribute("srcset"), document.baseURI).href === src) meta = source;
      }
    }
    const width = img.getBoundingClientRect().width;
    const pt = parseFloat(meta.dataset.textPt), dpi = parseFloat(meta.dataset.dpi);
    return {src: src.replace(document.baseURI, ""), cssWidth: width, naturalWidth: img.naturalWidth,
            textPt: pt, dpi: dpi, textPx: pt / 72 * dpi * width / img.naturalWidth};
  });
  const wide = (selector, kind) => [...article.querySelectorAll(selector)].filter(shown)
    .filter(el => el.scrollWidth > el.clientWidth + 1)
    .map(el => ({kind, scrollWidth: el.scrollWidth, clientWidth: el.clientWidth,
                 focusable: el.tabIndex >= 0, label: el.getAttribute("aria-label") || "",
                 // the cue (extra.css, readers.js): a faded right edge until scrolled to the end
                 cue: el.classList.contains("bnref-scrolls") && (el.classList.contains("bnref-scrolls--end")
                      || getComputedStyle(el).maskImage !== "none"),
                 text: el.textContent.trim().slice(0, 60)}));
  // Output blocks: the widest line in characters, and whether any of it is cut off.
  const outputs = [...article.querySelectorAll(".nb-output pre > code")].filter(shown).map(code => {
    const lines = code.textContent.split("\\n");
    return {columns: Math.max(...lines.map(l => [...l].length)),
            cut: code.scrollWidth > code.clientWidth + 1,  // Material's code blocks scroll in <code>
            text: lines.reduce((a, b) => ([...b].length > [...a].length ? b : a), "")};
  });
  return {
    pageWidth: document.documentElement.scrollWidth,
    figures,
    outputs,
    code: wide(".highlight:not(.nb-output) pre > code", "code"),
    outputOverflow: wide(".nb-output pre > code, .nb-output .md-typeset__scrollwrap, .nb-output table", "output"),
    tables: wide(".md-typeset__scrollwrap", "table"),
    math: wide("div.arithmatex, math[display=block]", "math"),
  };
}"""


def open_browser(playwright):
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)


def new_context(browser, scheme: str = "light", viewport: dict = DESKTOP):
    """A context whose requests may only go to 127.0.0.1 (the site must work offline)."""
    context = browser.new_context(color_scheme=scheme, viewport=viewport, locale="ko-KR")
    context.set_default_navigation_timeout(180_000)  # the print page, on a busy machine

    def route(r):
        host = re.match(r"^[a-z]+://([^/:]+)", r.request.url)
        if host and host[1] != "127.0.0.1":
            r.abort()
        else:
            r.continue_()

    context.route("**/*", route)
    return context


def axe_violations(page) -> list[dict]:
    """axe-core's violations on an open page (all impacts)."""
    page.add_script_tag(content=AXE_JS.read_text(encoding="utf-8"))
    return page.evaluate(AXE_RUN)


def phone_measure(page) -> dict:
    page.evaluate(LOAD_IMAGES)
    return page.evaluate(PHONE_MEASURE)


def audit(site_url: str, pages: list[str], axe: bool = True, phone: bool = True, log=lambda *a: None) -> dict:
    import time

    from playwright.sync_api import sync_playwright

    report: dict = {"axe": {}, "phone": {}}
    with sync_playwright() as playwright:
        browser = open_browser(playwright)
        try:
            if axe:
                for scheme in ("light", "dark"):
                    context = new_context(browser, scheme)
                    for path in pages:
                        page = context.new_page()
                        started = time.perf_counter()
                        page.goto(site_url + path, wait_until="load")
                        report["axe"][f"{scheme} {path}"] = axe_violations(page)
                        page.close()
                        log(f"axe {scheme} {path or '/'}: {time.perf_counter() - started:.1f} s")
                    context.close()
            if phone:
                context = new_context(browser, "light", PHONE)
                for path in pages:
                    page = context.new_page()
                    page.goto(site_url + path, wait_until="load")
                    report["phone"][path] = phone_measure(page)
                    page.close()
                    log(f"phone {path or '/'}")
                context.close()
        finally:
            browser.close()
    return report


def summarize(report: dict) -> str:
    lines = []
    if report["axe"]:
        nodes, pages = Counter(), defaultdict(set)
        for key, violations in report["axe"].items():
            for v in violations:
                rule = f"{v['id']} ({v['impact']})"
                nodes[rule] += len(v["nodes"])
                pages[rule].add(key)
        lines.append(f"axe-core: {sum(nodes.values())} nodes in {len(nodes)} rules")
        for rule, n in nodes.most_common():
            schemes = Counter(k.split()[0] for k in pages[rule])
            lines.append(f"  {rule}: {n} nodes on {len(pages[rule])} page-scheme pairs {dict(schemes)}")
    if report["phone"]:
        figures = [(path, f) for path, m in report["phone"].items() if m for f in m["figures"]]
        measured = [(path, f) for path, f in figures if f["textPx"] == f["textPx"]]  # not NaN
        lines.append(f"phone 390 px: {len(figures)} figures, {len(measured)} with metadata")
        if measured:
            path, smallest = min(measured, key=lambda pf: pf[1]["textPx"])
            lines.append(f"  smallest figure text: {smallest['textPx']:.1f} CSS px ({path} {smallest['src']})")
            below = [(p, f) for p, f in measured if f["textPx"] < 9]
            lines.append(f"  figures below 9 px: {len(below)}")
        outputs = [(path, o) for path, m in report["phone"].items() if m for o in m["outputs"]]
        if outputs:
            path, widest = max(outputs, key=lambda po: po[1]["columns"])
            lines.append(f"  widest output: {widest['columns']} columns ({path}: {widest['text']!r})")
            lines.append(f"  outputs cut off at the right edge: {sum(o['cut'] for _, o in outputs)} of {len(outputs)}")
        for kind in ("code", "tables", "math"):
            wide = [(path, w) for path, m in report["phone"].items() if m for w in m[kind]]
            lines.append(
                f"  {kind} wider than the screen: {len(wide)} "
                f"(focusable {sum(w['focusable'] for _, w in wide)}, with a cue {sum(w['cue'] for _, w in wide)})"
            )
        too_wide = [p for p, m in report["phone"].items() if m and m["pageWidth"] > PHONE["width"]]
        lines.append(f"  pages wider than the phone: {too_wide}")
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from site_build import Server, site_pages

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("site", type=Path)
    parser.add_argument("--axe", action="store_true", help="only axe-core")
    parser.add_argument("--phone", action="store_true", help="only the phone measurements")
    parser.add_argument("--json", type=Path, help="write the whole report here")
    parser.add_argument("--pages", help="only the pages whose path contains one of these (comma-separated)")
    args = parser.parse_args(argv)
    both = not (args.axe or args.phone)
    server = Server(args.site)
    try:
        pages = site_pages(args.site)
        if args.pages:
            pages = [p for p in pages if any(part in p or (part == "/" and p == "") for part in args.pages.split(","))]
        report = audit(server.url, pages, axe=both or args.axe, phone=both or args.phone,
                       log=lambda line: print(line, file=sys.stderr, flush=True))
    finally:
        server.close()
    if args.json:
        args.json.write_text(json.dumps(report, ensure_ascii=False, indent=1), encoding="utf-8")
    print(summarize(report))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
