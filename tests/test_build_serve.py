"""`mkdocs serve` as a teacher uses it: a broken lesson shows its error on its page and in the
terminal at every rebuild, the other pages stay served, a prose edit executes nothing."""

from __future__ import annotations

import urllib.request

import pytest
from site_build import Running, free_port, small_course, write_lesson

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]

BROKEN = "x = 1\nshare = x / 0"  # lessons/02_broken.py:8 (the title cell takes lines 1-5, `# %%` is 6)
ERROR = "lessons/02_broken.py:8: ZeroDivisionError: division by zero"


def _get(url: str) -> str:
    with urllib.request.urlopen(url, timeout=120) as response:  # waits while a rebuild runs
        return response.read().decode("utf-8")


def _page(url: str) -> str:
    try:
        return _get(url)
    except OSError:
        return ""


def test_serve_shows_a_broken_lesson_on_its_page_and_keeps_serving(tmp_path):
    repo = small_course(tmp_path / "repo", {"01_ok": "print('잘 됩니다')", "02_broken": BROKEN})
    port = free_port()
    base = f"http://127.0.0.1:{port}/"
    serve = Running(repo, "serve", f"127.0.0.1:{port}")
    try:
        serve.wait_for(lambda: "잘 됩니다" in _page(base + "lessons/01_ok/"), what="the first page served")
        broken = _get(base + "lessons/02_broken/")
        assert 'class="admonition failure"' in broken and ERROR in broken
        assert "&gt;    8 | share = x / 0" in broken and "Traceback (most recent call last)" in broken
        assert serve.log.count(ERROR) == 1

        # Still broken after an edit: the terminal says so again (MkDocs drops repeated messages of its own).
        lesson = repo / "lessons" / "02_broken.py"
        lesson.write_text(lesson.read_text(encoding="utf-8").replace("# 글입니다.", "# 고친 글입니다."), encoding="utf-8")
        serve.wait_for(lambda: "고친 글입니다." in _page(base + "lessons/02_broken/"), what="the edited error page")
        assert serve.log.count(ERROR) == 2
        assert "잘 됩니다" in _get(base + "lessons/01_ok/")

        write_lesson(repo, "02_broken", "print('고쳤습니다')")
        serve.wait_for(lambda: "고쳤습니다" in _page(base + "lessons/02_broken/"), what="the fixed page")
        assert 'class="admonition failure"' not in _get(base + "lessons/02_broken/")

        # A prose edit: served at the next reload, nothing executed.
        executed_so_far = serve.log.count("executing lesson:")
        lesson = repo / "lessons" / "01_ok.py"
        lesson.write_text(lesson.read_text(encoding="utf-8").replace("# 글입니다.", "# 새 문장입니다."), encoding="utf-8")
        serve.wait_for(lambda: "새 문장입니다." in _page(base + "lessons/01_ok/"), what="the prose edit")
        assert serve.log.count("executing lesson:") == executed_so_far
    finally:
        serve.stop()
