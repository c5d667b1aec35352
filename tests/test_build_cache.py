"""The lesson cache, with real kernels: prose edits execute nothing, a bnref edit executes exactly the
lessons that import the file, the site's address is in no key. Small lessons in a copy of the
repository (site_build.small_course), except for the last test, which reuses the session's course.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from site_build import ROOT, Build, small_course, write_lesson

sys.path.insert(0, str(ROOT / "hooks"))

import lesson_exec  # noqa: E402
import lesson_markdown  # noqa: E402

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]

# Each imports a different part of bnref (03: sync, modules, functional, _checks); 01 none of it.
IMPORTERS = {
    "01_plain": "print('bnref 없이')",
    "02_printing": "from bnref.course.printing import fmt\nprint(fmt(0.5))",
    "03_sync": "import bnref\nprint(bnref.SyncBatchNorm.__name__)",
}


def test_a_prose_edit_executes_nothing_and_the_page_shows_it(tmp_path):
    repo = small_course(tmp_path / "repo", {"01_a": "print('출력 1')", "02_b": "print('출력 2')"})
    assert Build(repo, repo / "site", strict=False).counts() == (2, 0)
    lesson = repo / "lessons" / "01_a.py"
    text = lesson.read_text(encoding="utf-8")
    lesson.write_text(
        text.replace("# 글입니다.", "# 고친 글입니다.\n\n# %% [markdown]\n# 새로 넣은 글입니다."), encoding="utf-8"
    )
    again = Build(repo, repo / "site", strict=False)
    assert again.ok and again.counts() == (0, 2), again.log
    page = (repo / "site" / "lessons" / "01_a" / "index.html").read_text(encoding="utf-8")
    assert "고친 글입니다." in page and "새로 넣은 글입니다." in page and "출력 1" in page
    download = nbformat.read(repo / "site" / "lessons" / "01_a.ipynb", as_version=4)
    assert [c.source for c in download.cells if c.cell_type == "markdown"][1] == "새로 넣은 글입니다."


def _importers_of(repo: Path) -> dict[str, set[str]]:
    """{bnref file: lessons that import it}, asked of plain Python processes (not the build's recorder)."""
    listing = (
        "\nimport sys, json\n"
        f"root = {str(repo)!r}\n"
        "print(json.dumps(sorted(m.__file__[len(root) + 1:] for m in list(sys.modules.values())"
        " if (getattr(m, '__file__', None) or '').startswith(root + '/bnref/'))))"
    )
    env = {**os.environ, "PYTHONPATH": str(repo)}
    procs = {
        name: subprocess.Popen([sys.executable, "-c", code + listing], cwd=repo / "lessons", env=env, stdout=subprocess.PIPE, text=True)
        for name, code in IMPORTERS.items()
    }
    found: dict[str, set[str]] = {}
    for name, proc in procs.items():
        out, _ = proc.communicate(timeout=300)
        for path in json.loads(out.splitlines()[-1]):
            found.setdefault(path, set()).add(name)
    return found


def _pages(results) -> dict[str, str]:
    return {r.name: lesson_markdown.notebook_to_markdown(r.notebook, r.name)[0] for r in results}


def test_each_bnref_file_edited_re_executes_exactly_the_lessons_that_import_it(tmp_path):
    repo = small_course(tmp_path / "repo", IMPORTERS)
    importers = _importers_of(repo)
    assert importers["bnref/sync.py"] == {"03_sync"} and "01_plain" not in set().union(*importers.values())
    lessons = sorted((repo / "lessons").glob("*.py"))
    log: list[str] = []

    def build():
        log.clear()
        results = lesson_exec.execute_all(lessons, repo / "bnref", "pass", repo / ".cache" / "lessons", log=log.append)
        return {r.name for r in results if not r.cache_hit}, _pages(results)

    executed, before = build()
    assert executed == set(IMPORTERS)
    for path in sorted(p.relative_to(repo).as_posix() for p in (repo / "bnref").rglob("*.py")):
        source = (repo / path).read_text(encoding="utf-8")
        (repo / path).write_text(source + f"\nprint('EDITED {path}')\n", encoding="utf-8")
        try:
            executed, pages = build()
        finally:
            (repo / path).write_text(source, encoding="utf-8")
        expected = importers.get(path, set())
        assert executed == expected, (path, log)
        changed = {name for name in pages if pages[name] != before[name]}
        assert changed == expected, path
        assert all(f"EDITED {path}" in pages[name] for name in expected), path


def test_another_site_address_executes_nothing_with_the_sessions_cache(course_copy, course_build, tmp_path):
    """A sub-path build (or `mkdocs serve` on another port) reuses the cache of a build at the default address."""
    repo = course_copy()
    build = Build(repo, tmp_path / "site", env={"SITE_URL": "http://127.0.0.1:8765/sub/"})
    assert build.ok, build.log
    lessons = len(list((ROOT / "lessons").glob("[0-9][0-9]_*.py")))
    assert build.counts() == (0, lessons)
    notebook = next((tmp_path / "site" / "lessons").glob("*.ipynb"))
    assert "http://127.0.0.1:8765/sub/bnref/" in notebook.read_text(encoding="utf-8")


def test_a_lesson_that_stopped_importing_a_file_no_longer_depends_on_it(tmp_path):
    repo = small_course(tmp_path / "repo", {"01_a": "import bnref.course"})  # bnref/course/__init__.py
    lessons = [repo / "lessons" / "01_a.py"]

    def run():
        return lesson_exec.execute_all(lessons, repo / "bnref", "pass", repo / ".cache" / "lessons", log=lambda _: None)[0]

    assert run().imports == ["bnref/__init__.py", "bnref/course/__init__.py"]
    write_lesson(repo, "01_a", "import bnref")
    assert run().imports == ["bnref/__init__.py"]
    with open(repo / "bnref" / "course" / "__init__.py", "a", encoding="utf-8") as f:
        f.write("\n# edited\n")
    assert run().cache_hit
