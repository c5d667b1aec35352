/* Readers who use a keyboard, a screen reader or a narrow screen (issue #13). Runs on every page
   Material shows, also after its instant navigation (document$ emits once per page).

   1. Regions that scroll sideways on this screen (a wide formula, table, code block or output) are
      marked `bnref-scrolls`; extra.css fades their right edge until they are scrolled to the end
      (`bnref-scrolls--end`), the cue that there is more. Formulas and tables also join the tab
      order with a name, so that a keyboard can scroll them (axe: scrollable-region-focusable);
      Material does that for code blocks itself. Whether a region scrolls depends on the screen, so
      this is measured here, again whenever a region changes size.
    2. A table a lesson printed (an output) that is wider than the screen becomes a stack of cards,
      one per row, each value under its column's name (`bnref-cards`, extra.css): a printed number
      must never be hidden past the right edge. The table keeps its roles for screen readers.
   3. Material puts each code block's copy button in a <nav> without a name: a page of 40 code
      blocks had 40 navigation landmarks that a screen reader cannot tell apart (axe:
      landmark-unique). A copy button is no navigation: its <nav> becomes a <div>. */
(function () {
  "use strict";

  var REGIONS = [
    [".md-typeset div.arithmatex", "수식"],
    [".md-typeset .md-typeset__scrollwrap", "표"],
    [".md-typeset .highlight pre > code", null],
  ];

  function cards(wrap) {
    var table = wrap.querySelector("table");
    if (!table) return;
    table.classList.remove("bnref-cards");
    if (wrap.scrollWidth <= wrap.clientWidth + 1) return;
    var names = Array.prototype.map.call(table.querySelectorAll("thead th, thead td"), function (th) {
      return th.textContent.trim();
    });
    var roles = [["", "table"], ["thead, tbody", "rowgroup"], ["tr", "row"], ["th", "columnheader"], ["td", "cell"]];
    roles.forEach(function (pair) {
      var els = pair[0] ? table.querySelectorAll(pair[0]) : [table];
      Array.prototype.forEach.call(els, function (el) { el.setAttribute("role", pair[1]); });
    });
    table.querySelectorAll("tbody tr").forEach(function (tr) {
      Array.prototype.forEach.call(tr.children, function (td, i) { td.setAttribute("data-label", names[i] || ""); });
    });
    table.classList.add("bnref-cards");
  }

  function update(el, label) {
    if (el.matches(".nb-output .md-typeset__scrollwrap")) cards(el);
    var scrolls = el.scrollWidth > el.clientWidth + 1;
    el.classList.toggle("bnref-scrolls", scrolls);
    el.classList.toggle("bnref-scrolls--end", scrolls && el.scrollLeft + el.clientWidth >= el.scrollWidth - 1);
    if (label === null) return; // code blocks: Material sets their tabindex
    if (scrolls) {
      el.setAttribute("tabindex", "0");
      el.setAttribute("role", "group");
      el.setAttribute("aria-label", label + " (옆으로 스크롤)");
    } else if (el.hasAttribute("data-bnref-focusable")) {
      el.removeAttribute("tabindex");
      el.removeAttribute("role");
      el.removeAttribute("aria-label");
    }
    if (scrolls) el.setAttribute("data-bnref-focusable", "");
  }

  var observer = "ResizeObserver" in window ? new ResizeObserver(function (entries) {
    entries.forEach(function (entry) { update(entry.target, entry.target.__bnrefLabel); });
  }) : null;

  function watch(root) {
    REGIONS.forEach(function (region) {
      root.querySelectorAll(region[0]).forEach(function (el) {
        if (el.__bnrefLabel !== undefined) return;
        el.__bnrefLabel = region[1];
        update(el, region[1]);
        el.addEventListener("scroll", function () { update(el, region[1]); }, {passive: true});
        if (observer) observer.observe(el);
      });
    });
  }

  function unwrapCodeNavs(root) {
    root.querySelectorAll("nav.md-code__nav").forEach(function (nav) {
      var div = document.createElement("div");
      div.className = nav.className;
      while (nav.firstChild) div.appendChild(nav.firstChild);
      nav.replaceWith(div);
    });
  }

  function mount() {
    unwrapCodeNavs(document);
    watch(document);
  }

  // Material adds the copy buttons (and Material's tables get their scroll wrapper) as it mounts
  // each page; whatever it adds later is caught too, at most once per 50 ms (the print page adds
  // thousands of nodes).
  var pending = null;
  new MutationObserver(function (records) {
    if (pending !== null || !records.some(function (r) { return r.addedNodes.length > 0; })) return;
    pending = setTimeout(function () { pending = null; mount(); }, 50);
  }).observe(document.body, {childList: true, subtree: true});
  if (typeof document$ !== "undefined") document$.subscribe(mount);
  mount();
})();
