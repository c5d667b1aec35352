"""The cache of executed lessons: what a lesson's outputs depend on, and nothing else.

A lesson's outputs depend on
- its code: the code cells' sources (comments included) and tags, in order. Not its Markdown cells:
  a prose edit re-uses the executed outputs, and the page shows the new prose (`merge`);
- the bnref files its processes executed: the kernel and every process it started record them
  (kernel_site/sitecustomize.py), so a lesson that never imports bnref/sync.py does not depend on it;
- the setup cell without its site address (serve's port, a sub-path or the hosted site change
  only the address of the wheel, which the build never installs: bnref is importable there);
- the executor (its source files) and the versions of the packages that run or draw the lessons.

An entry is `<lesson>-<code key>-<files key>.ipynb`: the code key covers everything but the bnref
files, which are only known once the lesson has run; the entry records their paths
(metadata.bnref_build.imports), and the files key is the digest of their contents. A lookup takes
the entries of the lesson's code key and uses one whose recorded files still have its digest.

Entries are written under a unique temporary name and renamed into place (atomic): two builds at
once, or a build stopped half-way, never leave a half-written entry or a stray temporary file.
"""

from __future__ import annotations

import copy
import functools
import hashlib
import json
import os
import sys
import tempfile
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import jupytext
import nbformat
from nbformat.v4.rwbase import rejoin_lines

HERE = Path(__file__).resolve().parent
# The executor's sources: a change to any of them may change what a kernel prints.
EXECUTOR = (
    HERE / "lesson_cache.py",
    HERE / "lesson_exec.py",
    HERE / "lesson_kernel.py",
    HERE / "kernel_startup.py",
    HERE / "kernel_site" / "sitecustomize.py",
)
# What the outputs depend on besides the lesson and bnref. Their versions go into the cache key.
PACKAGES = (
    "torch",
    "numpy",
    "matplotlib",
    "matplotlib-inline",
    "koreanize-matplotlib",
    "scikit-learn",
    "ipykernel",
    "ipython",
    "nbclient",
    "nbformat",
    "jupytext",
)
SETUP_TAG = "bnref-setup"
KEEP_PER_LESSON = 3  # entries per lesson: switching a change on and off stays fast


def _sha(text: str | bytes) -> str:
    return hashlib.sha256(text.encode() if isinstance(text, str) else text).hexdigest()


@functools.cache  # once per build: mkdocs serve loads this file anew at each rebuild
def package_versions() -> str:
    lines = []
    for name in PACKAGES:
        try:
            lines.append(f"{name}=={version(name)}")
        except PackageNotFoundError:
            lines.append(f"{name} absent")
    lines.append(f"python {sys.version}")
    return "\n".join(lines)


def read_lesson(lesson: Path, setup_source: str) -> nbformat.NotebookNode:
    """The lesson as a notebook, with the setup cell in front of its first code cell."""
    return lesson_notebook(lesson.read_text(encoding="utf-8"), setup_source)


def lesson_notebook(text: str, setup_source: str) -> nbformat.NotebookNode:
    """A lesson's text (jupytext percent format) as a notebook, with the setup cell in front of its
    first code cell."""
    nb = jupytext.reads(text, fmt="py:percent")
    setup = nbformat.v4.new_code_cell(setup_source)
    setup.metadata["tags"] = [SETUP_TAG]
    first_code = next((i for i, c in enumerate(nb.cells) if c.cell_type == "code"), len(nb.cells))
    nb.cells.insert(first_code, setup)
    # Cell ids make the notebook valid nbformat 4.5; deterministic ones keep the .ipynb reproducible.
    for i, cell in enumerate(nb.cells):
        cell["id"] = f"cell-{i}"
        cell.metadata.pop("lines_to_next_cell", None)  # jupytext's record of blank lines
    nb.metadata = nbformat.NotebookNode(
        kernelspec={"name": "python3", "display_name": "Python 3", "language": "python"}
    )
    return nb


def _is_setup(cell) -> bool:
    return SETUP_TAG in cell.metadata.get("tags", [])


def _code(nb) -> list:
    """The lesson's own code cells (the setup cell is keyed separately, without its address)."""
    return [c for c in nb.cells if c.cell_type == "code" and not _is_setup(c)]


def environment_digest(setup_key_source: str) -> str:
    """The part of every lesson's key that is shared: the setup cell, the executor, the versions."""
    parts = [setup_key_source, *(path.read_text(encoding="utf-8") for path in EXECUTOR), package_versions()]
    return _sha("\0".join(parts))


def code_key(nb, environment: str) -> str:
    """Digest of the lesson's code cells (source and tags, in order) and the shared environment."""
    cells = [[c.source, c.metadata.get("tags", [])] for c in _code(nb)]
    return _sha(json.dumps(cells, ensure_ascii=False) + "\0" + environment)[:24]


def file_digests(root: Path, package_dir: Path) -> dict[str, str]:
    """{path relative to root: sha256} of every file of the package, read once per build."""
    return {
        p.relative_to(root).as_posix(): _sha(p.read_bytes())
        for p in sorted(package_dir.rglob("*"))
        if p.is_file() and "__pycache__" not in p.parts
    }


def files_key(imports: list[str], digests: dict[str, str]) -> str:
    """Digest of the recorded files' contents; a file that is gone counts as a change."""
    return _sha("".join(f"{path}\0{digests.get(path, 'missing')}\0" for path in sorted(imports)))[:16]


def unchanged(root: Path, imports: list[str], digests: dict[str, str]) -> bool:
    """Whether the recorded files still have the digests read at the start of the build."""
    for path in imports:
        try:
            if _sha((root / path).read_bytes()) != digests.get(path):
                return False
        except OSError:
            return False
    return True


def find(cache_dir: Path, name: str, key: str, digests: dict[str, str]):
    """The cached executed notebook of lesson `name` for `key` whose bnref files are unchanged, or None."""
    for path in cache_dir.glob(f"{name}-{key}-*.ipynb"):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            imports = data["metadata"]["bnref_build"]["imports"]
        except (OSError, ValueError, KeyError, TypeError):
            continue  # removed by another build meanwhile, or not an entry
        if path.stem == f"{name}-{key}-{files_key(imports, digests)}":
            _touch(path)
            return rejoin_lines(nbformat.from_dict(data))  # as nbformat.reads does, without validating
    return None


def _touch(path: Path) -> None:
    try:
        os.utime(path)  # most recently used: kept the longest
    except OSError:
        pass


def store(cache_dir: Path, name: str, key: str, nb, digests: dict[str, str]) -> Path:
    """Write an executed notebook (its metadata.bnref_build.imports set) as the entry for `key`."""
    path = cache_dir / f"{name}-{key}-{files_key(nb.metadata.bnref_build.imports, digests)}.ipynb"
    write_atomic(path, nbformat.writes(nb))
    entries = sorted(cache_dir.glob(f"{name}-*.ipynb"), key=_mtime)
    for old in entries[:-KEEP_PER_LESSON]:
        old.unlink(missing_ok=True)  # another build may have removed it first
    return path


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0


def write_atomic(path: Path, text: str) -> None:
    """Write under a unique temporary name next to `path`, then rename: readers see all or nothing."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def merge(current, executed):
    """The current notebook (its prose, its setup cell's address) with the executed code cells' outputs.

    The code cells correspond one to one, in order: their sources are part of the key, so a cell
    added, removed or split is a different key, and never reaches here.
    """
    merged = copy.deepcopy(current)
    now, then = _code(merged), _code(executed)
    if [c.source for c in now] != [c.source for c in then]:
        raise ValueError("the executed notebook's code cells are not the lesson's")
    setup_now = [c for c in merged.cells if _is_setup(c)]
    setup_then = [c for c in executed.cells if _is_setup(c)]
    for new, old in zip([*setup_now, *now], [*setup_then, *then]):
        new.outputs = copy.deepcopy(old.outputs)
        new.execution_count = old.execution_count
    return merged
