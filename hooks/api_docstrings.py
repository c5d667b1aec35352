"""Griffe extension for the API reference page (docs/api.md): bnref's docstrings as Markdown.

bnref mirrors torch, so its docstrings are written like torch's: reStructuredText roles and
directives inside Google-style sections. mkdocstrings renders docstrings as Markdown, where those
would show as raw text (":class:`BatchNorm1d`", ".. math::", a literal "\\frac"). Here each docstring
is rewritten once, when griffe has loaded the package:

- ``.. math::`` blocks become ``$$ ... $$`` and ``:math:`...``` becomes ``$...$``; the site turns both
  into MathML like every other page (hooks/math_mathml.py);
- ``:mod:``, ``:class:``, ``:func:``, ``:meth:``, ``:attr:`` become cross-references to the object's
  entry on the page when bnref documents it, and plain code otherwise (``torch.nn.BatchNorm1d``,
  private helpers);
- ````code```` becomes ```code```, ``Examples::`` the Google section ``Examples:``, torch's
  ``Shape:`` a bold title over its list;
- doctests in the description (outside an ``Examples:`` section) become ```pycon blocks.

A docstring holding a control character (``"\\frac"`` written in a non-raw string is a form feed
followed by "rac") fails the build: it would render as broken math.
"""

from __future__ import annotations

import re
import textwrap

import griffe

_MATH_BLOCK = re.compile(r"^(?P<indent>[ \t]*)\.\. math::[ \t]*\n(?P<body>(?:[ \t]*\n|(?P=indent)[ \t]+\S.*\n?)+)", re.M)
_MATH_ROLE = re.compile(r":math:`([^`]+)`")
_XREF_ROLE = re.compile(r":(?:py:)?(?:mod|class|func|meth|attr|data|exc|obj):`~?([^`]+)`")
_DOUBLE_BACKTICKS = re.compile(r"``([^`]+)``")
_LITERAL_SECTION = re.compile(r"^([ \t]*(?:Examples?|Returns?|Raises?)):(:)[ \t]*\n(?:[ \t]*\n)*", re.M)
_SHAPE_SECTION = re.compile(r"^(?P<indent>[ \t]*)Shape:[ \t]*\n(?P<body>(?:(?P=indent)[ \t]+\S.*\n?)+)", re.M)
# A doctest in the description (not indented under a section: griffe renders "Examples:" itself):
# from a `>>>` line up to the next blank line, as doctest reads it (output lines may start with spaces).
_DOCTEST = re.compile(r"^>>>.*\n?(?:.*\S.*\n?)*", re.M)
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f]")


def math_blocks(text: str) -> str:
    """``.. math::`` plus its indented body -> a ``$$`` block."""

    def block(match: re.Match) -> str:
        indent = match["indent"]
        body = textwrap.dedent(match["body"]).strip("\n")
        body = "\n".join(indent + line for line in body.splitlines())
        return f"{indent}$$\n{body}\n{indent}$$\n\n"

    return _MATH_BLOCK.sub(block, text)


def shape_section(match: re.Match) -> str:
    """torch's "Shape:" (not a Google section) as a bold title over its list, not one run-on line."""
    body = textwrap.indent(textwrap.dedent(match["body"]), match["indent"])
    return f"{match['indent']}**Shape:**\n\n{body}"


def doctest_fence(match: re.Match) -> str:
    """A doctest (prompts and expected output) as a ```pycon block, wherever it stands: as plain
    Markdown its output lines would be read as text, `['a', 'b']` as a link."""
    block = match[0] if match[0].endswith("\n") else match[0] + "\n"
    return f"```pycon\n{block}```\n"


def markdown_docstring(text: str, resolve) -> str:
    """A torch-style (reST in Google sections) docstring as Markdown; `resolve(name)` gives the
    documented object's path for a cross-reference, or None."""

    def xref(match: re.Match) -> str:
        name = match[1]
        target = resolve(name)
        if target is None:
            return f"`{name}`"
        return f"[`{name}`][{target}]"

    text = math_blocks(text)
    text = _MATH_ROLE.sub(r"$\1$", text)
    text = _XREF_ROLE.sub(xref, text)
    text = _DOUBLE_BACKTICKS.sub(r"`\1`", text)
    text = _LITERAL_SECTION.sub(r"\1:\n", text)
    text = _SHAPE_SECTION.sub(shape_section, text)
    return _DOCTEST.sub(doctest_fence, text)


def _documented(obj: griffe.Object | griffe.Alias) -> bool:
    """Public all the way down: what the API page renders (its filters hide `_private` names)."""
    return not any(part.startswith("_") for part in obj.path.split("."))


class ReSTDocstrings(griffe.Extension):
    """Rewrites every docstring of the loaded package (see the module docstring)."""

    def on_package(self, *, pkg: griffe.Module, **kwargs) -> None:
        for obj in _walk(pkg):
            if obj.docstring is None:
                continue
            if bad := _CONTROL.search(obj.docstring.value):
                raise ValueError(
                    f"{obj.path}: docstring holds control character {bad[0]!r}; "
                    "write it as a raw string (r\"\"\"...\"\"\") so that \\frac, \\beta stay TeX"
                )
            obj.docstring.value = markdown_docstring(obj.docstring.value, lambda name, o=obj: _resolve(pkg, o, name))


def _walk(obj: griffe.Object):
    yield obj
    for member in obj.members.values():
        if not member.is_alias:
            yield from _walk(member)


def _resolve(pkg: griffe.Module, obj: griffe.Object, name: str) -> str | None:
    """The canonical path of `name` as seen from `obj` (absolute, module-relative or
    package-relative), if bnref documents it."""
    module = obj if obj.is_module else obj.module
    scopes = [name, f"{module.path}.{name}", f"{pkg.path}.{name}"]
    if not obj.is_module and obj.parent is not None:
        scopes.insert(1, f"{obj.parent.path}.{name}")
    for path in scopes:
        head, _, rest = path.partition(".")
        if head != pkg.path:
            continue
        try:
            target = pkg[rest] if rest else pkg
        except (KeyError, griffe.AliasResolutionError):
            continue
        try:
            target = target.final_target if target.is_alias else target
        except griffe.AliasResolutionError:
            continue
        return target.path if _documented(target) else None
    return None
