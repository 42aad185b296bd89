"""Self-contained HTML reports (figures embedded as PNG data URIs, tables, provenance)::

    rep = Report("Attractor census at J = 1.5, lam = 1.0")
    rep.heading("Attractors"); rep.table(df); rep.figure(fig, caption="X_B-Y_B")
    rep.provenance(seed=1, options=opts); rep.write("results/report.html")

One file, no external resources: it opens from a mail attachment or an archive as well as from
disk. A table of contents is built from the headings; provenance is written once, at the end;
docstring markup in texts and captions is rendered (:func:`rst_to_html`), never shown raw;
numbers are rounded (:func:`format_number`, :func:`format_value_error`); tables wrap or scroll
inside themselves, so the page never gets wider than the window.
"""
from __future__ import annotations

import base64
import html
import io
import json
import math
import re
from pathlib import Path
from typing import Any

import pandas as pd

from analysis.provenance import provenance as _provenance

__all__ = ["Report", "format_number", "format_error", "format_value_error", "rst_to_html", "strip_rst"]

_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;
color:#1d1d1f;line-height:1.45;overflow-wrap:break-word}
h1{font-size:1.7em;border-bottom:2px solid #3b6ea5;padding-bottom:.2em}
h2{font-size:1.3em;margin-top:1.6em;color:#3b6ea5}
h3{font-size:1.1em;margin-top:1.2em}
nav.toc{background:#f6f8fa;border:1px solid #dde;padding:.4em 1em;margin:1em 0;font-size:.9em}
nav.toc ul{margin:.2em 0;padding-left:1.2em}nav.toc>ul{columns:2;column-gap:2em}nav.toc li{break-inside:avoid}
table{border-collapse:collapse;font-size:.85em;margin:.6em 0;display:block;max-width:100%;overflow-x:auto}
th,td{border:1px solid #ccd;padding:.25em .55em;text-align:left;vertical-align:top}
td{max-width:30em;white-space:normal;overflow-wrap:break-word}td.num{white-space:nowrap}
th{background:#eef2f8}td:first-child,th:first-child{text-align:left}td.text{text-align:left}
figure{margin:1em 0}figure img{max-width:100%;height:auto;border:1px solid #dde}
figcaption{font-size:.85em;color:#444;max-width:60em}figcaption p{margin:.3em 0}
code{font-size:.9em;background:#f3f4f6;padding:0 .2em;border-radius:3px}
.note{background:#fff8e5;border-left:4px solid #e0a800;padding:.5em 1em}.ok{color:#18794e}.bad{color:#b42318}
pre{background:#f6f8fa;padding:.8em;overflow-x:auto;font-size:.8em;white-space:pre-wrap}
a.top{font-size:.75em;font-weight:normal;margin-left:.6em;color:#888;text-decoration:none}
"""

#: numbers below this magnitude are shown as 0 in tables (the default; see :func:`format_number`)
TINY = 1e-12


def format_number(v, *, digits: int = 4, tiny: float = TINY) -> str:
    """A float for people: ``digits`` significant digits, no ``6.54205e-18``.

    Integers print as integers; ``|v| < tiny`` prints as ``0``; very large or small magnitudes
    use a short exponent (``1.2e-05``); NaN prints as an empty string.

    >>> format_number(6.54205e-18), format_number(0.123456), format_number(3.0), format_number(2.5e-5)
    ('0', '0.1235', '3', '2.5e-05')
    """
    try:
        x = float(v)
    except (TypeError, ValueError):
        return str(v)
    if not math.isfinite(x):
        return "" if math.isnan(x) else ("inf" if x > 0 else "-inf")
    if abs(x) < tiny:
        return "0"
    if x == round(x) and abs(x) < 1e15:
        return str(int(round(x)))
    a = abs(x)
    if 1e-4 <= a < 1e6:
        s = f"{x:.{digits}g}"
        return s
    m, e = f"{x:.{max(digits - 2, 1)}e}".split("e")
    m = m.rstrip("0").rstrip(".")
    return f"{m}e{int(e):+03d}"


def format_error(err, *, tiny: float = TINY) -> str:
    """An uncertainty with two significant digits; ``< 1e-12`` below ``tiny`` (a fixed point's
    round-off, not a statistical error)."""
    try:
        e = abs(float(err))
    except (TypeError, ValueError):
        return str(err)
    if not math.isfinite(e):
        return ""
    if e < tiny:
        return f"< {tiny:.0e}"
    return format_number(e, digits=2, tiny=0.0)


def format_value_error(v, err, *, tiny: float = TINY) -> str:
    """``v ± err`` with ``v`` rounded to the error's last significant digit (two digits of the error),
    e.g. ``0.9312 ± 0.0041``; a tiny error gives ``v (± < 1e-12)`` with ``v`` to 6 digits."""
    try:
        x, e = float(v), abs(float(err))
    except (TypeError, ValueError):
        return f"{v} ± {err}"
    if not math.isfinite(x):
        return format_number(x)
    if not math.isfinite(e):
        return format_number(x)
    if e < tiny:
        return f"{format_number(x, digits=6)} (± {format_error(e, tiny=tiny)})"
    dec = max(0, 1 - int(math.floor(math.log10(e))))
    return f"{x:.{dec}f} ± {e:.{dec}f}"


_ROLE = re.compile(r":(?:py:)?(?:func|class|data|mod|meth|attr|obj|exc|ref|doc):`~?([^`<]+?)(?:\s*<[^>]*>)?`")
_LITERAL = re.compile(r"``(.+?)``")
_INTERP = re.compile(r"(?<![`\w])`([^`]+?)`(?![`\w])")
_EMPH = re.compile(r"(?<![\w*])\*([^*\s][^*]*?)\*(?![\w*])")


def rst_to_html(text: str) -> str:
    """Render the reStructuredText that docstrings use into HTML (never raw markup on the page).

    Roles (``:func:`a.b```) and literals (````x````) become ``<code>``, ``*x*`` emphasis, bullet
    lines (``* ...`` or ``- ...``) a list, simple tables (``===`` rules) are dropped to their rows,
    blank lines separate paragraphs; everything else is escaped.
    """
    paras = re.split(r"\n\s*\n", str(text).strip())
    out = []
    for para in paras:
        lines = [ln for ln in para.splitlines() if not re.fullmatch(r"\s*=+(\s+=+)*\s*", ln)]
        if not lines:
            continue
        if all(re.match(r"\s*[*-]\s", ln) or (k and ln.startswith("  ")) for k, ln in enumerate(lines)):
            items, cur = [], []
            for ln in lines:
                if re.match(r"\s*[*-]\s", ln):
                    if cur:
                        items.append(" ".join(cur))
                    cur = [re.sub(r"^\s*[*-]\s+", "", ln)]
                else:
                    cur.append(ln.strip())
            if cur:
                items.append(" ".join(cur))
            out.append("<ul>" + "".join(f"<li>{_inline(i)}</li>" for i in items) + "</ul>")
            continue
        # "(a) ...", "(b) ..." lines keep their line breaks
        if sum(1 for ln in lines if re.match(r"\s*\([a-z]\)\s", ln)) >= 2:
            parts, cur = [], []
            for ln in lines:
                if re.match(r"\s*\([a-z]\)\s", ln) and cur:
                    parts.append(" ".join(cur))
                    cur = []
                cur.append(ln.strip())
            parts.append(" ".join(cur))
            out.append("<p>" + "<br/>".join(_inline(x) for x in parts) + "</p>")
            continue
        out.append(f"<p>{_inline(' '.join(ln.strip() for ln in lines))}</p>")
    return "".join(out)


def _inline(s: str) -> str:
    codes: list[str] = []

    def keep(m):
        codes.append(m.group(1))
        return f"\x00{len(codes) - 1}\x00"

    s = _ROLE.sub(keep, s)
    s = _LITERAL.sub(keep, s)
    s = _INTERP.sub(keep, s)
    s = html.escape(s)
    s = _EMPH.sub(r"<em>\1</em>", s)
    return re.sub("\x00(\\d+)\x00", lambda m: f"<code>{html.escape(codes[int(m.group(1))])}</code>", s)


def strip_rst(text: str) -> str:
    """Plain text of docstring markup (roles and literals unwrapped), whitespace collapsed."""
    s = _ROLE.sub(r"\1", str(text))
    s = _LITERAL.sub(r"\1", s)
    s = _INTERP.sub(r"\1", s)
    return " ".join(s.split())


def _slug(text: str, used: set) -> str:
    base = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "section"
    slug, k = base, 2
    while slug in used:
        slug, k = f"{base}-{k}", k + 1
    used.add(slug)
    return slug


class Report:
    """An HTML report assembled in order; :meth:`write` produces one self-contained file.

    Headings are collected into a table of contents at the top; provenance given by any number of
    :meth:`provenance` calls is merged and written once, at the end; text and captions may use
    docstring markup (rendered by :func:`rst_to_html`); table numbers are rounded
    (:func:`format_number`, values with a ``<name>_err`` column to the error's digits).
    """

    def __init__(self, title: str, *, toc: bool = True):
        self.title = str(title)
        self.toc = bool(toc)
        self._parts: list[str] = []
        self._n_fig = 0
        self._headings: list[tuple[int, str, str]] = []
        self._slugs: set = set()
        self._prov: dict[str, Any] = {}
        self._prov_sections: dict[str, Any] = {}
        #: text-layout problems (:func:`analysis.style.layout_problems`) of each embedded figure,
        #: keyed by the figure's number
        self.layout_problems: dict[int, list[str]] = {}

    # -- content ------------------------------------------------------------------------------
    def heading(self, text: str, level: int = 2) -> "Report":
        if level not in (2, 3, 4):
            raise ValueError(f"heading level must be 2, 3 or 4, got {level}")
        slug = _slug(str(text), self._slugs)
        self._headings.append((level, str(text), slug))
        self._parts.append(f'<h{level} id="{slug}">{html.escape(str(text))}'
                           + ('<a class="top" href="#contents">contents</a>' if level == 2 and self.toc else "")
                           + f"</h{level}>")
        return self

    def text(self, text: str, *, cls: str | None = None, markup: bool = True) -> "Report":
        """Paragraphs (blank lines separate them); docstring markup rendered unless ``markup=False``
        (then the text is shown preformatted-free and escaped)."""
        attr = f' class="{cls}"' if cls else ""
        if markup:
            body = rst_to_html(text)
            self._parts.append(f"<div{attr}>{body}</div>" if cls else body)
        else:
            for para in str(text).split("\n\n"):
                self._parts.append(f"<p{attr}>{html.escape(para.strip())}</p>")
        return self

    def code(self, text: str, *, cls: str | None = None) -> "Report":
        """A preformatted block (tracebacks, commands)."""
        attr = f' class="{cls}"' if cls else ""
        self._parts.append(f"<pre{attr}>{html.escape(str(text))}</pre>")
        return self

    def table(self, df: pd.DataFrame, *, caption: str | None = None, float_format: str | None = None,
              max_rows: int = 200, digits: int = 4, tiny: float = TINY) -> "Report":
        """A table (the first ``max_rows`` rows; the count of the rest is said).

        Floats are rounded to ``digits`` significant digits, magnitudes below ``tiny`` shown as 0;
        a column ``x`` with a partner ``x_err`` is shown as ``x ± err`` rounded to the error's
        digits (the ``x_err`` column is then dropped). ``float_format`` (e.g. ``"{:.6g}"``)
        overrides the rounding.
        """
        if not isinstance(df, pd.DataFrame):
            raise TypeError(f"table expects a pandas DataFrame, got {type(df).__name__}")
        shown = df.head(max_rows).copy()
        if float_format is None:
            for c in list(shown.columns):
                ec = f"{c}_err"
                if ec in shown and pd.api.types.is_numeric_dtype(shown[c]):
                    # an error below ``tiny`` is round-off (a fixed point): the value alone
                    shown[c] = [format_value_error(v, e, tiny=tiny)
                                if abs(float(e)) >= tiny or not math.isfinite(float(e))
                                else format_number(v, digits=6, tiny=tiny) for v, e in zip(shown[c], shown[ec])]
                    shown = shown.drop(columns=[ec])
            for c in shown.columns:
                if pd.api.types.is_float_dtype(shown[c]):
                    shown[c] = [format_number(v, digits=digits, tiny=tiny) for v in shown[c]]
                elif shown[c].dtype == object:
                    # long "FP+LC+CH" or "0.5,0.25" strings may wrap after + and , (zero-width space)
                    shown[c] = [format_number(v, digits=digits, tiny=tiny) if isinstance(v, float)
                                else (re.sub(r"([+,;])(?=\S)", "\\1\u200b", v) if isinstance(v, str) else v)
                                for v in shown[c]]
            body = shown.to_html(index=False, border=0, na_rep="", escape=True)
        else:
            body = shown.to_html(index=False, float_format=lambda v: float_format.format(v), border=0, na_rep="")
        cap = f"<p><em>{_inline(caption)}</em></p>" if caption else ""
        more = f"<p>({len(df) - max_rows} more rows in the table file)</p>" if len(df) > max_rows else ""
        self._parts.append(cap + body + more)
        return self

    def _figure_html(self, data: str, caption: str | None) -> str:
        self._n_fig += 1
        cap = (f"<figcaption><strong>Figure {self._n_fig}.</strong> {rst_to_html(caption)}</figcaption>"
               if caption else "")
        return f'<figure><img alt="figure {self._n_fig}" src="data:image/png;base64,{data}"/>{cap}</figure>'

    def figure(self, fig, *, caption: str | None = None, dpi: int = 110, check_layout: bool = True) -> "Report":
        """A matplotlib figure, embedded as a PNG data URI; the caption is shown whole (docstring
        markup rendered). With ``check_layout`` its text layout is checked first and any overlap
        recorded in :attr:`layout_problems`."""
        if check_layout:
            from analysis.style import layout_problems

            probs = layout_problems(fig)
            if probs:
                self.layout_problems[self._n_fig + 1] = probs
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight")
        data = base64.b64encode(buf.getvalue()).decode("ascii")
        self._parts.append(self._figure_html(data, caption))
        return self

    def image(self, path: str | Path, *, caption: str | None = None) -> "Report":
        """An existing PNG file, embedded."""
        data = base64.b64encode(Path(path).read_bytes()).decode("ascii")
        self._parts.append(self._figure_html(data, caption))
        return self

    def provenance(self, section: str | None = None, **extra: Any) -> "Report":
        """Record versions, commit, seeds and options; written once, at the end of the report.

        Calls without ``section`` update the report's own entries; with ``section`` (e.g. the title
        of an appended point report) the entries are kept under that name.
        """
        if section is None:
            self._prov.update(extra)
        else:
            self._prov_sections.setdefault(str(section), {}).update(extra)
        return self

    # -- output -------------------------------------------------------------------------------
    def _toc_html(self) -> str:
        if not self.toc or not self._headings:
            return ""
        out, open_sub = ['<nav class="toc" id="contents"><strong>Contents</strong><ul>'], False
        for level, text, slug in self._headings:
            if level == 2:
                if open_sub:
                    out.append("</ul></li>")
                    open_sub = False
                elif len(out) > 1:
                    out.append("</li>")
                out.append(f'<li><a href="#{slug}">{html.escape(text)}</a>')
            elif level == 3:
                if not open_sub:
                    out.append("<ul>")
                    open_sub = True
                out.append(f'<li><a href="#{slug}">{html.escape(text)}</a></li>')
        out.append("</ul></li>" if open_sub else "</li>")
        out.append("</ul></nav>")
        return "".join(out)

    def _provenance_slug(self) -> str:
        return "provenance" if "provenance" not in self._slugs else "provenance-of-the-report"

    def _provenance_html(self) -> str:
        if not self._prov and not self._prov_sections:
            return ""
        extra = dict(self._prov)
        if self._prov_sections:
            extra["sections"] = self._prov_sections
        meta = _provenance(**extra)
        return (f'<h2 id="{self._provenance_slug()}">Provenance</h2>'
                f"<pre>{html.escape(json.dumps(meta, indent=2, default=str))}</pre>")

    def to_html(self) -> str:
        prov = self._provenance_html()
        headings = self._headings
        if prov:
            self._headings = headings + [(2, "Provenance", self._provenance_slug())]
        try:
            toc = self._toc_html()
        finally:
            self._headings = headings
        body = "\n".join(self._parts)
        return (f"<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"/>"
                f"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"/>"
                f"<title>{html.escape(self.title)}</title><style>{_CSS}</style></head>"
                f"<body><h1>{html.escape(self.title)}</h1>\n{toc}\n{body}\n{prov}\n</body></html>\n")

    def write(self, path: str | Path) -> Path:
        p = Path(path)
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(self.to_html(), encoding="utf-8")
        return p
