"""MkDocs hook: lesson pages link to the API reference (docs/api.md) where they use bnref.

On each lesson page (lessons/NN_*.md, made by hooks/course.py):
- inline code in the prose that names a bnref object (`bnref.functional.batch_norm`,
  `bnref.BatchNorm1d`, `bnref.course.viz.use_korean_font()`, `bnref.course.launch.spawn(fn, 4)`) becomes a link
  to that object's entry;
- a closing box lists every bnref object the lesson's code uses (found by reading its code cells
  with `ast`: `import bnref`, `from bnref.x import y`, `import bnref.x as z`, then attribute chains),
  each linked, with the first line of its docstring.

Links are autorefs cross-references (`[text][bnref.modules.BatchNorm1d]`), resolved by
mkdocs-autorefs to the entry mkdocstrings renders; a name that is not on the API page (a private
helper, a module the page leaves out) gets no link rather than a broken one. Names are resolved
with griffe, statically, from this checkout's bnref: `bnref.BatchNorm1d` is one of the names
`bnref/__init__.py` loads lazily (its `_LAZY` table), `bnref.modules.BatchNorm1d`, the entry's anchor.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import griffe
from api_docstrings import ReSTDocstrings

LESSON_PAGE = re.compile(r"lessons/\d\d_[^/]+\.md")
BOX_TITLE = "이 강의에서 쓰는 bnref API"
_FENCE = re.compile(r"^\s*(```|~~~)")
_INLINE = re.compile(r"(?<![\[`])`(?P<name>bnref(?:\.\w+)+)(?P<call>\([^`]*\))?`(?![\]`])")
_PYTHON_FENCE = re.compile(r"^```python\n(.*?)^```$", re.M | re.S)
_API_DIRECTIVE = re.compile(r"^::: (bnref(?:\.\w+)*)\s*$", re.M)

_api: ApiIndex | None = None


class ApiIndex:
    """bnref as the API page documents it: dotted name -> (anchor, summary)."""

    def __init__(self, root: Path):
        # The same Markdown docstrings as the API page (their first line is each entry's summary).
        extensions = griffe.load_extensions(ReSTDocstrings())
        self.package = griffe.load("bnref", search_paths=[str(root)], extensions=extensions)
        api_page = (root / "docs" / "api.md").read_text(encoding="utf-8")
        self.modules = set(_API_DIRECTIVE.findall(api_page))
        # bnref's top-level names are imported on first use (PEP 562): name -> module, read statically.
        lazy = self.package.members.get("_LAZY")
        self.lazy: dict[str, str] = ast.literal_eval(str(lazy.value)) if lazy is not None else {}

    def resolve(self, dotted: str) -> str | None:
        """The anchor of the documented object `dotted` names, or None."""
        head, _, rest = dotted.partition(".")
        if head != "bnref" or not rest:
            return None
        first, dot, tail = rest.partition(".")
        if first in self.lazy:
            rest = f"{self.lazy[first].partition('.')[2]}.{first}{dot}{tail}"
        try:
            obj = self.package[rest]
            obj = obj.final_target if obj.is_alias else obj
        except (KeyError, griffe.AliasResolutionError, griffe.CyclicAliasError):
            return None
        if any(part.startswith("_") for part in obj.path.split(".")):
            return None
        if not obj.is_module and not obj.docstring:  # mkdocstrings renders no entry for it
            return None
        module = obj.path if obj.is_module else obj.module.path
        return obj.path if module in self.modules else None

    def summary(self, anchor: str) -> str:
        docstring = self.package[anchor.partition(".")[2]].docstring
        # Its first paragraph (a summary may wrap onto a second line), as one line.
        return " ".join(docstring.value.strip().split("\n\n")[0].split()) if docstring else ""


def bnref_names(code: str, local: dict[str, str] | None = None) -> list[str]:
    """Dotted bnref names a cell uses, in order of first use: `import bnref` + `bnref.a.b`,
    `from bnref.x import y` (-> bnref.x.y), `import bnref.x as z` + `z.w` (-> bnref.x.w).

    `local` maps names to what they are in bnref; the cell's imports are added to it, so that
    the cells of one notebook, which share a namespace, share it too."""
    tree = ast.parse(code)
    local = {} if local is None else local
    found: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == "bnref":
                    local[alias.asname or "bnref"] = alias.name if alias.asname else "bnref"
                    found.append(alias.name)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and (node.module or "").split(".")[0] == "bnref":
            for alias in node.names:
                local[alias.asname or alias.name] = f"{node.module}.{alias.name}"
                found.append(f"{node.module}.{alias.name}")

    class Uses(ast.NodeVisitor):
        def visit_Attribute(self, node):
            chain = _chain(node)
            if chain is None:  # e.g. bnref.f(x).sum: the chain inside the call is visited
                self.generic_visit(node)
            elif chain[0] in local:  # the longest chain only: bnref.a.b, not also bnref.a
                found.append(".".join([local[chain[0]], *chain[1:]]))

        def visit_Name(self, node):
            if node.id in local:
                found.append(local[node.id])

    Uses().visit(tree)
    return list(dict.fromkeys(found))


def _chain(node: ast.AST) -> list[str] | None:
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    return [node.id, *reversed(parts)] if isinstance(node, ast.Name) else None


def used_api(markdown: str, api: ApiIndex) -> list[str]:
    """Anchors of the documented bnref objects the page's ```python cells use (longest known
    prefix of each name: `bnref.functional.batch_norm(...).sum` -> bnref.functional.batch_norm)."""
    anchors: list[str] = []
    local: dict[str, str] = {}
    for code in _PYTHON_FENCE.findall(markdown):
        try:
            names = bnref_names(code, local)
        except SyntaxError:  # IPython syntax (magics) in a cell: it names no bnref object we could link
            continue
        for name in names:
            parts = name.split(".")
            for end in range(len(parts), 1, -1):
                if anchor := api.resolve(".".join(parts[:end])):
                    anchors.append(anchor)
                    break
    return list(dict.fromkeys(anchors))


def link_inline_code(markdown: str, api: ApiIndex) -> str:
    """`bnref.x.y` in prose (outside code blocks) -> a link to its entry."""
    out, fence = [], None
    for line in markdown.split("\n"):
        if match := _FENCE.match(line):
            fence = None if fence == match[1] else (fence or match[1])
        elif fence is None:
            line = _INLINE.sub(lambda m: _link(m, api), line)
        out.append(line)
    return "\n".join(out)


def _link(match: re.Match, api: ApiIndex) -> str:
    anchor = api.resolve(match["name"])
    return f"[{match[0]}][{anchor}]" if anchor else match[0]


def api_box(anchors: list[str], api: ApiIndex) -> str:
    items = "\n".join(f"    - [`{a}`][{a}]: {api.summary(a)}" for a in anchors)
    return f'\n\n!!! info "{BOX_TITLE}"\n\n    [bnref API 참조](../api.md)에서 자세히 볼 수 있습니다.\n\n{items}\n'


def on_config(config):
    global _api
    _api = ApiIndex(Path(config.config_file_path).resolve().parent)


def on_page_markdown(markdown: str, page, config, files) -> str:
    if not LESSON_PAGE.fullmatch(page.file.src_uri):
        return markdown
    markdown = link_inline_code(markdown, _api)
    if anchors := used_api(markdown, _api):
        markdown = markdown.rstrip("\n") + api_box(anchors, _api)
    return markdown
