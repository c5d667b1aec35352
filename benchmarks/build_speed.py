"""Build-speed and page-weight benchmark of the course site. Prints its figures; asserts nothing.

    python benchmarks/build_speed.py            # or: make bench-build
    python benchmarks/build_speed.py --source DIR   # the hooks, bnref, lessons and docs of another checkout

On a copy of the repository (so the cache starts empty and the checkout is not touched):
1. clean build: every lesson executed (target: at most 90 s on 2 cores);
2. rebuild with nothing changed: no lesson executed (target: at most 5 s; median of 5);
3. prose-only edit (a sentence in a Markdown cell of lesson 07): no lesson executed, at most the
   no-change rebuild + 1 s (median of 5, each right after a no-change rebuild);
4. one lesson's code changed: only that lesson executed;
5. a comment in a bnref file no lesson imports (bnref/course/bench.py): nothing executed;
6. a comment in bnref/sync.py: only the lessons that import it executed;
7. bnref/__init__.py changed: every lesson executed (they all import bnref), never stale output;
8. `mkdocs serve` on a port of its own: start-up with the warm cache, then a prose edit until the
   served page shows it (median of 3);
then the weight of each lesson page with its figures (target: at most 1.5 MB each).

Which lessons import bnref/sync.py is read from the cache entries (the build records it); with
`--source` pointing at a checkout whose cache does not record it, every lesson is "expected".
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from urllib.parse import urljoin, urlparse

ROOT = Path(__file__).resolve().parents[1]
TARGET_CLEAN_S = 90.0
TARGET_NOOP_S = 5.0
NOOP_REPEATS = 5
SERVE_REPEATS = 3
PROSE_LESSON = "07_digits_training"  # the example: one word of its prose cost ~36 s
UNIMPORTED = "bnref/course/bench.py"  # a command-line benchmark; no lesson imports it
TARGET_PAGE_BYTES = 1_500_000


def copy_repo(source: Path, dest: Path) -> Path:
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", ".ipynb_checkpoints")
    dest.mkdir(parents=True)
    for name in ("mkdocs.yml", "pyproject.toml"):
        shutil.copy2(source / name, dest / name)
    for name in ("hooks", "bnref", "lessons", "docs", "overrides"):
        shutil.copytree(source / name, dest / name, ignore=ignore)
    return dest


def build(repo: Path, site: Path) -> tuple[float, str, list[str]]:
    """(seconds, log, lessons executed) of one `mkdocs build --strict`. Exits if the build fails."""
    started = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-f", str(repo / "mkdocs.yml"), "-d", str(site)],
        capture_output=True,
        text=True,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
    )
    seconds = time.perf_counter() - started
    log = proc.stdout + proc.stderr
    if proc.returncode != 0:
        sys.exit(f"build failed:\n{log}")
    return seconds, log, sorted(set(re.findall(r"executing lesson: (\S+)", log)))


def lesson_times(log: str) -> dict[str, float]:
    return {name: float(s) for name, s in re.findall(r"executed lesson: (\S+) in ([\d.]+) s", log)}


def importers(repo: Path, path: str) -> list[str]:
    """The lessons whose newest cache entry records importing `path` (our cache format only)."""
    found = set()
    for entry in (repo / ".cache" / "lessons").glob("*.ipynb"):
        try:
            imports = json.loads(entry.read_text(encoding="utf-8"))["metadata"]["bnref_build"]["imports"]
        except (KeyError, ValueError):
            return sorted(p.stem for p in (repo / "lessons").glob("[0-9][0-9]_*.py"))  # not recorded
        if path in imports:
            found.add(entry.name.split("-")[0])
    return sorted(found)


def edit_prose(lesson: Path, n: int) -> str:
    """Add a sentence under the lesson's title (its first Markdown cell); return the sentence."""
    sentence = f"벤치마크가 고친 문장 {n}번입니다."
    text = lesson.read_text(encoding="utf-8")
    text = re.sub(r"^(# # .*)$", rf"\1\n#\n# {sentence}", text, count=1, flags=re.MULTILINE)
    lesson.write_text(text, encoding="utf-8")
    return sentence


def append(path: Path, text: str) -> None:
    path.write_text(path.read_text(encoding="utf-8") + text, encoding="utf-8")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def fetch(url: str, timeout: float = 600) -> str:
    with urllib.request.urlopen(url, timeout=timeout) as response:
        return response.read().decode("utf-8")


def serve_figures(repo: Path) -> tuple[float, list[float]]:
    """(start-up seconds until the lesson page is served, edit-to-served seconds of prose edits)."""
    port = free_port()
    page = f"http://127.0.0.1:{port}/lessons/{PROSE_LESSON}/"
    log = open(repo.parent / "serve.log", "w")
    started = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "mkdocs", "serve", "-f", str(repo / "mkdocs.yml"), "--dev-addr", f"127.0.0.1:{port}"],
        stdout=log,
        stderr=subprocess.STDOUT,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
        start_new_session=True,
    )
    try:
        while True:
            if proc.poll() is not None:
                sys.exit(f"mkdocs serve exited:\n{(repo.parent / 'serve.log').read_text()}")
            try:
                fetch(page, timeout=5)
                break
            except OSError:
                time.sleep(0.2)
        startup = time.perf_counter() - started
        edits = []
        for n in range(SERVE_REPEATS):
            time.sleep(1.5)  # the file watcher polls every 0.5 s; let the previous reload settle
            sentence = edit_prose(repo / "lessons" / f"{PROSE_LESSON}.py", 100 + n)
            edited = time.perf_counter()
            while sentence not in fetch(page):
                time.sleep(0.1)
            edits.append(time.perf_counter() - edited)
        return startup, edits
    finally:
        os.killpg(proc.pid, signal.SIGINT)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        log.close()


def page_weights(site: Path) -> dict[str, int]:
    """Bytes of each lesson page: its HTML plus the images it shows (shared CSS/JS not counted)."""
    from bs4 import BeautifulSoup

    weights = {}
    for page in sorted((site / "lessons").glob("*/index.html")):
        total = page.stat().st_size
        soup = BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser")
        base = "/" + page.relative_to(site).as_posix()
        for img in soup.select("article img[src]"):
            path = urlparse(urljoin(base, img["src"])).path.lstrip("/")
            if (site / path).is_file():
                total += (site / path).stat().st_size
        weights[page.parent.name] = total
    return weights


def verdict(ok: bool) -> str:
    return "ok" if ok else "OVER TARGET"


def names(run: list[str], lessons: list[str]) -> str:
    return f"all {len(lessons)}" if run == lessons else str(run) if run else "none"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--keep", action="store_true", help="keep the temporary copy and print its path")
    parser.add_argument("--source", type=Path, default=ROOT, help="checkout whose files are built (default: this one)")
    parser.add_argument("--no-serve", action="store_true", help="skip the `mkdocs serve` figures")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="bn-bench-"))
    try:
        repo = copy_repo(args.source.resolve(), work / "repo")
        lessons = sorted(p.stem for p in (repo / "lessons").glob("[0-9][0-9]_*.py"))
        load = os.getloadavg()[0]
        print(f"{len(lessons)} lessons, {os.cpu_count()} CPUs, Python {sys.version.split()[0]}, "
              f"load average {load:.1f} at start, source {args.source}")

        clean_s, clean_log, clean_run = build(repo, work / "site")
        print(f"clean build:          {clean_s:6.1f} s  executed {len(clean_run)}/{len(lessons)}"
              f"  (target <= {TARGET_CLEAN_S:.0f} s: {verdict(clean_s <= TARGET_CLEAN_S)})")

        # The median of a few: one rebuild is short enough for a neighbour's burst to double it. The
        # prose edits alternate with the no-change rebuilds, so that both see the same load.
        noops, proses = [], []
        for n in range(NOOP_REPEATS):
            noops.append(build(repo, work / "site"))
            edit_prose(repo / "lessons" / f"{PROSE_LESSON}.py", n)
            proses.append(build(repo, work / "site"))
        noop_s = statistics.median(seconds for seconds, _, _ in noops)
        noop_run = sorted({name for _, _, run in noops for name in run})
        print(f"no-change rebuild:    {noop_s:6.1f} s  executed {noop_run or 'none'}"
              f"  (target <= {TARGET_NOOP_S:.0f} s: {verdict(noop_s <= TARGET_NOOP_S and not noop_run)})"
              f"  median of {' '.join(f'{seconds:.1f}' for seconds, _, _ in noops)}")
        prose_s = statistics.median(seconds for seconds, _, _ in proses)
        prose_run = sorted({name for _, _, run in proses for name in run})
        print(f"prose-only edit:      {prose_s:6.1f} s  executed {prose_run or 'none'}"
              f"  (target: none, <= {noop_s + 1:.1f} s: {verdict(not prose_run and prose_s <= noop_s + 1)})"
              f"  median of {' '.join(f'{seconds:.1f}' for seconds, _, _ in proses)}")

        append(repo / "lessons" / f"{lessons[-1]}.py", "\n# %%\n_ = 'benchmark edit'\n")
        one_s, _, one_run = build(repo, work / "site")
        print(f"one lesson's code:    {one_s:6.1f} s  executed {one_run}"
              f"  ({verdict(one_run == [lessons[-1]])}: only {lessons[-1]} expected)")

        append(repo / UNIMPORTED, "\n# benchmark edit\n")
        unimported_s, _, unimported_run = build(repo, work / "site")
        print(f"unimported bnref file:{unimported_s:6.1f} s  executed {len(unimported_run)}/{len(lessons)}"
              f"  ({verdict(not unimported_run)}: none expected, {UNIMPORTED})")

        expected_sync = importers(repo, "bnref/sync.py")
        append(repo / "bnref" / "sync.py", "\n# benchmark edit\n")
        sync_s, _, sync_run = build(repo, work / "site")
        print(f"bnref/sync.py:        {sync_s:6.1f} s  executed {names(sync_run, lessons)}"
              f"  ({verdict(sync_run == expected_sync)}: {names(expected_sync, lessons)} expected)")

        append(repo / "bnref" / "__init__.py", "\n# benchmark edit\n")
        pkg_s, pkg_log, pkg_run = build(repo, work / "site")
        print(f"bnref/__init__.py:    {pkg_s:6.1f} s  executed {len(pkg_run)}/{len(lessons)}"
              f"  ({verdict(pkg_run == lessons)}: every lesson expected)")
        print("  per lesson, clean build -> bnref/__init__.py changed:")
        for name, seconds in sorted(lesson_times(pkg_log).items()):
            print(f"  {name:28s} {lesson_times(clean_log).get(name, float('nan')):5.1f} s -> {seconds:5.1f} s")

        print("page weight (HTML + its figures):")
        for name, size in page_weights(work / "site").items():
            print(f"  {name:28s} {size / 1e6:6.3f} MB  ({verdict(size <= TARGET_PAGE_BYTES)})")

        if not args.no_serve:
            startup, edits = serve_figures(repo)
            print(f"mkdocs serve start-up (warm cache, port of its own): {startup:6.1f} s")
            print(f"mkdocs serve, prose edit to served page: {statistics.median(edits):6.1f} s"
                  f"  median of {' '.join(f'{s:.1f}' for s in edits)}")
        print(f"load average at end {os.getloadavg()[0]:.1f}")
    finally:
        if args.keep:
            print(f"kept: {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
