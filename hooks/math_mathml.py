"""TeX to MathML at build time, so math renders offline with no script (browsers render MathML).

pymdownx.arithmatex (`generic: true`) marks math on every Markdown page, lessons included:
`<span class="arithmatex">\\(...\\)</span>` inline and `<div class="arithmatex">\\[...\\]</div>` for
display math, whether the author wrote `$...$`, `$$...$$`, `\\(...\\)` or `\\[...\\]`. Each span
becomes a <math> element made by latex2mathml. TeX that latex2mathml cannot read fails the build.
"""

from __future__ import annotations

import html
import re

from latex2mathml.converter import convert

_INLINE = re.compile(r'<span class="arithmatex">\\\((?P<tex>.*?)\\\)</span>', re.DOTALL)
_BLOCK = re.compile(r'<div class="arithmatex">\\\[(?P<tex>.*?)\\\]</div>', re.DOTALL)
# HTML5 knows <math> without a namespace; without it no URL of another origin appears in the page.
_COMMAND = re.compile(r"\\[A-Za-z]+")
_XMLNS = ' xmlns="http://www.w3.org/1998/Math/MathML"'


class MathError(ValueError):
    """TeX that cannot be turned into MathML."""


def tex_to_mathml(tex: str, display: bool) -> str:
    try:
        mathml = convert(tex.strip(), display="block" if display else "inline")
    except Exception as err:  # latex2mathml raises many types; the TeX is what the author needs
        raise MathError(f"cannot convert TeX to MathML: {tex!r} ({type(err).__name__}: {err})") from None
    # latex2mathml passes commands it does not know through as text (<mi>\foo</mi>): raw TeX on the page.
    unknown = _COMMAND.findall(mathml)
    if unknown:
        raise MathError(f"TeX command(s) {', '.join(unknown)} not supported by latex2mathml in {tex!r}")
    # Keep the TeX as the accessible name's fallback and for copy-paste.
    mathml = mathml.replace(_XMLNS, "").replace("<math ", f'<math alttext="{html.escape(tex.strip())}" ', 1)
    # One element per line: MathML ignores whitespace between elements, and tools that scan pages
    # line by line with backtracking regexes (print-site's anchor rewriting) stay linear.
    return mathml.replace("><", ">\n<")


def render_math(page_html: str) -> str:
    """Replace every arithmatex span of a rendered page with MathML."""

    def block(match):
        return f'<div class="arithmatex">{tex_to_mathml(html.unescape(match["tex"]), True)}</div>'

    def inline(match):
        return f'<span class="arithmatex">{tex_to_mathml(html.unescape(match["tex"]), False)}</span>'

    return _INLINE.sub(inline, _BLOCK.sub(block, page_html))
