"""A wheel of bnref, built by the site build and published with the site.

A lesson downloaded to Colab installs bnref from the site it came from (see setup_cell.py), never
from a source the site does not control. bnref is pure Python, so its wheel is a zip of the package
plus metadata taken from pyproject.toml's [project] table; building it by hand takes milliseconds
and needs neither network nor build isolation. Timestamps are fixed, so the same sources give the
same bytes.
"""

from __future__ import annotations

import base64
import hashlib
import io
import re
import tomllib
import zipfile
from pathlib import Path

_EPOCH = (1980, 1, 1, 0, 0, 0)


def _normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "_", name).lower()


def wheel_name(project: dict) -> str:
    return f"{_normalize(project['name'])}-{project['version']}-py3-none-any.whl"


def _metadata(project: dict) -> str:
    lines = [
        "Metadata-Version: 2.1",
        f"Name: {project['name']}",
        f"Version: {project['version']}",
    ]
    if "description" in project:
        lines.append(f"Summary: {project['description']}")
    if "requires-python" in project:
        lines.append(f"Requires-Python: {project['requires-python']}")
    lines += [f"Requires-Dist: {req}" for req in project.get("dependencies", [])]
    for extra, reqs in project.get("optional-dependencies", {}).items():
        lines.append(f"Provides-Extra: {extra}")
        for req in reqs:
            marker = f'extra == "{extra}"'
            req, _, own = req.partition(";")
            marker = f"({own.strip()}) and {marker}" if own.strip() else marker
            lines.append(f"Requires-Dist: {req.strip()}; {marker}")
    return "\n".join(lines) + "\n"


def build_wheel(root: Path, package: str = "bnref") -> tuple[str, bytes]:
    """(file name, bytes) of a py3-none-any wheel of `root/package`, described by root/pyproject.toml."""
    project = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    dist_info = f"{_normalize(project['name'])}-{project['version']}.dist-info"
    files: list[tuple[str, bytes]] = []
    for path in sorted((root / package).rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc":
            files.append((path.relative_to(root).as_posix(), path.read_bytes()))
    files.append((f"{dist_info}/METADATA", _metadata(project).encode()))
    files.append(
        (
            f"{dist_info}/WHEEL",
            b"Wheel-Version: 1.0\nGenerator: hooks/wheel_build.py\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
        )
    )
    record = []
    for name, data in files:
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        record.append(f"{name},sha256={digest},{len(data)}")
    record.append(f"{dist_info}/RECORD,,")
    files.append((f"{dist_info}/RECORD", ("\n".join(record) + "\n").encode()))

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as wheel:
        for name, data in files:
            info = zipfile.ZipInfo(name, date_time=_EPOCH)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            wheel.writestr(info, data)
    return wheel_name(project), buffer.getvalue()
