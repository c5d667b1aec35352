"""bnref: 처음부터 다시 쓴 배치 정규화(batch normalization), ``torch.nn.BatchNorm*``의 쌍둥이.

수학은 :mod:`bnref.functional`, 층(파라미터·버퍼·장부 정리)은 :mod:`bnref.modules`.
강좌의 도우미(실험, 출력, 그림, 여러 프로세스 실행)는 쌍둥이가 아니므로 :mod:`bnref.course`에 따로 있습니다.
"""

import importlib

# 이름 -> 그 이름이 있는 모듈. 모듈은 이름을 처음 쓸 때 import 합니다(PEP 562): `import bnref`만으로
# sync(torch.distributed)나 norms까지 불러오지 않으므로, 강의가 실제로 쓰는 파일만 그 강의의 커널에
# import 됩니다. 사이트 빌드는 그 목록으로 어느 강의를 다시 실행할지 정합니다.
_LAZY = {
    "BatchNorm1d": "bnref.modules",
    "BatchNorm2d": "bnref.modules",
    "BatchNorm3d": "bnref.modules",
    "SyncBatchNorm": "bnref.sync",
    # 배치 정규화의 대안들
    "LayerNorm": "bnref.norms",
    "GroupNorm": "bnref.norms",
    "InstanceNorm1d": "bnref.norms",
    "InstanceNorm2d": "bnref.norms",
    "InstanceNorm3d": "bnref.norms",
}

# 하위 모듈도 처음 쓸 때 import 합니다 (`import bnref` 뒤의 `bnref.norms.group_norm(...)`).
_SUBMODULES = ("functional", "modules", "norms", "sync", "fuse", "course")

__all__ = ["functional", *_LAZY]


def __getattr__(name):
    if name in _SUBMODULES:
        value = importlib.import_module(f"bnref.{name}")
    elif name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
    else:
        raise AttributeError(f"module 'bnref' has no attribute {name!r}")
    globals()[name] = value  # 다음부터는 보통의 속성
    return value


def __dir__():
    return sorted(set(globals()) | set(__all__))
