"""Fast tests of the site hooks (hooks/*.py): each one behaviour, no kernel, no site build."""

from __future__ import annotations

import base64
import hashlib
import io
import os
import re
import sys
import zipfile
from pathlib import Path

import markdown
import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "hooks"))

import kernel_startup  # noqa: E402
import lesson_cache  # noqa: E402
import lesson_exec  # noqa: E402
import lesson_kernel  # noqa: E402
import lesson_markdown  # noqa: E402
import math_mathml  # noqa: E402
import setup_cell  # noqa: E402
import wheel_build  # noqa: E402


@pytest.fixture(scope="module")
def site_markdown():
    """A Markdown converter with exactly the extensions and options of mkdocs.yml."""
    from mkdocs.config import load_config

    config = load_config(str(ROOT / "mkdocs.yml"))
    return lambda text: markdown.Markdown(
        extensions=config.markdown_extensions, extension_configs=config.mdx_configs
    ).convert(text)


# ── Heading ids ───────────────────────────────────────────────────────────────────────────────────


def test_korean_headings_get_unique_nonempty_ids(site_markdown):
    html = site_markdown("# 왜 정규화하는가\n\n## 문제 상황\n\n## 문제 상황\n\n## 평균 μ와 분산 σ²\n")
    ids = re.findall(r'<h\d id="([^"]*)"', html)
    assert ids == ["왜-정규화하는가", "문제-상황", "문제-상황_1", "평균-μ와-분산-σ²"]


# ── Links between lessons ─────────────────────────────────────────────────────────────────────────


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("[다음](03_train_eval.py)", "[다음](03_train_eval.md)"),
        ("[절](03_train_eval.py#이동-평균)", "[절](03_train_eval.md#이동-평균)"),
        ("[앞](./01_why_normalize.py)", "[앞](./01_why_normalize.md)"),
        ("![그림](<02_implement.py>)", "![그림](<02_implement.md>)"),
        ("[ref]: 04_distribution.py", "[ref]: 04_distribution.md"),
        ("[용어집](../glossary.md#분산)", "[용어집](../glossary.md#분산)"),
        ("[torch](https://github.com/pytorch/pytorch/blob/main/x.py)", "[torch](https://github.com/pytorch/pytorch/blob/main/x.py)"),
        ("`print('a.py')` and x.py in prose", "`print('a.py')` and x.py in prose"),
    ],
)
def test_lesson_links_point_at_pages(source, expected):
    assert lesson_markdown.rewrite_links(source) == expected


# ── Math ──────────────────────────────────────────────────────────────────────────────────────────


def test_dollar_math_becomes_mathml_inline_and_display(site_markdown):
    html = math_mathml.render_math(
        site_markdown("평균 $\\mu_B = \\frac{1}{m}\\sum_i x_i$ 입니다.\n\n$$\n\\hat{x} = \\frac{x-\\mu}{\\sqrt{\\sigma^2+\\epsilon}}\n$$\n")
    )
    assert '<math alttext="\\mu_B = \\frac{1}{m}\\sum_i x_i" display="inline">' in html
    assert 'display="block"' in html
    assert "\\(" not in html and "\\[" not in html and "$" not in html


def test_math_in_code_is_left_alone(site_markdown):
    html = math_mathml.render_math(site_markdown("`$x$` and\n\n```python\ncost = '$5 and $6'\n```\n"))
    assert "<math" not in html
    assert "$x$" in html


def test_math_with_html_special_characters_is_unescaped_first(site_markdown):
    html = math_mathml.render_math(site_markdown("$a < b$"))
    assert "<mo>&#x0003C;</mo>" in html


@pytest.mark.parametrize(("tex", "message"), [("x^", r"x\^"), ("\\foo x", r"\\foo")])
def test_unreadable_tex_fails_with_the_tex_in_the_message(tex, message):
    with pytest.raises(math_mathml.MathError, match=message):
        math_mathml.render_math(f'<span class="arithmatex">\\({tex}\\)</span>')


def test_mathml_names_no_other_origin():
    assert "http" not in math_mathml.tex_to_mathml("x^2", display=True)


# ── Cache keys: code, not prose ───────────────────────────────────────────────────────────────────

LESSON = """\
# %% [markdown]
# # 제목
#
# 본문입니다.

# %%
import pkg
x = 1  # 주석

# %% [markdown]
# 둘째 글

# %%
print(x)
"""


def _key(text: str, setup_key: str = "setup") -> str:
    nb = lesson_cache.lesson_notebook(text, "the setup cell as shown")
    return lesson_cache.code_key(nb, lesson_cache.environment_digest(setup_key))


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("# 본문입니다.", "# 본문을 고쳤습니다."),
        ("# 둘째 글\n", "# 둘째 글\n\n# %% [markdown]\n# 새 Markdown 셀\n"),
        ("# %% [markdown]\n# 둘째 글\n\n", ""),
        ("# 본문입니다.\n\n", "# 본문입니다.\n\n\n\n"),
    ],
    ids=["word", "markdown-cell-added", "markdown-cell-removed", "blank-lines"],
)
def test_prose_edits_keep_the_key(old, new):
    assert old in LESSON
    assert _key(LESSON.replace(old, new)) == _key(LESSON)


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("x = 1  # 주석", "x = 2  # 주석"),
        ("x = 1  # 주석", "x = 1  # 고친 주석"),
        ("x = 1  # 주석\n", "# %%\nx = 1  # 주석\n"),
        ("x = 1  # 주석\n", "# %% [markdown]\n# 끼어든 글\n\n# %%\nx = 1  # 주석\n"),
        ("print(x)\n", "print(x)\n\n# %%\nprint(x + 1)\n"),
        ("# %%\nprint(x)", '# %% tags=["raises-exception"]\nprint(x)'),
    ],
    ids=["code", "comment", "cell-split", "markdown-splits-a-code-cell", "code-cell-added", "tag"],
)
def test_code_edits_change_the_key(old, new):
    assert old in LESSON
    assert _key(LESSON.replace(old, new)) != _key(LESSON)


def test_setup_cell_environment_and_versions_are_in_every_key():
    assert _key(LESSON, "setup") == _key(LESSON, "setup")
    assert _key(LESSON, "setup") != _key(LESSON, "other setup")
    assert "torch==" in lesson_cache.package_versions()
    assert {p.name for p in lesson_cache.EXECUTOR} >= {"lesson_exec.py", "lesson_kernel.py", "kernel_startup.py", "sitecustomize.py"}


def test_the_sites_address_is_not_in_the_key():
    import course  # the MkDocs hook

    wheel = "bnref-0.1.0-py3-none-any.whl"
    shown_8000, key_8000 = course.setup_sources("http://127.0.0.1:8000/", wheel)
    shown_sub, key_sub = course.setup_sources("https://me.github.io/bn/", wheel)
    assert "127.0.0.1:8000/bnref/" in shown_8000 and "me.github.io/bn/bnref/" in shown_sub
    assert key_8000 == key_sub


# ── Cache entries ─────────────────────────────────────────────────────────────────────────────────


@pytest.fixture
def repo(tmp_path):
    """A repository with a package of three files and a cache folder."""
    for name in ("__init__.py", "a.py", "b.py"):
        (tmp_path / "pkg" / name).parent.mkdir(exist_ok=True)
        (tmp_path / "pkg" / name).write_text(f"# {name}\n")
    (tmp_path / "cache").mkdir()
    return tmp_path


def _executed(text: str = LESSON, imports=("pkg/__init__.py", "pkg/a.py"), setup="the setup cell as shown"):
    """The lesson as if executed: each code cell prints its position; the imports recorded."""
    nb = lesson_cache.lesson_notebook(text, setup)
    for i, cell in enumerate(c for c in nb.cells if c.cell_type == "code"):
        cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text=f"out {i}\n")]
        cell.execution_count = i + 1
    nb.metadata["bnref_build"] = {"imports": list(imports)}
    return nb


def _digests(repo):
    return lesson_cache.file_digests(repo, repo / "pkg")


def test_an_entry_serves_while_the_files_its_lesson_imported_are_unchanged(repo):
    lesson_cache.store(repo / "cache", "01_a", "k", _executed(), _digests(repo))
    found = lesson_cache.find(repo / "cache", "01_a", "k", _digests(repo))
    assert lesson_cache.merge(lesson_cache.lesson_notebook(LESSON, "setup"), found).cells[2].outputs[0].text == "out 1\n"
    (repo / "pkg" / "b.py").write_text("# b, edited: no lesson imported it\n")
    assert lesson_cache.find(repo / "cache", "01_a", "k", _digests(repo)) is not None
    (repo / "pkg" / "a.py").write_text("# a, edited\n")
    assert lesson_cache.find(repo / "cache", "01_a", "k", _digests(repo)) is None
    assert lesson_cache.find(repo / "cache", "01_a", "other key", _digests(repo)) is None
    (repo / "pkg" / "a.py").write_text("# a.py\n")  # put back: the entry serves again
    assert lesson_cache.find(repo / "cache", "01_a", "k", _digests(repo)) is not None
    (repo / "pkg" / "a.py").unlink()
    assert lesson_cache.find(repo / "cache", "01_a", "k", _digests(repo)) is None


def test_entries_are_replaced_atomically_and_leave_no_temporary_file(repo, monkeypatch):
    digests = _digests(repo)
    first = lesson_cache.store(repo / "cache", "01_a", "k", _executed(), digests)
    second = lesson_cache.store(repo / "cache", "01_a", "k", _executed(), digests)  # a second build's
    assert first == second and [p.name for p in (repo / "cache").iterdir()] == [first.name]

    def fail(*args):
        raise KeyboardInterrupt  # Ctrl-C between writing and renaming

    monkeypatch.setattr(lesson_cache.os, "replace", fail)
    with pytest.raises(KeyboardInterrupt):
        lesson_cache.store(repo / "cache", "01_a", "k2", _executed(), digests)
    assert [p.name for p in (repo / "cache").iterdir()] == [first.name]


def test_two_builds_writing_one_entry_at_once_both_succeed(tmp_path, monkeypatch):
    path = tmp_path / "01_a-k-f.ipynb"
    replace = os.replace

    def another_build_in_between(src, dst):  # the other build writes the same entry before our rename
        monkeypatch.setattr(lesson_cache.os, "replace", replace)
        lesson_cache.write_atomic(path, "second")
        replace(src, dst)

    monkeypatch.setattr(lesson_cache.os, "replace", another_build_in_between)
    lesson_cache.write_atomic(path, "first")
    assert path.read_text() == "first" and list(tmp_path.iterdir()) == [path]


def test_the_cache_keeps_the_most_recently_used_entries_of_each_lesson(repo):
    digests = _digests(repo)
    paths = [lesson_cache.store(repo / "cache", "01_a", f"k{i}", _executed(), digests) for i in range(3)]
    for i, path in enumerate(paths):
        os.utime(path, (1_000_000 + i, 1_000_000 + i))
    lesson_cache.find(repo / "cache", "01_a", "k0", digests)  # used: now the most recent
    lesson_cache.store(repo / "cache", "01_a", "k3", _executed(), digests)
    kept = sorted(p.name.split("-")[1] for p in (repo / "cache").glob("01_a-*.ipynb"))
    assert kept == ["k0", "k2", "k3"]


def test_a_prose_edit_shows_the_new_prose_with_the_cached_outputs():
    executed = _executed(setup="setup at http://127.0.0.1:8000/")
    edited = LESSON.replace("# 본문입니다.", "# 본문을 고쳤습니다.").replace(
        "# 둘째 글\n", "# 둘째 글\n\n# %% [markdown]\n# 새 Markdown 셀\n"
    )
    current = lesson_cache.lesson_notebook(edited, "setup at http://127.0.0.1:8123/")
    merged = lesson_cache.merge(current, executed)
    assert [c.cell_type for c in merged.cells] == ["markdown", "code", "code", "markdown", "markdown", "code"]
    assert "본문을 고쳤습니다." in merged.cells[0].source and merged.cells[4].source == "새 Markdown 셀"
    assert merged.cells[1].source == "setup at http://127.0.0.1:8123/"  # this build's address
    assert [c.outputs[0].text for c in merged.cells if c.cell_type == "code"] == ["out 0\n", "out 1\n", "out 2\n"]
    assert "bnref_build" not in merged.metadata  # build records stay out of the download
    nbformat.validate(merged)


def test_merge_refuses_cells_that_are_not_the_executed_ones():
    current = lesson_cache.lesson_notebook(LESSON.replace("print(x)", "print(x + 1)"), "setup")
    with pytest.raises(ValueError):
        lesson_cache.merge(current, _executed())


# ── Which bnref files a lesson imported (hooks/kernel_site/sitecustomize.py, real processes) ──────


def _recording(repo: Path, log: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    paths = [str(lesson_kernel.KERNEL_SITE), str(repo)]
    return {**env, "PYTHONPATH": os.pathsep.join(paths), "BNREF_BUILD_PACKAGE": str(repo / "pkg"), "BNREF_BUILD_IMPORTS": str(log)}


def _records(log: Path) -> list[list[str]]:
    return [line.split("\t") for line in log.read_text().splitlines()]


def test_every_process_records_the_package_files_it_executes(repo, tmp_path):
    import subprocess

    (repo / "pkg" / "a.py").write_text("def work(_):\n    import pkg.sub.c\n")
    (repo / "pkg" / "sub").mkdir()
    (repo / "pkg" / "sub" / "__init__.py").write_text("")
    (repo / "pkg" / "sub" / "c.py").write_text("")
    script = tmp_path / "main.py"
    script.write_text(
        "import multiprocessing\nimport pkg.a\n"
        "if __name__ == '__main__':\n"
        "    worker = multiprocessing.get_context('spawn').Process(target=pkg.a.work, args=(0,))\n"
        "    worker.start()\n"
        "    worker.join()\n"
    )
    log = tmp_path / "imports.log"
    main = subprocess.Popen([sys.executable, str(script)], env=_recording(repo, log))
    assert main.wait(timeout=60) == 0
    by = {}
    for kind, pid, *path in _records(log):
        if kind == "file":
            by.setdefault(Path(path[0]).relative_to(repo).as_posix(), set()).add(int(pid))
    assert set(by) == {"pkg/__init__.py", "pkg/a.py", "pkg/sub/__init__.py", "pkg/sub/c.py"}  # not b.py
    assert main.pid in by["pkg/a.py"] and main.pid not in by["pkg/sub/c.py"]  # c.py: the worker's


def test_another_copy_of_the_package_is_recorded_and_fails_the_lesson(repo, tmp_path):
    import subprocess

    other = tmp_path / "elsewhere"
    (other / "pkg").mkdir(parents=True)
    (other / "pkg" / "__init__.py").write_text("")
    log = tmp_path / "imports.log"
    env = _recording(repo, log)
    env["PYTHONPATH"] = os.pathsep.join([str(lesson_kernel.KERNEL_SITE), str(other)])
    proc = subprocess.run([sys.executable, "-c", "import os, pkg; print(os.getpid())"], env=env, check=True,
                          capture_output=True, text=True, timeout=60)
    where = lesson_kernel.Where("lessons/01_a.py", [], {})
    with pytest.raises(lesson_kernel.LessonError, match=f"imported pkg from {other / 'pkg' / '__init__.py'}, not from"):
        lesson_kernel._recorded_imports(log, repo / "pkg", int(proc.stdout), where)
    with pytest.raises(lesson_kernel.LessonError, match="did not record"):  # not the kernel's log
        lesson_kernel._recorded_imports(log, repo / "pkg", 1, where)


# ── Error messages: the line in the lesson file ───────────────────────────────────────────────────


def test_code_lines_are_the_first_line_of_each_code_cell_in_the_file():
    text = "# ---\n# jupyter: {}\n# ---\n\n" + LESSON
    lines = lesson_kernel.code_lines(text)
    assert [text.splitlines()[n - 1] for n in lines] == ["import pkg", "print(x)"]


def test_cell_names_in_tracebacks_become_lines_of_the_lesson_file():
    # In[1] is the setup cell the build puts in front; In[2] and In[3] are the lesson's two code cells.
    where = lesson_kernel.Where("lessons/01_a.py", lesson_kernel.code_lines(LESSON), {1: None, 2: 0, 3: 1})
    text = "  Cell In[3], line 1\n    print(x)\n  Cell In[2], line 2 in f\n  Cell In[9], line 1\n"
    assert where.rename_cells(text) == "  lessons/01_a.py:14\n    print(x)\n  lessons/01_a.py:8 in f\n  Cell In[9], line 1\n"
    assert where.cell_listing(0, "import pkg\nx = 1  # 주석", 8) == "     7 | import pkg\n>    8 | x = 1  # 주석"
    assert "setup cell" in where.place(None)


# ── Setup cell and wheel ──────────────────────────────────────────────────────────────────────────


@pytest.mark.parametrize(
    "source, expected",
    [
        ("[앞 강의](01_why_normalize.py)", "[앞 강의](https://me.github.io/bn/lessons/01_why_normalize/)"),
        ("[x](03_train_eval.py#평가-모드)", "[x](https://me.github.io/bn/lessons/03_train_eval/#평가-모드)"),
        ("[용어집](../glossary.md)", "[용어집](https://me.github.io/bn/glossary/)"),
        ("[홈](../index.md)", "[홈](https://me.github.io/bn/)"),
        ("[ref]: 02_implement.py", "[ref]: https://me.github.io/bn/lessons/02_implement/"),
        ("[w](https://example.org/a.py)", "[w](https://example.org/a.py)"),
        ("`bn(x.py)` 그대로", "`bn(x.py)` 그대로"),
    ],
)
def test_downloaded_notebook_links_go_to_the_site(source, expected):
    assert lesson_markdown.site_links(source, "https://me.github.io/bn/") == expected


def test_notebook_for_download_rewrites_markdown_cells_only_and_leaves_the_original():
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell("[앞](01_a.py)"), nbformat.v4.new_code_cell("open('01_a.py')")])
    out = lesson_markdown.notebook_for_download(nb, "http://127.0.0.1:8000/")
    assert [c.source for c in out.cells] == ["[앞](http://127.0.0.1:8000/lessons/01_a/)", "open('01_a.py')"]
    assert nb.cells[0].source == "[앞](01_a.py)"


def test_parallel_kernels_share_the_cores_out(monkeypatch):
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    monkeypatch.setattr(lesson_exec.os, "cpu_count", lambda: 2)
    assert lesson_exec.kernel_environment(2)["OMP_NUM_THREADS"] == "1"
    assert lesson_exec.kernel_environment(1)["OMP_NUM_THREADS"] == "2"
    monkeypatch.setattr(lesson_exec.os, "cpu_count", lambda: 1)
    assert lesson_exec.kernel_environment(2)["OMP_NUM_THREADS"] == "1"


def test_a_thread_count_the_user_set_is_kept(monkeypatch):
    monkeypatch.setenv("OMP_NUM_THREADS", "3")
    assert lesson_exec.kernel_environment(2)["OMP_NUM_THREADS"] == "3"


def test_wheel_url_is_under_the_site():
    url = setup_cell.wheel_url("https://example.org/course", "bnref-0.1.0-py3-none-any.whl")
    assert url == "https://example.org/course/bnref/bnref-0.1.0-py3-none-any.whl"


def test_setup_cell_installs_the_sites_wheel_only_where_bnref_is_missing():
    source = setup_cell.setup_source("https://example.org/bnref/bnref-0.1.0-py3-none-any.whl")
    compile(source, "setup", "exec")
    assert 'if importlib.util.find_spec("bnref") is None:' in source
    assert "'bnref[lessons] @ https://example.org/bnref/bnref-0.1.0-py3-none-any.whl'" in source
    assert len(re.findall(r"https?://", source)) == 1  # nothing from anywhere else


def test_setup_cell_does_nothing_where_bnref_is_installed(monkeypatch):
    import subprocess

    calls = []
    monkeypatch.setattr(subprocess, "run", lambda *a, **k: calls.append(a))
    exec(setup_cell.setup_source("https://example.org/w.whl"), {})
    assert calls == []


def test_setup_cell_comes_before_the_first_code_cell(tmp_path):
    lesson = tmp_path / "01_x.py"
    lesson.write_text("# %% [markdown]\n# # 제목\n\n# %%\nx = 1\n")
    nb = lesson_exec.read_lesson(lesson, "SETUP = 1")
    assert [c.cell_type for c in nb.cells] == ["markdown", "code", "code"]
    assert nb.cells[1].source == "SETUP = 1"
    assert nb.cells[2].source == "x = 1"
    nbformat.validate(nb)


def test_colab_url_opens_the_notebook_from_the_sites_branch():
    url = setup_cell.colab_url("me/course", "gh-pages", "lessons/02_implement.ipynb")
    assert url == "https://colab.research.google.com/github/me/course/blob/gh-pages/lessons/02_implement.ipynb"


@pytest.fixture(scope="module")
def wheel():
    return wheel_build.build_wheel(ROOT)


def test_wheel_is_named_for_the_project_version(wheel):
    import tomllib

    version = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    assert wheel[0] == f"bnref-{version}-py3-none-any.whl"


def test_wheel_holds_every_bnref_module_and_no_bytecode(wheel):
    names = zipfile.ZipFile(io.BytesIO(wheel[1])).namelist()
    sources = {p.relative_to(ROOT).as_posix() for p in (ROOT / "bnref").rglob("*.py") if "__pycache__" not in p.parts}
    assert sources <= set(names)
    assert not [n for n in names if n.endswith(".pyc")]


def test_wheel_metadata_declares_dependencies_and_the_lessons_extra(wheel):
    archive = zipfile.ZipFile(io.BytesIO(wheel[1]))
    metadata = archive.read("bnref-0.1.0.dist-info/METADATA").decode()
    assert "Requires-Dist: torch>=2.0\n" in metadata
    assert "Provides-Extra: lessons\n" in metadata
    assert 'Requires-Dist: koreanize-matplotlib==0.1.1; extra == "lessons"\n' in metadata


def test_wheel_record_hashes_match_the_files(wheel):
    archive = zipfile.ZipFile(io.BytesIO(wheel[1]))
    for line in archive.read("bnref-0.1.0.dist-info/RECORD").decode().splitlines():
        name, digest, size = line.split(",")
        if not digest:
            continue
        data = archive.read(name)
        expected = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        assert digest == f"sha256={expected}" and int(size) == len(data)


def test_wheel_is_reproducible():
    assert wheel_build.build_wheel(ROOT) == wheel_build.build_wheel(ROOT)


# ── Notebook to page ──────────────────────────────────────────────────────────────────────────────


def _png(width=3, height=2) -> bytes:
    import struct
    import zlib

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    raw = b"".join(b"\0" + b"\xff\xff\xff" * width for _ in range(height))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")


def _notebook(alt="정규화 전후의 분포"):
    nb = nbformat.v4.new_notebook()
    code = nbformat.v4.new_code_cell("print(1)")
    code.outputs = [
        nbformat.v4.new_output("stream", name="stdout", text="평균: 0.0000\n"),
        nbformat.v4.new_output(
            "display_data",
            data={"image/png": base64.b64encode(_png()).decode(), "text/plain": "<Figure>"},
            metadata={"image/png": {"alt": alt}},
        ),
    ]
    nb.cells = [nbformat.v4.new_markdown_cell("# 제목\n\n본문 [다음](02_b.py)"), code]
    return nb


def test_page_has_title_then_header_then_cells():
    page, _ = lesson_markdown.notebook_to_markdown(_notebook(), "01_a", header="HEADER")
    assert page.startswith("# 제목\n\nHEADER\n")
    assert "[다음](02_b.md)" in page
    assert "```python\nprint(1)\n```" in page
    assert "```` { .text .nb-output .no-copy }" not in page and "``` { .text .nb-output .no-copy }\n평균: 0.0000\n```" in page


def test_figures_become_files_with_alt_text_and_size():
    page, figures = lesson_markdown.notebook_to_markdown(_notebook(), "01_a")
    assert list(figures) == ["lessons/figures/01_a-1-1.png"]
    assert "![정규화 전후의 분포](figures/01_a-1-1.png){ width=3 height=2 loading=lazy }" in page


@pytest.mark.parametrize("alt", ["", "Distribution", "No description has been provided for this image"])
def test_figure_without_korean_alt_text_is_refused(alt):
    with pytest.raises(lesson_markdown.LessonPageError, match="Korean alt text"):
        lesson_markdown.notebook_to_markdown(_notebook(alt), "01_a")


def test_output_containing_backticks_cannot_close_its_fence():
    nb = nbformat.v4.new_notebook()
    code = nbformat.v4.new_code_cell("print('```')")
    code.outputs = [nbformat.v4.new_output("stream", name="stdout", text="```\n")]
    nb.cells = [code]
    page, _ = lesson_markdown.notebook_to_markdown(nb, "01_a")
    assert "````python\nprint('```')\n````" in page


# ── Figure alt text (runs in the kernels) ─────────────────────────────────────────────────────────


def test_figure_alt_is_suptitle_then_axes_titles():
    from matplotlib.figure import Figure

    fig = Figure()
    axes = fig.subplots(1, 2)
    fig.suptitle("정규화 전후의 분포")
    axes[0].set_title("정규화 전")
    axes[1].set_title("$\\gamma$ 적용 후")
    assert kernel_startup.figure_alt(fig) == "정규화 전후의 분포: 정규화 전; \\gamma 적용 후"


def test_figure_label_overrides_titles():
    from matplotlib.figure import Figure

    fig = Figure()
    fig.subplots().set_title("무시됨")
    fig.set_label("평균 0, 분산 1로 옮겨진 히스토그램")
    assert kernel_startup.figure_alt(fig) == "평균 0, 분산 1로 옮겨진 히스토그램"


# ── Markdown inside HTML blocks ───────────────────────────────────────────────────────────────────


def test_markdown_and_math_inside_details_are_rendered(site_markdown):
    source = "<details>\n<summary>풀이</summary>\n\n**굵게** $\\gamma$\n\n</details>\n"
    html = math_mathml.render_math(site_markdown(lesson_markdown.markdown_in_html(source)))
    assert "<strong>굵게</strong>" in html and "<math" in html and "$" not in html


def test_html_inside_code_fences_is_left_alone():
    source = "```html\n<div>\n<details>\n```\n"
    assert lesson_markdown.markdown_in_html(source) == source
