"""One place for the look of every figure: colours of attractor kinds, colours of fixed-point
counts, one colour map per quantity, and a checker for overlapping or cut-off text.

* :data:`KIND_COLORS`: one colour per attractor kind (FP, LC, QP, CH, NEUTRAL, DIV, ``-1``
  undecided), used by the attractor map, the kind maps of :mod:`analysis.plots_phase`, the CLI's
  phase plot and the reports. None of them is a colour of :data:`COUNT_COLORS`.
* :data:`COUNT_COLORS`: the number of stable fixed points (Fig. 2): a single-hue blue ramp, so a
  count is never read as a kind.
* :data:`CMAPS`: the colour map of each quantity (magnetisations, Lyapunov exponents, Wigner
  functions, spin length, continuation parameter).
* :func:`kind_of`, :func:`phase_color`, :func:`phase_hatch`: the colour and hatching of a *set*
  of kinds such as ``FP+LC`` or ``2FP`` (colour of its most complex kind; hatched when more than
  one attractor coexists).
* :func:`layout_problems`: every pair of overlapping text boxes (tick labels, axis labels,
  titles, legends, annotations, colour-bar labels, inset axes) and every text cut off the canvas.
"""
from __future__ import annotations

import re
from typing import Iterable, Sequence

import numpy as np

__all__ = ["KIND_ORDER", "KIND_COLORS", "KIND_LABELS", "COUNT_COLORS", "IC_COLORS", "CMAPS", "cmap_for", "kind_of",
           "kind_color", "phase_kinds", "phase_color", "phase_hatch", "phase_hatch_color", "count_colors",
           "layout_problems"]

#: attractor kinds, simplest first (``-1``: undecided / unclassified)
KIND_ORDER = ("FP", "LC", "QP", "CH", "NEUTRAL", "DIV", "-1")

#: one colour per attractor kind, everywhere (no blue: blues are the fixed-point counts)
KIND_COLORS = {
    "FP": "#2e9e44",        # green: fixed point
    "LC": "#f28e2b",        # orange: limit cycle
    "QP": "#8e63b8",        # purple: torus
    "CH": "#c0223b",        # crimson: chaos
    "NEUTRAL": "#d8c23a",   # ochre: neutral (non-attracting) families of orbits
    "DIV": "#3a3a3a",       # near black: diverged
    "-1": "#c8c8c8",        # light grey: undecided / unclassified
}
KIND_COLORS["unclassified"] = KIND_COLORS["-1"]
KIND_COLORS["undecided"] = KIND_COLORS["-1"]
KIND_COLORS["NA"] = KIND_COLORS["NEUTRAL"]

#: legend text of each kind
KIND_LABELS = {"FP": "FP (fixed point)", "LC": "LC (limit cycle)", "QP": "QP (torus)", "CH": "CH (chaos)",
               "NEUTRAL": "NEUTRAL (non-attracting)", "DIV": "DIV (diverged)", "-1": "undecided"}

#: number of stable fixed points 0, 1, 2, 3, 4, ... (Fig. 2): a blue ramp
COUNT_COLORS = ("#eef4fb", "#9ecae1", "#4a90c8", "#1f5fa3", "#0b2f66")

#: colours of individual initial conditions in trajectory insets: none is a kind's or a count's colour
IC_COLORS = ("#1f3b73", "#8c564b", "#e377c2", "#17becf", "#7f7f7f", "#000000")

#: one colour map per quantity
CMAPS = {
    "magnetisation": "RdBu_r",      # Z_A, Z_B, X_B, ... in [-1, 1], centred at 0
    "lyapunov": "PuOr_r",           # largest Lyapunov exponent, centred at 0
    "wigner": "PiYG_r",             # spin Wigner function, centred at 0
    "spin_length": "viridis",       # lines for several S
    "parameter": "cividis",         # cycles coloured by the continuation parameter
    "purity": "Greys",
}


def cmap_for(column: str) -> str:
    """The colour map of a column: ``lyap*`` -> Lyapunov, ``W`` -> Wigner, ``purity``, else
    magnetisation (state variables)."""
    c = str(column)
    if c.startswith("lyap"):
        return CMAPS["lyapunov"]
    if c == "W":
        return CMAPS["wigner"]
    if c == "purity":
        return CMAPS["purity"]
    return CMAPS["magnetisation"]


def count_colors(n_max: int) -> list:
    """Colours of the counts 0 .. n_max (the ramp is extended by interpolation past 4)."""
    from matplotlib.colors import LinearSegmentedColormap, to_rgba

    n_max = int(n_max)
    if n_max < 0:
        raise ValueError(f"n_max must be >= 0, got {n_max}")
    if n_max < len(COUNT_COLORS):
        return [to_rgba(c) for c in COUNT_COLORS[:n_max + 1]]
    ramp = LinearSegmentedColormap.from_list("counts", list(COUNT_COLORS))
    return [ramp(x) for x in np.linspace(0.0, 1.0, n_max + 1)]


_TOKEN = re.compile(r"^\s*(\d+)?\s*([A-Za-z_\-0-9]+?)\s*$")


def kind_of(token: str) -> str:
    """The kind of one token of a phase label: ``"2FP"`` -> ``"FP"``, ``"unclassified"`` -> ``"-1"``."""
    t = str(token).strip()
    if t in ("-1", "", "unclassified", "undecided", "nan", "None"):
        return "-1"
    m = _TOKEN.match(t)
    k = m.group(2) if m else t
    if k.startswith("-"):
        return "-1"
    return k if k in KIND_COLORS else "-1"


def phase_kinds(phase: str) -> list[tuple[str, int]]:
    """``"FP+2LC"`` -> ``[("FP", 1), ("LC", 2)]`` (a repeated kind is counted)."""
    out: dict[str, int] = {}
    for tok in str(phase).split("+"):
        tok = tok.strip()
        if not tok:
            continue
        m = re.match(r"^(\d+)(.*)$", tok)
        n, name = (int(m.group(1)), m.group(2)) if m else (1, tok)
        k = kind_of(name)
        out[k] = out.get(k, 0) + n
    return list(out.items()) or [("-1", 1)]


def kind_color(kind: str) -> str:
    """The colour of one kind (unknown names are undecided)."""
    return KIND_COLORS.get(str(kind), KIND_COLORS.get(kind_of(kind), KIND_COLORS["-1"]))


_COMPLEXITY = ("CH", "QP", "LC", "NEUTRAL", "FP", "DIV", "-1")


def phase_color(phase: str) -> str:
    """Colour of a set of kinds: that of its most complex kind (CH > QP > LC > NEUTRAL > FP > DIV > -1)."""
    kinds = [k for k, _ in phase_kinds(phase)]
    return KIND_COLORS[min(kinds, key=_COMPLEXITY.index)]


def phase_hatch(phase: str) -> str:
    """Hatching of a set of kinds: ``"//"`` where two attractors coexist (``FP+LC``, ``2FP``),
    ``"xx"`` where three or more do (``FP+2LC``), else ``""``."""
    real = [(k, n) for k, n in phase_kinds(phase) if k not in ("DIV", "-1")]
    n = sum(n for _, n in real)
    return "xx" if n > 2 else ("//" if n == 2 else "")


def phase_hatch_color(phase: str) -> str:
    """Colour of the hatching: the next most complex kind of the set (``FP+LC``: FP's green over
    LC's orange), or near black when all attractors are of one kind (``2FP``)."""
    kinds = sorted({k for k, _ in phase_kinds(phase) if k not in ("DIV", "-1")}, key=_COMPLEXITY.index)
    return KIND_COLORS[kinds[1]] if len(kinds) > 1 else "#1a1a1a"


# --------------------------------------------------------------------------------------------
# text layout checks
# --------------------------------------------------------------------------------------------
def _visible_text(t) -> bool:
    return bool(t is not None and t.get_visible() and str(t.get_text()).strip())


def _tick_labels(axis, renderer) -> list:
    """Labels of the ticks that are drawn (inside the view interval)."""
    try:
        ticks = axis._update_ticks()           # what Axis.draw draws
    except Exception:  # noqa: BLE001 - private API; fall back to all major ticks
        ticks = axis.get_major_ticks()
    out = []
    for tk in ticks:
        for lab in (tk.label1, tk.label2):
            if _visible_text(lab) and tk.get_visible():
                out.append(lab)
    return out


def _extent(artist, ax, renderer):
    """Window extent; a 3-D text is measured at its projected position (as it is drawn)."""
    if type(artist).__name__ == "Text3D" and getattr(ax, "M", None) is not None:
        from matplotlib import cbook
        from mpl_toolkits.mplot3d import proj3d

        xs, ys, _ = proj3d.proj_transform(artist._x, artist._y, artist._z, ax.M)
        with cbook._setattr_cm(artist, _x=xs, _y=ys):
            return artist.get_window_extent(renderer)
    return artist.get_window_extent(renderer)


def _axes_items(ax, renderer, name: str, inside: tuple) -> list[tuple[str, object, tuple, object]]:
    """(description, bbox, chain of enclosing inset axes, box_of) for every text of ``ax``."""
    items = []

    def add(desc, artist):
        try:
            bb = _extent(artist, ax, renderer)
        except Exception:  # noqa: BLE001
            return
        if bb.width > 0 and bb.height > 0 and np.all(np.isfinite(bb.get_points())):
            items.append((f"{name}: {desc}", bb, inside, None))

    for attr in ("title", "_left_title", "_right_title"):
        t = getattr(ax, attr, None)
        if _visible_text(t):
            add(f"title {t.get_text()!r}", t)
    axes_on = getattr(ax, "axison", True)
    axis_names = [n for n in ("xaxis", "yaxis", "zaxis") if hasattr(ax, n)]
    if axes_on:
        for an in axis_names:
            axis = getattr(ax, an)
            if not axis.get_visible():
                continue
            if _visible_text(axis.label):
                add(f"{an[0]} label {axis.label.get_text()!r}", axis.label)
            for lab in _tick_labels(axis, renderer):
                add(f"{an[0]} tick {lab.get_text()!r}", lab)
            if _visible_text(axis.offsetText):
                add(f"{an[0]} offset {axis.offsetText.get_text()!r}", axis.offsetText)
    from matplotlib.text import Annotation

    for t in ax.texts:
        if not _visible_text(t):
            continue
        if isinstance(t, Annotation):
            try:
                if not t._check_xy(renderer):  # annotations of points outside the axes are not drawn
                    continue
            except Exception:  # noqa: BLE001
                pass
        add(f"text {t.get_text()!r}", t)
    leg = ax.get_legend()
    if leg is not None and leg.get_visible():
        items.append((f"{name}: legend", leg.get_window_extent(renderer), inside, None))
    for k, child in enumerate(getattr(ax, "child_axes", [])):
        if not child.get_visible():
            continue
        cname = f"{name} inset {k}"
        bb = child.get_tightbbox(renderer)
        if bb is not None:
            items.append((f"{cname} (whole inset)", bb, inside, child))
        items.extend(_axes_items(child, renderer, cname, inside + (child,)))
    return items


def layout_problems(fig, *, tol: float = 1.0, check_canvas: bool = True) -> list[str]:
    """Overlapping texts and texts off the canvas in a matplotlib figure.

    Every text that is drawn is collected with its box in display pixels: titles, axis labels, the
    tick labels inside the view, offset texts, annotations and ``ax.text``, legends (one box
    each), colour-bar labels and ticks (colour bars are axes), the figure's suptitle, texts and
    legends, and inset axes (one box for the whole inset, its own texts checked among themselves).
    Two boxes that overlap by more than ``tol`` pixels in both directions are a problem, as is a
    box that reaches more than ``tol`` pixels beyond the figure.

    Returns
    -------
    list of str, one sentence per problem (empty: the layout is clean).
    """
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    items: list = []
    for k, ax in enumerate(fig.axes):
        if not ax.get_visible():
            continue
        label = ax.get_label() or ""
        name = f"axes {k}" + (f" ({label})" if label and not label.startswith("<") else "")
        title = ax.get_title() or ax.get_ylabel()
        if title:
            name += f" [{title[:30]}]"
        items.extend(_axes_items(ax, renderer, name, ()))
    seen_fig: set = set()
    for t in list(fig.texts) + [getattr(fig, "_suptitle", None), getattr(fig, "_supxlabel", None),
                                getattr(fig, "_supylabel", None)]:
        if t is not None and id(t) in seen_fig:
            continue
        seen_fig.add(id(t))
        if _visible_text(t):
            items.append((f"figure text {t.get_text()[:40]!r}", t.get_window_extent(renderer), (), None))
    for leg in getattr(fig, "legends", []):
        items.append(("figure legend", leg.get_window_extent(renderer), (), None))
    problems = []
    n = len(items)
    for i in range(n):
        di, bi, ini, boxi = items[i]
        for j in range(i + 1, n):
            dj, bj, inj, boxj = items[j]
            # an inset's box contains its own texts by construction
            if (boxi is not None and boxi in inj) or (boxj is not None and boxj in ini):
                continue
            w = min(bi.x1, bj.x1) - max(bi.x0, bj.x0)
            h = min(bi.y1, bj.y1) - max(bi.y0, bj.y0)
            if w > tol and h > tol:
                problems.append(f"overlap ({w:.0f} x {h:.0f} px): {di} / {dj}")
    if check_canvas:
        W, H = fig.bbox.width, fig.bbox.height
        for d, b, _, _ in items:
            if b.x0 < -tol or b.y0 < -tol or b.x1 > W + tol or b.y1 > H + tol:
                problems.append(f"cut off the canvas ({b.x0:.0f}, {b.y0:.0f}, {b.x1:.0f}, {b.y1:.0f} in a "
                                f"{W:.0f} x {H:.0f} figure): {d}")
    return problems


def assert_clean_layout(fig, *, what: str = "figure", tol: float = 1.0) -> None:
    """Raise ``AssertionError`` listing :func:`layout_problems` (for tests)."""
    probs = layout_problems(fig, tol=tol)
    if probs:
        raise AssertionError(f"{what}: {len(probs)} layout problem(s):\n  " + "\n  ".join(probs))


def legend_patches(kinds: Iterable[str], *, labels: bool = True) -> list:
    """Legend handles of attractor kinds in :data:`KIND_COLORS`."""
    from matplotlib.patches import Patch

    return [Patch(facecolor=kind_color(k), edgecolor="0.3", lw=0.5, label=KIND_LABELS.get(k, k) if labels else k)
            for k in kinds]


def clip_errorbars(y: Sequence[float], err, lo: float, hi: float) -> np.ndarray | None:
    """Asymmetric error bars ``(2, n)`` of ``y +- err`` clipped to the domain ``[lo, hi]``
    (None if ``err`` is None); non-finite errors give no bar."""
    if err is None:
        return None
    y = np.asarray(y, dtype=float)
    e = np.asarray(err, dtype=float)
    e = np.where(np.isfinite(e), np.abs(e), 0.0)
    low = np.clip(y - e, lo, hi)
    up = np.clip(y + e, lo, hi)
    return np.vstack([np.maximum(y - low, 0.0), np.maximum(up - y, 0.0)])


__all__ += ["assert_clean_layout", "legend_patches", "clip_errorbars"]


def default_plane(model) -> tuple[str, str]:
    """The state plane drawn by default: the first two components of the model's last sphere
    (X_B, Y_B for the LMG dimer), else its first two state variables."""
    names = list(model.state_names)
    blocks = [list(b) for b in np.asarray(getattr(model.geometry, "sphere_blocks", np.zeros((0, 3))))]
    if blocks:
        return names[int(blocks[-1][0])], names[int(blocks[-1][1])]
    return names[0], names[1 % len(names)]


def default_observable(model) -> str:
    """The observable drawn by default: the last component of the model's last sphere (Z_B for the
    LMG dimer), else its last state variable."""
    names = list(model.state_names)
    blocks = [list(b) for b in np.asarray(getattr(model.geometry, "sphere_blocks", np.zeros((0, 3))))]
    if blocks:
        return names[int(blocks[-1][-1])]
    return names[-1]


__all__ += ["default_plane", "default_observable"]
