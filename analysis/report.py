"""Self-contained HTML reports (figures embedded as PNG data URIs, tables, provenance).

>>> rep = Report("Attractor census at J = 1.5, lam = 1.0")
>>> rep.heading("Attractors"); rep.table(df); rep.figure(fig, caption="X_B-Y_B")
>>> rep.provenance(seed=1, options=opts); rep.write("results/report.html")

One file, no external resources: it opens from a mail attachment or an archive as well as from
disk.
"""
from __future__ import annotations

import base64
import html
import io
import json
from pathlib import Path
from typing import Any

import pandas as pd

from analysis.provenance import provenance as _provenance

__all__ = ["Report"]

_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;
color:#1d1d1f;line-height:1.45}
h1{font-size:1.7em;border-bottom:2px solid #3b6ea5;padding-bottom:.2em}h2{font-size:1.3em;margin-top:1.6em;color:#3b6ea5}
table{border-collapse:collapse;font-size:.85em;margin:.6em 0}th,td{border:1px solid #ccd;padding:.25em .55em;text-align:right}
th{background:#eef2f8}td:first-child,th:first-child{text-align:left}figure{margin:1em 0}
figure img{max-width:100%;border:1px solid #dde}figcaption{font-size:.85em;color:#555}
.note{background:#fff8e5;border-left:4px solid #e0a800;padding:.5em 1em}.ok{color:#18794e}.bad{color:#b42318}
pre{background:#f6f8fa;padding:.8em;overflow-x:auto;font-size:.8em}
"""


class Report:
    """An HTML report assembled in order; :meth:`write` produces one self-contained file."""

    def __init__(self, title: str):
        self.title = str(title)
        self._parts: list[str] = []
        self._n_fig = 0

    # -- content ------------------------------------------------------------------------------
    def heading(self, text: str, level: int = 2) -> "Report":
        if level not in (2, 3, 4):
            raise ValueError(f"heading level must be 2, 3 or 4, got {level}")
        self._parts.append(f"<h{level}>{html.escape(text)}</h{level}>")
        return self

    def text(self, text: str, *, cls: str | None = None) -> "Report":
        """A paragraph (plain text; blank lines separate paragraphs)."""
        for para in str(text).split("\n\n"):
            attr = f' class="{cls}"' if cls else ""
            self._parts.append(f"<p{attr}>{html.escape(para.strip())}</p>")
        return self

    def table(self, df: pd.DataFrame, *, caption: str | None = None, float_format: str = "{:.6g}",
              max_rows: int = 200) -> "Report":
        """A table (the first ``max_rows`` rows; the count of the rest is said)."""
        if not isinstance(df, pd.DataFrame):
            raise TypeError(f"table expects a pandas DataFrame, got {type(df).__name__}")
        shown = df.head(max_rows)
        body = shown.to_html(index=False, float_format=lambda v: float_format.format(v), border=0, na_rep="")
        cap = f"<p><em>{html.escape(caption)}</em></p>" if caption else ""
        more = f"<p>({len(df) - max_rows} more rows in the table file)</p>" if len(df) > max_rows else ""
        self._parts.append(cap + body + more)
        return self

    def figure(self, fig, *, caption: str | None = None, dpi: int = 110) -> "Report":
        """A matplotlib figure, embedded as a PNG data URI."""
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight")
        data = base64.b64encode(buf.getvalue()).decode("ascii")
        self._n_fig += 1
        cap = f"<figcaption>Figure {self._n_fig}. {html.escape(caption)}</figcaption>" if caption else ""
        self._parts.append(f'<figure><img alt="figure {self._n_fig}" src="data:image/png;base64,{data}"/>{cap}</figure>')
        return self

    def image(self, path: str | Path, *, caption: str | None = None) -> "Report":
        """An existing PNG file, embedded."""
        data = base64.b64encode(Path(path).read_bytes()).decode("ascii")
        self._n_fig += 1
        cap = f"<figcaption>Figure {self._n_fig}. {html.escape(caption)}</figcaption>" if caption else ""
        self._parts.append(f'<figure><img alt="figure {self._n_fig}" src="data:image/png;base64,{data}"/>{cap}</figure>')
        return self

    def provenance(self, **extra: Any) -> "Report":
        """Versions, commit, seeds and options, as a preformatted block."""
        meta = _provenance(**extra)
        self.heading("Provenance")
        self._parts.append(f"<pre>{html.escape(json.dumps(meta, indent=2))}</pre>")
        return self

    # -- output -------------------------------------------------------------------------------
    def to_html(self) -> str:
        body = "\n".join(self._parts)
        return (f"<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"/>"
                f"<title>{html.escape(self.title)}</title><style>{_CSS}</style></head>"
                f"<body><h1>{html.escape(self.title)}</h1>\n{body}\n</body></html>\n")

    def write(self, path: str | Path) -> Path:
        p = Path(path)
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(self.to_html(), encoding="utf-8")
        return p
