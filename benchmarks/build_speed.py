"""Build-speed and page-weight benchmark of the course site. Prints its figures; asserts nothing.

    python benchmarks/build_speed.py            # or: make bench-build

On a copy of the repository (so the cache starts empty and the checkout is not touched):
1. clean build: every lesson executed (target: at most 90 s on 2 cores);
2. rebuild with nothing changed: no lesson executed (target: at most 5 s; median of 5);
3. one lesson changed: only that lesson executed;
4. bnref changed: every lesson executed, never stale output;
then the weight of each lesson page with its figures (target: at most 1.5 MB each).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urljoin, urlparse

ROOT = Path(__file__).resolve().parents[1]
TARGET_CLEAN_S = 90.0
TARGET_NOOP_S = 5.0
NOOP_REPEATS = 5
TARGET_PAGE_BYTES = 1_500_000


def copy_repo(dest: Path) -> Path:
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", ".ipynb_checkpoints")
    dest.mkdir(parents=True)
    for name in ("mkdocs.yml", "pyproject.toml"):
        shutil.copy2(ROOT / name, dest / name)
    for name in ("hooks", "bnref", "lessons", "docs", "overrides"):
        shutil.copytree(ROOT / name, dest / name, ignore=ignore)
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
    return seconds, log, sorted(re.findall(r"executing lesson: (\S+)", log))


def lesson_times(log: str) -> dict[str, float]:
    return {name: float(s) for name, s in re.findall(r"executed lesson: (\S+) in ([\d.]+) s", log)}


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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--keep", action="store_true", help="keep the temporary copy and print its path")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="bn-bench-"))
    try:
        repo = copy_repo(work / "repo")
        lessons = sorted(p.stem for p in (repo / "lessons").glob("[0-9][0-9]_*.py"))
        print(f"{len(lessons)} lessons, {os.cpu_count()} CPUs, Python {sys.version.split()[0]}")

        clean_s, clean_log, clean_run = build(repo, work / "site")
        print(f"clean build:          {clean_s:6.1f} s  executed {len(clean_run)}/{len(lessons)}"
              f"  (target <= {TARGET_CLEAN_S:.0f} s: {verdict(clean_s <= TARGET_CLEAN_S)})")

        # The median of a few: one rebuild is short enough for a neighbour's burst to double it.
        noops = [build(repo, work / "site") for _ in range(NOOP_REPEATS)]
        noop_s = statistics.median(seconds for seconds, _, _ in noops)
        noop_run = sorted({name for _, _, run in noops for name in run})
        print(f"no-change rebuild:    {noop_s:6.1f} s  executed {noop_run or 'none'}"
              f"  (target <= {TARGET_NOOP_S:.0f} s: {verdict(noop_s <= TARGET_NOOP_S and not noop_run)})"
              f"  median of {' '.join(f'{seconds:.1f}' for seconds, _, _ in noops)}")

        changed = repo / "lessons" / f"{lessons[-1]}.py"
        changed.write_text(changed.read_text(encoding="utf-8") + "\n# %%\n_ = 'benchmark edit'\n", encoding="utf-8")
        one_s, _, one_run = build(repo, work / "site")
        print(f"one lesson changed:   {one_s:6.1f} s  executed {one_run}"
              f"  ({verdict(one_run == [lessons[-1]])}: only {lessons[-1]} expected)")

        init = repo / "bnref" / "__init__.py"
        init.write_text(init.read_text(encoding="utf-8") + "\n# benchmark edit\n", encoding="utf-8")
        pkg_s, pkg_log, pkg_run = build(repo, work / "site")
        print(f"bnref changed:        {pkg_s:6.1f} s  executed {len(pkg_run)}/{len(lessons)}"
              f"  ({verdict(pkg_run == lessons)}: every lesson expected)")
        print("  per lesson, clean build -> bnref changed:")
        for name, seconds in sorted(lesson_times(pkg_log).items()):
            print(f"  {name:28s} {lesson_times(clean_log).get(name, float('nan')):5.1f} s -> {seconds:5.1f} s")

        print("page weight (HTML + its figures):")
        for name, size in page_weights(work / "site").items():
            print(f"  {name:28s} {size / 1e6:6.3f} MB  ({verdict(size <= TARGET_PAGE_BYTES)})")
    finally:
        if args.keep:
            print(f"kept: {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
