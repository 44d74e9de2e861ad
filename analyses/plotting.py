"""Shared figure output for the analyses: mplhep style and atomic PNG writes."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from evtgen.errors import PhiphiError


def check_png(path: str | os.PathLike) -> Path:
    """``path`` as a Path if it ends in .png and its directory is writable (one-line error otherwise)."""
    from evtgen.io import check_writable

    p = Path(path)
    if p.suffix.lower() != ".png":
        raise PhiphiError(f"plot file {str(path)!r} must end in .png")
    return check_writable(p)


def save_figure(fig: Any, path: str | os.PathLike, *, dpi: int = 120) -> Path:
    """Write ``fig`` as PNG via a hidden temporary file renamed on success; closes ``fig``."""
    import matplotlib.pyplot as plt

    from evtgen.io import atomic_path

    p = check_png(path)
    try:
        with atomic_path(p) as tmp:
            fig.savefig(tmp, format="png", dpi=dpi, bbox_inches="tight")
    finally:
        plt.close(fig)
    return p


def hep_style(func):
    """Decorator: draw inside ``mplhep``'s ROOT style (a context, so global rcParams are restored)."""
    import functools

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        import mplhep

        with plt.style.context(mplhep.style.ROOT):
            return func(*args, **kwargs)

    return wrapper
