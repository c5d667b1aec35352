"""The course as it is published: a project site under a sub-path, like GitHub Pages
(`https://<owner>.github.io/<repo>/`), and a downloaded notebook run where bnref is not installed.

One deploy build (DEPLOY=1, GITHUB_REPOSITORY set, SITE_URL = http://127.0.0.1:<port>/bn-course/)
is served at exactly that address, from a folder whose only content is bn-course/. It reuses the
session build's lesson cache (conftest.py: course_build), so that it need not execute the lessons
again once the cache key no longer holds the site's address (issue #12); until then it re-executes
them, and says so in its log.

The notebook test runs a downloaded lesson in a fresh virtual environment, as Colab has one: torch,
matplotlib, scikit-learn, ipykernel and nbclient installed (pinned as in requirements.txt, so that pip
never resolves an unpinned torch, which would pull a multi-GB CUDA build), bnref not. Its setup cell
installs bnref from the served wheel.
"""

from __future__ import annotations

import io
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urldefrag, urlparse
from urllib.request import urlopen

import nbformat
import pytest
from site_audit import CHROMIUM, new_context, open_browser
from site_build import ROOT, copy_repo
from test_links import Crawl

pytestmark = [pytest.mark.slow, pytest.mark.timeout(1800)]

NAME = "bn-course"  # the repository's name: the site's sub-path
REPO = f"owner/{NAME}"
NOTEBOOK = "04_distribution"  # a lesson with Korean figures, printed tables and bnref
COLAB_PACKAGES = ["torch", "matplotlib", "scikit-learn", "ipykernel", "nbclient"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _build(repo: Path, site: Path, env: dict[str, str]) -> tuple[subprocess.CompletedProcess, str]:
    """`mkdocs build --strict` of `repo` with `env` added to the environment: (process, log)."""
    proc = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-f", str(repo / "mkdocs.yml"), "-d", str(site)],
        capture_output=True, text=True, timeout=1500, env={**os.environ, "NO_MKDOCS_2_WARNING": "1", **env},
    )
    return proc, proc.stdout + proc.stderr


def _colab_like_venv(where: Path) -> Path:
    """A fresh venv with what Colab has preinstalled, at requirements.txt's versions; no bnref."""
    constraints = where / "constraints.txt"
    pins = [line for line in (ROOT / "requirements.txt").read_text().splitlines() if re.match(r"^[A-Za-z0-9]", line)]
    constraints.write_text("\n".join(pins) + "\n")
    versions = {line.split("==")[0].lower(): line for line in pins}
    venv = where / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    python = venv / "bin" / "python"
    subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "-c", str(constraints),
         *[versions[p] for p in COLAB_PACKAGES]],
        check=True, timeout=1200, capture_output=True,
    )
    return python


def _lesson_cache(request) -> Path:
    """The session build's lesson cache; with COURSE_SITE (a site built beforehand, conftest.py) the
    repository's own .cache, where that build left it."""
    if os.environ.get("COURSE_SITE"):
        return ROOT / ".cache" / "lessons"
    return request.getfixturevalue("course_build").repo / ".cache" / "lessons"


@pytest.fixture(scope="module")
def published(request, tmp_path_factory):
    """(base URL, site folder, build log) of the sub-path deploy build, served at its SITE_URL; and,
    made at the same time, the Colab-like venv's python (a Future)."""
    work = tmp_path_factory.mktemp("published")
    with ThreadPoolExecutor(1) as pool:
        venv = pool.submit(_colab_like_venv, work)
        repo = copy_repo(work / "repo")
        cache = _lesson_cache(request)
        if cache.is_dir():
            shutil.copytree(cache, repo / ".cache" / "lessons")
        port = _free_port()
        base = f"http://127.0.0.1:{port}/{NAME}/"
        site = work / "root" / NAME
        started = time.perf_counter()
        proc, log = _build(repo, site, {"SITE_URL": base, "GITHUB_REPOSITORY": REPO, "DEPLOY": "1"})
        assert proc.returncode == 0, log
        counts = re.search(r"lessons: \d+ executed, \d+ from cache", log)
        print(f"sub-path build in {time.perf_counter() - started:.0f} s, {counts[0] if counts else log[-500:]}")
        server = subprocess.Popen(
            [sys.executable, "-m", "http.server", "--bind", "127.0.0.1", str(port), "--directory", str(work / "root")],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        try:
            for _ in range(100):
                try:
                    urlopen(base, timeout=5).close()
                    break
                except OSError:
                    if server.poll() is not None:
                        pytest.fail("http.server did not start")
                    time.sleep(0.1)
            yield {"base": base, "site": site, "log": log, "python": venv}
        finally:
            server.terminate()
            server.wait(timeout=10)


@pytest.fixture(scope="module")
def crawl(published) -> Crawl:
    return Crawl(published["base"])


def test_the_crawl_reaches_every_page_under_the_sub_path(crawl, published):
    on_disk = {p.parent.relative_to(published["site"]).as_posix() for p in published["site"].rglob("index.html")}
    reached = {urlparse(u).path.removeprefix(f"/{NAME}/").strip("/") or "." for u in crawl.pages}
    assert on_disk - reached == set()


def test_every_link_and_resource_answers_under_the_sub_path(crawl):
    broken = [
        f"{page} -> {url} ({crawl.status.get(urldefrag(url).url)})"
        for page, _, url in crawl.references
        if crawl.status.get(urldefrag(url).url) != 200
    ]
    assert broken == []
    # Nothing points above the sub-path (a root-relative /assets/... would, on GitHub Pages).
    assert not [url for _, _, url in crawl.references if not url.startswith(crawl.base)]


def test_the_404_page_links_into_the_sub_path(published):
    """GitHub Pages serves 404.html for any missing address, so its links are absolute: they must
    carry the sub-path."""
    html = (published["site"] / "404.html").read_text(encoding="utf-8")
    refs = re.findall(r'(?:href|src)="(/[^"]*)"', html)
    assert refs and all(ref.startswith(f"/{NAME}/") for ref in refs), refs[:5]
    for ref in refs:
        with urlopen(f"http://{urlparse(published['base']).netloc}{ref}", timeout=30) as r:
            assert r.status == 200, ref


def test_every_lesson_links_to_colab_on_the_sites_branch(published):
    for page in sorted((published["site"] / "lessons").glob("*/index.html")):
        name = page.parent.name
        html = page.read_text(encoding="utf-8")
        assert f'href="https://colab.research.google.com/github/{REPO}/blob/gh-pages/lessons/{name}.ipynb"' in html, name
        assert "OWNER/REPO" not in html


def test_the_setup_cell_installs_the_served_wheel(published):
    nb = nbformat.read(published["site"] / "lessons" / f"{NOTEBOOK}.ipynb", as_version=4)
    setup = next(c for c in nb.cells if "bnref-setup" in c.metadata.get("tags", []))
    (url,) = re.findall(r"bnref\[lessons\] @ (\S+?)'", setup.source)
    assert url.startswith(published["base"] + "bnref/bnref-") and url.endswith(".whl")
    with urlopen(url, timeout=60) as response:
        wheel = response.read()
    names = zipfile.ZipFile(io.BytesIO(wheel)).namelist()
    assert "bnref/functional.py" in names and "bnref/course/viz.py" in names


def test_search_finds_a_lesson_and_links_under_the_sub_path(published):
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: `make system-deps`")
    with sync_playwright() as playwright:
        browser = open_browser(playwright)
        context = new_context(browser)
        errors: list[str] = []
        page = context.new_page()
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.on("response", lambda r: r.status >= 400 and errors.append(f"{r.status} {r.url}"))
        page.goto(published["base"], wait_until="load")
        box = page.locator("input.md-search__input")
        hrefs: list[str] = []
        for _ in range(40):  # the search worker may still be loading its index
            box.fill("미니배치")
            box.dispatch_event("keyup")
            page.wait_for_timeout(250)
            hrefs = page.eval_on_selector_all(".md-search-result__item > a", "els => els.map(a => a.href)")
            if hrefs:
                break
        browser.close()
    assert hrefs and all(h.startswith(published["base"]) for h in hrefs), hrefs[:3]
    assert any("/lessons/" in h for h in hrefs)
    assert errors == []


def test_a_downloaded_notebook_runs_where_bnref_is_not_installed(published, tmp_path):
    python = published["python"].result()
    # (cwd: a folder without a bnref/ in it, as in Colab)
    check = subprocess.run([str(python), "-c", "import importlib.util as u; print(u.find_spec('bnref'))"],
                           capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert check.stdout.strip() == "None", "the fresh venv must not have bnref"
    with urlopen(f"{published['base']}lessons/{NOTEBOOK}.ipynb", timeout=60) as response:
        (tmp_path / f"{NOTEBOOK}.ipynb").write_bytes(response.read())
    runner = (
        "import sys, nbformat\n"
        "from nbclient import NotebookClient\n"
        "nb = nbformat.read(sys.argv[1], as_version=4)\n"
        "NotebookClient(nb, timeout=900, kernel_name='python3', allow_errors=False).execute()\n"
        "nbformat.write(nb, sys.argv[2])\n"
    )
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV", "MPLBACKEND")}
    env["PATH"] = f"{python.parent}{os.pathsep}{env.get('PATH', '')}"
    proc = subprocess.run(
        [str(python), "-c", runner, f"{NOTEBOOK}.ipynb", "ran.ipynb"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=1500,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    nb = nbformat.read(tmp_path / "ran.ipynb", as_version=4)
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "stream" and o.name == "stderr"], "warnings in the notebook"
    assert any("image/png" in o.get("data", {}) for o in outputs), "no figure"
    where = subprocess.run([str(python), "-c", "import bnref; print(bnref.__file__)"],
                           capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert where.stdout.startswith(str(python.parent.parent)), where.stdout  # installed into the venv
