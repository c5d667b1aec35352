"""bnref.course.viz: 한글과 마이너스 기호가 경고 없이 그려지는지 (pytest 설정상 경고는 곧 실패)."""

import sys
import warnings
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402

from bnref.course import viz  # noqa: E402

# 한글, 진짜 마이너스(U+2212, unicode_minus가 눈금에 쓰는 기호), 그리스 문자까지.
LABEL = "배치 정규화 후: 평균 −0.5, γ=12, β=40"


@pytest.fixture(autouse=True)
def fresh_rcparams():
    with matplotlib.rc_context():
        yield
    plt.close("all")


def draw_korean_figure():
    fig, ax = plt.subplots()
    ax.plot([-3, -1, 2], [-2.5, 0, 1.5])  # 음수 눈금 → 마이너스 기호
    ax.set_title(LABEL)
    ax.set_xlabel("값")
    ax.set_ylabel("빈도")
    fig.canvas.draw()
    return fig


def test_hangul_and_minus_draw_without_warnings():
    viz.use_korean_font()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        draw_korean_figure()


def test_without_setup_hangul_is_missing():
    # 대조군: 설정하지 않으면 같은 그림이 'Glyph ... missing' 경고를 냅니다.
    # 이 테스트가 있어야 위 테스트가 실제로 무언가를 확인한다는 것을 압니다.
    matplotlib.rcParams["font.family"] = ["DejaVu Sans"]
    with pytest.warns(UserWarning, match="missing from font"):
        draw_korean_figure()


def test_nanum_alone_lacks_the_minus_sign():
    # 대조군: NanumGothic만 쓰면 U+2212가 없어 경고가 납니다. 그래서 DejaVu Sans가 먼저입니다.
    viz.use_korean_font()
    matplotlib.rcParams["font.family"] = [viz.KOREAN_FONT]
    with pytest.warns(UserWarning, match="missing from font"):
        draw_korean_figure()


def test_settings():
    assert viz.use_korean_font() is None  # 셀의 마지막 줄이어도 아무것도 찍히지 않게
    path = viz.find_korean_font()
    assert path.name == "NanumGothic.ttf"
    assert any(Path(f.fname) == path for f in matplotlib.font_manager.fontManager.ttflist)
    assert matplotlib.rcParams["font.family"] == ["DejaVu Sans", "NanumGothic"]
    assert matplotlib.rcParams["axes.unicode_minus"] is True
    assert matplotlib.rcParams["figure.dpi"] == 100


def test_does_not_import_koreanize_matplotlib():
    # 그 패키지는 import 때 distutils를 불러옵니다 (3.11 경고, 3.12 ImportError).
    viz.use_korean_font()
    assert "koreanize_matplotlib" not in sys.modules


def test_prefers_the_bundled_font():
    bundled = viz._bundled_font()
    if bundled is None:
        pytest.skip("koreanize-matplotlib is not installed")
    assert viz.find_korean_font() == bundled
    assert "koreanize_matplotlib" in str(bundled)


def test_falls_back_to_a_system_font(monkeypatch):
    system = viz._system_font()
    if system is None:
        pytest.skip("no system NanumGothic (apt-get install fonts-nanum)")
    monkeypatch.setattr(viz, "_bundled_font", lambda: None)
    assert viz.find_korean_font() == system
    viz.use_korean_font()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        draw_korean_figure()


def test_no_font_at_all_says_how_to_install(monkeypatch):
    monkeypatch.setattr(viz, "_bundled_font", lambda: None)
    monkeypatch.setattr(viz, "_system_font", lambda: None)
    with pytest.warns(UserWarning, match="pip install koreanize-matplotlib"):
        viz.use_korean_font()


def test_bundled_font_path_is_a_real_file():
    path = viz.find_korean_font()
    assert path is not None and Path(path).is_file()
