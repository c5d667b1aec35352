"""bnref.course.viz: 한글과 마이너스 기호가 경고 없이 그려지는지 (pytest 설정상 경고는 곧 실패)."""

import base64
import io
import sys
import warnings
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
from PIL import Image  # noqa: E402

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


# ── 휴대폰용 그림 (phone rendering) ──────────────────────────────────────────────────────────────


def _three_panels():
    """강의 10의 그림처럼: 9.6인치 폭에 패널 셋, 범례는 7 pt."""
    viz.use_korean_font()
    fig, axes = plt.subplots(1, 3, figsize=(9.6, 3.2))
    for i, ax in enumerate(axes):
        ax.plot([0, 1, 2], [0, i, 2 * i], label="BN")
        ax.set(title=f"패널 {i}", xlabel="스텝", ylabel="손실")
        ax.legend(fontsize=7)
    fig.suptitle("표준, BN, 잡음 섞인 BN")
    fig.tight_layout()
    return fig


def test_wide_figures_are_unreadable_on_a_phone_without_a_phone_rendering():
    # 대조군: 원래 그림의 7 pt 범례는 휴대폰 본문 폭(342 px)에서 9 px에 한참 못 미칩니다.
    fig = _three_panels()
    smallest = min(viz.text_sizes(fig))
    assert smallest == 7
    assert viz.text_px(smallest, 100, viz._tight_width_in(fig) * 100) < 4


def test_phone_rendering_stacks_the_panels_and_reaches_the_text_size():
    fig = _three_panels()
    phone = viz.phone_figure(fig)
    assert viz.text_px(phone["text_pt"], phone["dpi"], phone["width"]) >= viz.PHONE_TEXT_PX
    assert phone["width"] >= 2 * viz.PHONE_CSS_WIDTH * 0.95  # sharp on a high-density screen
    assert phone["height"] > 2 * phone["width"]  # three panels, one under the other
    assert Image.open(io.BytesIO(phone["png"])).size == (phone["width"], phone["height"])


def test_phone_rendering_leaves_the_figure_and_pyplot_as_they_were():
    fig = _three_panels()
    before = (tuple(fig.get_size_inches()), [tuple(ax.get_position().bounds) for ax in fig.axes],
              [t.get_fontsize() for ax in fig.axes for t in ax.get_legend().get_texts()])
    numbers, current = plt.get_fignums(), plt.gcf()
    viz.phone_figure(fig)
    after = (tuple(fig.get_size_inches()), [tuple(ax.get_position().bounds) for ax in fig.axes],
             [t.get_fontsize() for ax in fig.axes for t in ax.get_legend().get_texts()])
    assert after == before
    assert plt.get_fignums() == numbers and plt.gcf() is current


def test_a_figure_that_reads_on_a_phone_gets_no_second_rendering():
    viz.use_korean_font()
    fig, ax = plt.subplots(figsize=(3.0, 2.0))
    ax.plot([0, 1], [0, 1])
    ax.set_title("작은 그림", fontsize=12)
    ax.tick_params(labelsize=12)
    variants = viz.figure_variants(fig)
    assert variants["text_pt"] == 12 and "phone" not in variants


_IPYTHON_DISPLAY = """
import base64, io, json, sys
import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt
from IPython.core.interactiveshell import InteractiveShell
from IPython.core.pylabtools import select_figure_formats
from PIL import Image
from bnref.course import viz

shell = InteractiveShell.instance()
select_figure_formats(shell, {"png"})
viz.use_korean_font()  # registers the formatter
fig, axes = plt.subplots(1, 3, figsize=(9.6, 3.2))
for ax in axes:
    ax.plot([0, 1], [1, 0], label="BN")
    ax.set_title("패널")
    ax.legend(fontsize=7)
data, _ = shell.display_formatter.format(fig)
variants = data[viz.FIGURE_MIME]
png = base64.b64decode(variants["phone"].pop("png"))
variants["phone"]["size"] = Image.open(io.BytesIO(png)).size
print(json.dumps({"mimes": sorted(data), "variants": variants}))
"""


def test_figures_shown_in_ipython_carry_their_variants():
    """In an IPython shell with PNG figures (as in a lesson's kernel), displaying a figure adds the
    FIGURE_MIME data: the PNG's smallest text and dpi, and the phone rendering. (A subprocess: an
    IPython shell changes process-wide hooks.)"""
    import json
    import subprocess

    proc = subprocess.run([sys.executable, "-c", _IPYTHON_DISPLAY], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    assert {"image/png", viz.FIGURE_MIME} <= set(result["mimes"])
    variants = result["variants"]
    assert variants["text_pt"] == 7 and variants["dpi"] == 100
    phone = variants["phone"]
    assert phone["size"] == [phone["width"], phone["height"]]
    assert viz.text_px(phone["text_pt"], phone["dpi"], phone["width"]) >= viz.PHONE_TEXT_PX


@pytest.mark.parametrize(("draw", "grid"), [("plot", (4, 1)), ("imshow", (2, 2))])
def test_graph_panels_go_one_per_row_and_picture_panels_two(draw, grid):
    """Four panels in a row, 9.6 inches wide: graphs need their width (tick labels), pictures
    (images, 3D, axes turned off) can go two to a row."""
    viz.use_korean_font()
    fig, axes = plt.subplots(1, 4, figsize=(9.6, 2.4))
    for ax in axes:
        ax.imshow([[0, 1], [1, 0]]) if draw == "imshow" else ax.plot([0, 1], [1, 0])
    copy = viz._detached_copy(fig)
    viz._relayout(copy)
    assert {ax.get_subplotspec().get_gridspec().get_geometry() for ax in copy.axes} == {grid}
    assert copy.get_size_inches()[0] == viz.PHONE_WIDTH_IN
