"""심어 둔 실수(planted mistakes)마다 빠른 테스트가 빨갛게 되는지 확인합니다.

bnref/ 를 임시 폴더에 복사하고, 실수 하나를 정확한 문자열 바꾸기로 심은 뒤, 그 복사본을 import 하는
별도 프로세스에서 TEST_PATHS 의 테스트를 돌립니다. 실수를 심지 않은 복사본은 통과해야 하고
(그래야 실패가 실수 때문임을 압니다), 실수를 심은 복사본은 실패해야 합니다.
"""
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[1]

# 돌릴 테스트 (저장소 기준 경로). "bnref/" 로 시작하는 것은 실수를 심은 복사본의 파일(doctest)을 가리킵니다.
TEST_PATHS = [
    "tests/test_bn_functional.py",
    "tests/test_bn_modules.py",
    "tests/test_bn_gradcheck.py",
    "tests/test_lessons.py",
    "bnref/functional.py",
    "bnref/modules.py",
]

# 이름: (파일, 원래 문장, 실수를 심은 문장)
MUTATIONS = {
    "unbiased variance in the normalisation": (
        "bnref/functional.py", "var = (sum_d2 - sum_d * sum_d / n) / n", "var = (sum_d2 - sum_d * sum_d / n) / (n - 1)"),
    "dropped eps": (
        "bnref/functional.py", "torch.rsqrt(var + eps)", "torch.rsqrt(var)"),
    "momentum weighting reversed": (
        "bnref/functional.py", "(1 - momentum) * running.double() + momentum * stat",
        "momentum * running.double() + (1 - momentum) * stat"),
    "gamma and beta swapped": (
        "bnref/functional.py", "return _normalize(centred, offset, invstd, weight, bias)",
        "return _normalize(centred, offset, invstd, bias, weight)"),
    "sign flipped in the backward": (
        "bnref/functional.py", "b = -g * invstd * sum_dy_xhat / n", "b = g * invstd * sum_dy_xhat / n"),
    # issue #11: create_graph=True rebuilds x̂ with its own variance; gradgradcheck alone did not notice this.
    "unbiased variance in the double-backward path": (
        "bnref/functional.py", "centred.var(dims, correction=0)", "centred.var(dims, correction=1)"),
}


def copy_bnref(dest, mutation=None):
    """bnref/ 를 dest/bnref 로 복사하고 (있으면) 실수 하나를 심습니다."""
    shutil.copytree(REPO / "bnref", dest / "bnref", ignore=shutil.ignore_patterns("__pycache__"))
    if mutation is not None:
        path, old, new = mutation
        target = dest / path
        text = target.read_text(encoding="utf-8")
        assert text.count(old) == 1, f"pattern not found exactly once in {path}: {old!r}"
        target.write_text(text.replace(old, new), encoding="utf-8")


def run_tests(copy_root):
    """copy_root/bnref 를 import 하는 새 프로세스에서 TEST_PATHS 를 돌립니다 (첫 실패에서 멈춤)."""
    paths = [str(copy_root / p if p.startswith("bnref/") else REPO / p) for p in TEST_PATHS]
    args = ["-x", "-q", "-m", "not slow", "-c", str(REPO / "pyproject.toml"), "--rootdir", str(REPO),
            "-p", "no:randomly", *paths]
    # pytest 보다 먼저 bnref 를 import 해 어느 복사본인지 출력합니다; 이후 모든 import 가 같은 모듈을 씁니다.
    code = ("import sys, bnref, pytest; print('BNREF_FILE', bnref.__file__, flush=True); "
            f"sys.exit(pytest.main({args!r}))")
    env = {**os.environ, "PYTHONPATH": str(copy_root), "PYTHONDONTWRITEBYTECODE": "1"}
    # cwd 를 복사본으로: sys.path 맨 앞의 '' 가 저장소의 bnref 를 가리키지 않게.
    proc = subprocess.run([sys.executable, "-c", code], cwd=copy_root, env=env, capture_output=True,
                          text=True, timeout=600)
    out = proc.stdout + proc.stderr
    assert f"BNREF_FILE {copy_root / 'bnref' / '__init__.py'}" in out, out[-3000:]
    return proc.returncode, out


def test_unmutated_copy_passes(tmp_path):
    copy_bnref(tmp_path)
    code, out = run_tests(tmp_path)
    assert code == 0, out[-3000:]


@pytest.mark.parametrize("name", MUTATIONS)
def test_planted_mistake_turns_the_suite_red(tmp_path, name):
    copy_bnref(tmp_path, MUTATIONS[name])
    code, out = run_tests(tmp_path)
    assert code == 1 and " failed" in out, out[-3000:]   # 1 = 테스트 실패 (수집 오류 2 같은 다른 이유가 아님)
