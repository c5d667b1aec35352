"""The GitHub Pages workflow cannot run here; it is checked for what it must do."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
WORKFLOW = ROOT / ".github" / "workflows" / "pages.yml"


def _steps():
    workflow = yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))
    (job,) = workflow["jobs"].values()
    return workflow, job, job["steps"]


def _makefile_recipe(target: str) -> str:
    text = (ROOT / "Makefile").read_text(encoding="utf-8")
    match = re.search(rf"^{target}:.*\n((?:\t.*\n)+)", text, re.MULTILINE)
    assert match, f"no '{target}' target in the Makefile"
    return match[1]


def test_workflow_is_valid_yaml_with_a_trigger_and_one_job():
    workflow, job, steps = _steps()
    assert True in workflow or "on" in workflow  # YAML 1.1 reads the key `on` as True
    assert job["runs-on"].startswith("ubuntu")
    assert all("uses" in step or "run" in step for step in steps)


def test_workflow_builds_with_the_makefiles_strict_build():
    _, _, steps = _steps()
    runs = [step.get("run", "") for step in steps]
    assert any(run.strip() == "make build" for run in runs)
    assert "mkdocs build --strict" in _makefile_recipe("build")
    assert re.search(r"^build: setup$", (ROOT / "Makefile").read_text(), re.MULTILINE)


def test_workflow_uses_python_3_11_and_cpu_torch():
    _, _, steps = _steps()
    python = [s for s in steps if s.get("uses", "").startswith("actions/setup-python")]
    assert python and python[0]["with"]["python-version"] == "3.11"
    pins = re.search(r"^torch==(\S+)$", (ROOT / "requirements.txt").read_text(), re.MULTILINE)[1]
    assert any(
        f"torch=={pins} --index-url https://download.pytorch.org/whl/cpu" in step.get("run", "") for step in steps
    )


def test_workflow_restores_no_cache_and_sets_the_site_url():
    _, job, steps = _steps()
    assert not [s for s in steps if "cache" in s.get("uses", "")]
    assert "github.io" in job["env"]["SITE_URL"]
    assert "SITE_URL" in (ROOT / "mkdocs.yml").read_text()


def test_workflow_publishes_the_built_site_to_gh_pages():
    workflow, _, steps = _steps()
    assert workflow["permissions"]["contents"] == "write"
    assert any("ghp-import" in s.get("run", "") and s["run"].rstrip().endswith(" site") for s in steps)


def test_colab_links_and_the_workflow_use_the_same_branch():
    # ghp-import pushes to gh-pages unless told otherwise; the Colab links open notebooks from there.
    _, _, steps = _steps()
    assert not any("ghp-import" in s.get("run", "") and " -b " in s["run"] for s in steps)
    assert re.search(r"^\s+pages_branch: gh-pages$", (ROOT / "mkdocs.yml").read_text(), re.MULTILINE)


def test_the_workflow_is_a_deploy_build_and_mkdocs_yml_reads_the_flag():
    # A deploy build without a repository for the Colab links warns (hooks/readers.py), and the
    # workflow's strict build then fails instead of publishing lessons without Colab links.
    _, job, _ = _steps()
    assert job["env"]["DEPLOY"] == "1"
    text = (ROOT / "mkdocs.yml").read_text()
    assert re.search(r"^\s+deploy: !ENV \[DEPLOY, false\]$", text, re.MULTILINE)
    assert re.search(r"^\s+github_repo: !ENV GITHUB_REPOSITORY$", text, re.MULTILINE)
