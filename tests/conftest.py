"""Session fixtures shared by the slow site tests: one clean build of the course, one local server.

`course_build` is the whole course built once per test session, `--strict`, from a copy of the
repository without caches (so every lesson is executed, as in CI). Tests that need to edit and
rebuild should make their own copy (site_build.copy_repo) rather than edit this one;
`course_copy()` makes one that starts with the session build's lesson cache, so that its build
executes no lesson (also with another SITE_URL, e.g. a sub-path).

COURSE_SITE=<dir> makes the tests that only read the site (browser, links) use a site built
beforehand, which is quicker while working on them; `make test` never sets it.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from site_build import Build, Server, copy_repo


@pytest.fixture(scope="session")
def course_build(tmp_path_factory) -> Build:
    repo = copy_repo(tmp_path_factory.mktemp("course") / "repo")
    build = Build(repo, tmp_path_factory.mktemp("site") / "site")
    assert build.ok, build.log
    return build


@pytest.fixture(scope="session")
def course_copy(course_build, tmp_path_factory):
    """A function that returns a new copy of the repository holding the session build's lesson cache."""
    return lambda: copy_repo(tmp_path_factory.mktemp("course-copy") / "repo", cache_of=course_build.repo)


@pytest.fixture(scope="session")
def course_site(request) -> Path:
    if prebuilt := os.environ.get("COURSE_SITE"):
        return Path(prebuilt)
    return request.getfixturevalue("course_build").site


@pytest.fixture(scope="session")
def site_url(course_site):
    """Base URL ("http://127.0.0.1:<port>/") of the built course, served over HTTP."""
    server = Server(course_site)
    yield server.url
    server.close()
