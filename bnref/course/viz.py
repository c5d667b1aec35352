"""강의 그림용 matplotlib 설정: 한글과 마이너스 기호(−)가 깨지지 않게 합니다.

bnref의 계산 코드(functional, modules)는 matplotlib을 쓰지 않습니다. 그림이 필요한
강의만 이 모듈을 불러옵니다.

왜 koreanize_matplotlib을 import하지 않나요?
  koreanize-matplotlib 0.1.1은 import할 때 ``distutils``를 불러옵니다. 그래서 Python
  3.11에서는 DeprecationWarning이 나고, 3.12(Colab)에서는 ImportError로 멈춥니다.
  게다가 ``axes.unicode_minus = False``로 바꿔 진짜 마이너스 기호(U+2212) 대신 하이픈을
  씁니다. 우리가 필요한 것은 그 패키지에 들어 있는 NanumGothic 글꼴 파일뿐이므로,
  패키지를 실행하지 않고 파일 위치만 찾아 matplotlib에 등록합니다.

왜 글꼴을 두 개 지정하나요?
  NanumGothic에는 U+2212 마이너스 글리프가 없고, DejaVu Sans에는 한글이 없습니다.
  ``font.family = ["DejaVu Sans", "NanumGothic"]``로 두면 matplotlib이 글자마다
  앞의 글꼴부터 찾아 쓰므로(font fallback) 숫자·마이너스는 DejaVu Sans로, 한글은
  NanumGothic으로 그려집니다.
"""

from __future__ import annotations

import importlib.util
import warnings
from pathlib import Path

import matplotlib
from matplotlib import font_manager

__all__ = ["KOREAN_FONT", "find_korean_font", "use_korean_font"]

KOREAN_FONT = "NanumGothic"
_FONT_FILE = "NanumGothic.ttf"

# 화면에서 읽기 좋은 크기: 100 dpi에서 640×360 픽셀 정도.
_FIGURE_DEFAULTS = {"figure.dpi": 100, "figure.figsize": (6.4, 3.6)}


def _bundled_font() -> Path | None:
    """koreanize-matplotlib 패키지 안의 NanumGothic.ttf. 패키지는 실행하지 않습니다."""
    # find_spec은 최상위 패키지의 위치만 찾고 __init__.py를 실행하지 않습니다.
    spec = importlib.util.find_spec("koreanize_matplotlib")
    if spec is None or not spec.submodule_search_locations:
        return None
    for location in spec.submodule_search_locations:
        path = Path(location) / "fonts" / _FONT_FILE
        if path.is_file():
            return path
    return None


def _system_font() -> Path | None:
    """운영체제에 설치된 NanumGothic.ttf (예: Debian/Ubuntu의 fonts-nanum 패키지)."""
    for name in sorted(font_manager.findSystemFonts(fontext="ttf")):
        if Path(name).name == _FONT_FILE:
            return Path(name)
    return None


def find_korean_font() -> Path | None:
    """쓸 한글 글꼴 파일의 경로. 먼저 koreanize-matplotlib에 들어 있는 것을, 없으면
    시스템에 설치된 것을 찾습니다. 둘 다 없으면 None."""
    return _bundled_font() or _system_font()


def use_korean_font() -> None:
    """matplotlib이 한글과 마이너스 기호를 그릴 수 있게 설정합니다. 그림 크기도 화면용
    (100 dpi, 6.4×3.6인치)으로 맞춥니다. 어느 글꼴 파일을 쓰는지는 :func:`find_korean_font`가
    알려 줍니다.

    아무것도 돌려주지 않는 것은 일부러입니다. 노트북 셀의 마지막 줄에 두어도 글꼴 경로 같은
    출력이 페이지에 찍히지 않습니다.

    한글 글꼴을 찾지 못하면 설치 방법을 알려 주는 경고를 냅니다. 이때도 그림은 그려지지만
    한글이 네모로 보입니다.

    >>> use_korean_font()
    >>> matplotlib.rcParams["font.family"]
    ['DejaVu Sans', 'NanumGothic']
    >>> find_korean_font().name
    'NanumGothic.ttf'
    """
    matplotlib.rcParams.update(_FIGURE_DEFAULTS)
    # 진짜 마이너스 기호(U+2212)를 씁니다. DejaVu Sans에 그 글리프가 있습니다.
    matplotlib.rcParams["axes.unicode_minus"] = True
    path = find_korean_font()
    if path is None:
        warnings.warn(
            "Korean font NanumGothic not found: Hangul in figures will not render. "
            "Install it with `pip install koreanize-matplotlib` (only its font file is used) "
            "or `apt-get install fonts-nanum`, then restart the kernel.",
            UserWarning,
            stacklevel=2,
        )
        return
    # addfont는 같은 파일을 여러 번 등록해도 괜찮지만, 목록이 불필요하게 늘지 않게 합니다.
    if not any(Path(f.fname) == path for f in font_manager.fontManager.ttflist):
        font_manager.fontManager.addfont(str(path))
    matplotlib.rcParams["font.family"] = ["DejaVu Sans", KOREAN_FONT]
