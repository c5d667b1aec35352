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

휴대폰에서 읽히는 그림 (phone rendering)
  강의 사이트는 그림을 본문 폭에 맞춰 줄여 보여 줍니다. 폭 390 px인 휴대폰에서 본문 폭은
  342 CSS px이라, 9.6인치짜리 그림의 10 pt 글자는 5 px 남짓으로 작아져 읽을 수 없습니다.
  그래서 :func:`use_korean_font`는 IPython 커널 안에서 그림마다 두 번째 그림, 즉 휴대폰용
  그림을 함께 만들게 합니다(:func:`figure_variants`). 패널을 한 줄에 적게 다시 배치하고
  폭을 줄인 뒤, 그래도 작은 글자는 키워서 가장 작은 글자가 휴대폰 화면에서
  ``PHONE_TEXT_PX``(CSS px) 이상이 되게 합니다. 사이트(hooks/lesson_markdown.py)는 좁은
  화면에서 이 그림을 보여 줍니다. 강의 코드는 아무것도 바꿀 필요가 없습니다.
"""

from __future__ import annotations

import base64
import importlib.util
import io
import math
import pickle
import warnings
from contextlib import contextmanager
from pathlib import Path

import matplotlib
from matplotlib import font_manager

__all__ = [
    "FIGURE_MIME",
    "KOREAN_FONT",
    "PHONE_CSS_WIDTH",
    "PHONE_TEXT_PX",
    "figure_variants",
    "find_korean_font",
    "phone_figure",
    "text_sizes",
    "use_korean_font",
]

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
    _register_figure_variants()


# ── 휴대폰용 그림 ─────────────────────────────────────────────────────────────────────────────────

# 폭 390 px 휴대폰에서 강의 본문(그림이 놓이는 칸)의 폭, CSS px. tests/test_browser.py가 실제
# 페이지에서 잽니다.
PHONE_CSS_WIDTH = 342
# 휴대폰용 그림에서 가장 작은 글자의 목표 크기, CSS px (사이트 테스트의 하한은 9 px).
PHONE_TEXT_PX = 10.5
# 휴대폰용 그림의 폭, 인치. 10 pt 글자가 본문 폭 342 px에서 약 12 px이 됩니다.
PHONE_WIDTH_IN = 4.0
# 패널 하나의 세로/가로 비율의 상한 (이미지가 없는 패널). 세로로 쌓인 패널이 너무 길지 않게.
PHONE_PANEL_ASPECT = 0.8
# 그림 같은 패널(이미지, 3D, 축 없는 패널)은 눈금 글자가 붙지 않으니 이 폭(인치)까지 줄여
# 한 줄에 여럿 놓습니다. 그래프 패널은 원래 폭을 지킵니다.
PHONE_PICTURE_MIN_IN = 1.9
# 그림 출력에 덧붙는 자료의 MIME 형식: 원래 그림의 글자 크기와 dpi, 휴대폰용 PNG.
FIGURE_MIME = "application/vnd.bnref.figure+json"
_PAD_IN = 0.1  # savefig(bbox_inches="tight")의 기본 여백 (rcParams["savefig.pad_inches"])


@contextmanager
def _recording_text_sizes(sizes: list[float]):
    """이 블록 안에서 Agg가 실제로 그리는 글자(빈 문자열 제외)의 크기(pt)를 `sizes`에 모읍니다.

    Text 객체를 세면 ``ax.axis("off")``로 숨긴 눈금 글자처럼 그려지지 않는 것까지 셉니다.
    렌더러가 그리는 순간을 잡으면 그림에 실제로 보이는 글자만 남습니다.
    """
    from matplotlib.backends.backend_agg import RendererAgg

    original = RendererAgg.draw_text

    def draw_text(self, gc, x, y, s, prop, angle, ismath=False, mtext=None):
        if s.strip():
            sizes.append(prop.get_size_in_points())
        return original(self, gc, x, y, s, prop, angle, ismath=ismath, mtext=mtext)

    RendererAgg.draw_text = draw_text
    try:
        yield sizes
    finally:
        RendererAgg.draw_text = original


def text_sizes(fig) -> list[float]:
    """그림을 그려서, 실제로 그려진 글자들의 크기(pt)를 돌려줍니다."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    sizes: list[float] = []
    canvas = fig.canvas if isinstance(fig.canvas, FigureCanvasAgg) else FigureCanvasAgg(fig)
    with _recording_text_sizes(sizes):
        canvas.draw()
    return sizes


def _tight_width_in(fig) -> float:
    """savefig(bbox_inches="tight")로 저장한 그림의 폭(인치)."""
    renderer = fig.canvas.get_renderer()
    return fig.get_tightbbox(renderer).width + 2 * _PAD_IN


def text_px(text_pt: float, dpi: float, png_width: int, css_width: float = PHONE_CSS_WIDTH) -> float:
    """폭 `png_width` px, `dpi`로 그린 그림이 CSS 폭 `css_width`(원래 폭보다 넓게 늘리지 않음)로
    보일 때 `text_pt` 크기 글자의 CSS px.

    >>> round(text_px(10, 100, 640), 2)   # 6.4인치 그림의 10 pt 글자, 휴대폰에서
    7.42
    >>> round(text_px(10, 100, 300), 2)   # 본문보다 좁은 그림은 원래 크기로
    13.89
    """
    return text_pt / 72 * dpi * min(css_width, png_width) / png_width


def _detached_copy(fig):
    """pyplot에 등록되지 않은 그림의 복사본 (pickle). 원래 그림과 pyplot의 상태는 그대로입니다."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    class _Pickler(pickle.Pickler):
        def reducer_override(self, obj):
            if obj is fig:  # 복사본이 pyplot의 그림 목록(Gcf)에 끼어들지 않게 합니다
                state = obj.__getstate__()
                state.pop("_restore_to_pylab", None)
                return Figure.__new__, (Figure,), state
            return NotImplemented

    buffer = io.BytesIO()
    _Pickler(buffer, protocol=pickle.HIGHEST_PROTOCOL).dump(fig)
    copy = pickle.loads(buffer.getvalue())
    FigureCanvasAgg(copy)
    return copy


def _grid_of(fig):
    """그림의 모든 Axes가 한 GridSpec의 칸 하나씩을 차지하면 (gridspec, [(ax, 행, 열)]), 아니면 None.

    twinx/twiny로 만든 Axes는 원래 Axes와 같은 칸을 씁니다. 손으로 위치를 정한 Axes
    (fig.add_axes), 여러 칸에 걸친 Axes, 중첩된 GridSpec이 있으면 다시 배치하지 않습니다.
    """
    from matplotlib.gridspec import GridSpec

    cells, grids = [], set()
    for ax in fig.axes:
        spec = ax.get_subplotspec()
        if spec is None or type(spec.get_gridspec()) is not GridSpec:
            return None
        if len(spec.rowspan) != 1 or len(spec.colspan) != 1:
            return None
        grids.add(spec.get_gridspec())
        cells.append((ax, spec.rowspan.start, spec.colspan.start))
    if len(grids) != 1:
        return None
    return grids.pop(), cells


def _relayout(fig) -> None:
    """복사본 `fig`를 폭 PHONE_WIDTH_IN 인치로 다시 배치합니다: 한 줄의 패널 수를 줄이고
    (원래 패널 폭이 들어가는 만큼, 원래 열 수의 약수로), 행을 늘립니다."""
    from matplotlib.gridspec import GridSpec

    width, height = fig.get_size_inches()
    grid = _grid_of(fig)
    if grid is None:  # 다시 배치할 수 없는 그림: 폭만 줄이고 비율은 유지
        fig.set_size_inches(PHONE_WIDTH_IN, height * PHONE_WIDTH_IN / width)
        return
    gridspec, cells = grid
    rows, cols = gridspec.get_geometry()
    panel_w, panel_h = width / cols, height / rows
    pictures = all(ax.name == "3d" or ax.get_images() or not ax.axison for ax, _, _ in cells)
    fits = max(1.0, PHONE_WIDTH_IN / (min(panel_w, PHONE_PICTURE_MIN_IN) if pictures else panel_w))
    per_row = max(d for d in range(1, cols + 1) if cols % d == 0 and d <= fits)
    new_rows = rows * (cols // per_row)
    aspect = panel_h / panel_w
    if not any(ax.get_images() for ax, _, _ in cells):  # 그래프 패널은 너무 길쭉하지 않게
        aspect = min(aspect, PHONE_PANEL_ASPECT)
    new_height = new_rows * PHONE_WIDTH_IN / per_row * aspect
    if fig._suptitle is not None and fig._suptitle.get_text():
        new_height += 0.4
    new_grid = GridSpec(new_rows, per_row, figure=fig)
    for ax, row, col in cells:
        index = row * cols + col
        ax.set_subplotspec(new_grid[index // per_row, index % per_row])
    fig.set_size_inches(PHONE_WIDTH_IN, new_height)
    try:
        fig.set_layout_engine("constrained")
    except RuntimeError:  # 컬러바가 있어 바꿀 수 없는 레이아웃 엔진
        fig.set_layout_engine("tight")


def _enlarge_text(fig, min_pt: float) -> None:
    """`min_pt`보다 작은 글자를 모두 `min_pt`로 키웁니다 (큰 글자는 그대로)."""
    from matplotlib.text import Text

    ticks = set()
    for ax in fig.axes:
        for axis in ax._axis_map.values():
            labels = axis.get_ticklabels(which="both")
            ticks.update(labels)
            if any(label.get_fontsize() < min_pt for label in labels):
                axis.set_tick_params(which="both", labelsize=min_pt)
    for text in fig.findobj(lambda a: isinstance(a, Text)):
        if text not in ticks and text.get_fontsize() < min_pt:
            text.set_fontsize(min_pt)


def phone_figure(fig) -> dict:
    """`fig`의 휴대폰용 그림: 다시 배치한 복사본을 PNG로 그립니다. 원래 그림은 바뀌지 않습니다.

    돌려주는 값: ``{"png": PNG 바이트, "width", "height": 픽셀, "dpi", "text_pt": 가장 작은 글자(pt)}``.
    가장 작은 글자가 본문 폭(PHONE_CSS_WIDTH)에서 PHONE_TEXT_PX 이상이 되게 작은 글자를 키웁니다
    (그림의 폭을 어림해 키운 뒤 그려 보고, 모자라면 실제 폭으로 한 번 더). PNG는 본문 폭의 두 배
    픽셀로 그려 고해상도 화면에서도 선명합니다.
    """
    copy = _detached_copy(fig)
    _relayout(copy)
    width_in = PHONE_WIDTH_IN + 2 * _PAD_IN  # savefig(bbox_inches="tight")의 폭, 어림값
    for _ in range(3):
        _enlarge_text(copy, math.ceil(PHONE_TEXT_PX * 72 * width_in / PHONE_CSS_WIDTH * 4) / 4)
        dpi = math.ceil(2 * PHONE_CSS_WIDTH / width_in)
        sizes: list[float] = []
        buffer = io.BytesIO()
        with _recording_text_sizes(sizes):
            copy.savefig(buffer, format="png", dpi=dpi, bbox_inches="tight", facecolor=copy.get_facecolor())
        png = buffer.getvalue()
        width, height = _png_size(png)
        if not sizes or text_px(min(sizes), dpi, width) >= PHONE_TEXT_PX - 1e-6:
            break
        width_in = width / dpi  # 글자가 그림 밖으로 나가 폭이 어림보다 넓었습니다
    return {"png": png, "width": width, "height": height, "dpi": dpi, "text_pt": min(sizes, default=None)}


def _png_size(png: bytes) -> tuple[int, int]:
    import struct

    return struct.unpack(">II", png[16:24])


def _inline_dpi(fig) -> float:
    """IPython의 inline 백엔드가 이 그림의 image/png를 그리는 dpi."""
    try:
        from matplotlib_inline.config import InlineBackend
    except ImportError:
        return fig.dpi
    config = InlineBackend.instance()
    dpi = config.print_figure_kwargs.get("dpi", fig.dpi)
    return dpi * 2 if "retina" in config.figure_formats else dpi


def figure_variants(fig) -> dict | None:
    """그림 출력에 덧붙일 자료 (MIME 형식 FIGURE_MIME, JSON).

    ``{"dpi": 원래 그림(image/png)의 dpi, "text_pt": 그 그림의 가장 작은 글자(pt),
    "phone": {"png": base64, "width", "height", "dpi", "text_pt"}}``. 원래 그림이 휴대폰
    본문 폭에서도 PHONE_TEXT_PX 이상으로 읽히면 "phone"은 없습니다. 빈 그림이면 None.
    """
    if not fig.axes and not fig.lines:
        return None  # IPython도 빈 그림은 보여 주지 않습니다
    dpi = _inline_dpi(fig)
    # image/png를 그릴 때 잰 값 (_register_figure_variants), 없으면 여기서 그려서 잽니다.
    measured = fig.__dict__.pop("_bnref_png_text", None)
    if measured is None:
        sizes = text_sizes(fig)
        measured = (min(sizes, default=None), _tight_width_in(fig) * dpi)
    text_pt, width_px = measured
    result = {"dpi": dpi, "text_pt": text_pt}
    if text_pt is not None and text_px(text_pt, dpi, width_px) < PHONE_TEXT_PX:
        phone = phone_figure(fig)
        phone["png"] = base64.b64encode(phone["png"]).decode("ascii")
        result["phone"] = phone
    return result


def _register_figure_variants() -> None:
    """IPython 커널 안이면, 그림을 보여 줄 때마다 figure_variants(fig)를 FIGURE_MIME으로 덧붙입니다.

    inline 백엔드가 image/png를 그리는 함수도 감싸서, 그리는 김에 글자 크기와 PNG 폭을 잽니다
    (그림을 한 번 더 그리지 않으려고). image/png 형식이 나중에 다시 설정되면 figure_variants가
    직접 그려서 잽니다.
    """
    try:
        from IPython import get_ipython
    except ImportError:
        return
    shell = get_ipython()
    if shell is None or not hasattr(shell, "display_formatter"):
        return
    from matplotlib.figure import Figure

    formatters = shell.display_formatter.formatters
    png = formatters.get("image/png")
    try:
        draw_png = png.lookup_by_type(Figure) if png is not None else None
    except KeyError:
        draw_png = None
    if draw_png is not None and not getattr(draw_png, "_bnref_measures", False):

        def measured_png(fig, _draw_png=draw_png):
            sizes: list[float] = []
            with _recording_text_sizes(sizes):
                data = _draw_png(fig)
            if data:
                raw = base64.b64decode(data[:44]) if isinstance(data, str) else data
                fig._bnref_png_text = (min(sizes, default=None), _png_size(raw)[0])
            return data

        measured_png._bnref_measures = True
        png.for_type(Figure, measured_png)
    if FIGURE_MIME in formatters:
        return
    from IPython.core.formatters import BaseFormatter
    from traitlets import ObjectName, Unicode

    class FigureVariantsFormatter(BaseFormatter):
        format_type = Unicode(FIGURE_MIME)
        print_method = ObjectName("_repr_bnref_figure_")
        _return_type = dict

    formatter = FigureVariantsFormatter(parent=shell.display_formatter)
    formatter.for_type(Figure, figure_variants)
    formatters[FIGURE_MIME] = formatter
