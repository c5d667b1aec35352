"""Run by every lesson kernel before its first cell (IPKernelApp.exec_files): figure alt text, and
warnings that name their cell.

nbconvert gives every image the alt text "No description has been provided for this image".
Here each figure the inline backend displays carries its own description in the output's metadata,
`metadata["image/png"]["alt"]`, which the site uses as the <img> alt text:

- the figure's label if the lesson set one (`fig.set_label("...")` or `plt.figure("...")`), else
- its suptitle followed by its axes' titles: "제목: 패널 1; 패널 2".

The site refuses a figure whose alt text has no Hangul (see lesson_markdown.py).

A warning raised by a lesson's own code names its cell the way tracebacks do, "Cell In[7], line 3",
instead of IPython's temporary file for the cell; the build (lesson_kernel.py) turns that into the line
of lessons/NN_name.py. This file only runs in the build's kernels; a downloaded notebook does not need it.
"""

from __future__ import annotations


def figure_alt(fig) -> str:
    """Describe a matplotlib figure from its label, suptitle and axes titles."""
    label = (fig.get_label() or "").strip()
    if label:
        return label
    suptitle = fig._suptitle.get_text().strip() if getattr(fig, "_suptitle", None) else ""
    titles = []
    for ax in fig.axes:
        title = " ".join(t for t in (ax.get_title(loc) for loc in ("left", "center", "right")) if t)
        if title.strip():
            titles.append(title.strip())
    if suptitle and titles:
        text = f"{suptitle}: {'; '.join(titles)}"
    else:
        text = suptitle or "; ".join(titles)
    return text.replace("$", "")  # mathtext delimiters mean nothing in plain text


def install() -> None:
    """Make the inline backend attach figure_alt(fig) to every figure it displays."""
    from matplotlib_inline import backend_inline

    original = backend_inline._fetch_figure_metadata

    def fetch_figure_metadata(fig, _original=original, _alt=figure_alt):
        metadata = dict(_original(fig) or {})
        alt = _alt(fig)
        if alt:
            metadata["image/png"] = {**metadata.get("image/png", {}), "alt": alt}
        return metadata or None

    backend_inline._fetch_figure_metadata = fetch_figure_metadata


def name_cells_in_warnings() -> None:
    """warnings.formatwarning, with a cell's temporary file shown as "Cell In[n], line m"."""
    import linecache
    import warnings

    from IPython import get_ipython

    original = warnings.formatwarning

    def formatwarning(message, category, filename, lineno, line=None, _original=original):
        label = get_ipython().compile.format_code_name(filename)
        if label is None:
            return _original(message, category, filename, lineno, line)
        if line is None:
            line = linecache.getline(filename, lineno)
        text = f"{label[0]} {label[1]}, line {lineno}: {category.__name__}: {message}\n"
        return text + (f"  {line.strip()}\n" if line and line.strip() else "")

    warnings.formatwarning = formatwarning


if __name__ == "__main__":  # inside the kernel: patch, then leave the user's namespace clean
    install()
    name_cells_in_warnings()
    del figure_alt, install, name_cells_in_warnings, annotations
