"""Shared helpers of the studies: output directories, figures (PNG + PDF), tables (parquet),
``metadata.json`` (through :func:`analysis.provenance.write_metadata`), the cuts of Fig. 3 and a
uniform command line (``python -m studies.<name> --out results [--quick]``).

Every study is a module with ``main(out_dir, *, quick=False) -> dict`` returning the paths it wrote
(keys ``figure_png``, ``figure_pdf``, ``table``, ``metadata`` at least) and writing into
``<out_dir>/<study name>/``.
"""
from __future__ import annotations

import argparse
import contextlib
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Mapping

import matplotlib

matplotlib.use("Agg")
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from analysis.provenance import write_metadata  # noqa: E402

__all__ = ["study_dir", "save_figure", "save_table", "finish", "run_cli", "Cut", "CUTS", "PAPER_POINTS",
           "mean_field_cut", "mean_field_values", "timer", "LABELS", "IC_COLORS", "LAYOUT", "errorbar"]

from analysis.style import IC_COLORS  # noqa: E402  (initial conditions: neither a kind's nor a count's colour)

#: axis labels in the paper's units (everything in units of g, gamma = 0.5 g)
LABELS = {"J": r"$J/g$", "lam": r"$\lambda/g$", "ZA": r"$Z_A$", "ZB": r"$Z_B$", "XB": r"$X_B$", "YB": r"$Y_B$"}


def study_dir(out_dir: str | Path, name: str) -> Path:
    """``<out_dir>/<name>``, created."""
    p = Path(out_dir) / name
    p.mkdir(parents=True, exist_ok=True)
    return p


#: layout problems (:func:`analysis.style.layout_problems`) of every figure saved in this process,
#: keyed by the figure's path stem; :func:`finish` writes them into ``metadata.json``
LAYOUT: dict[str, list[str]] = {}


def save_figure(fig, out: Path, stem: str, *, dpi: int = 150) -> dict[str, Path]:
    """Write ``<stem>.png`` and ``<stem>.pdf``; closes the figure.

    The figure's text layout is checked first (:func:`analysis.style.layout_problems`: overlapping
    labels, texts off the canvas); the problems are kept in :data:`LAYOUT` and written into the
    study's ``metadata.json`` (``layout_problems``) by :func:`finish`.
    """
    import matplotlib.pyplot as plt

    from analysis.style import layout_problems

    LAYOUT[str(Path(out) / stem)] = layout_problems(fig)
    paths = {}
    for ext in ("png", "pdf"):
        paths[f"figure_{ext}"] = out / f"{stem}.{ext}"
        fig.savefig(paths[f"figure_{ext}"], dpi=dpi, bbox_inches="tight")
    plt.close(fig)
    return paths


def save_table(df: pd.DataFrame, out: Path, stem: str, *, table: str | None = None) -> Path:
    """Write ``<stem>.parquet`` (index dropped). ``table`` names its schema in :mod:`analysis.io`."""
    p = out / f"{stem}.parquet"
    df.reset_index(drop=True).to_parquet(p)
    return p


def finish(out: Path, study: str, *, quick: bool, t_start: float, paths: dict, tables: Mapping[str, str] | None = None,
           **meta: Any) -> dict:
    """Write ``metadata.json`` (provenance, options, outputs, wall time) and return ``paths`` with it.

    ``tables`` maps each parquet file name to its schema name in :data:`analysis.io.SCHEMAS`, so
    :func:`analysis.io.load` can document the columns.
    """
    wall = time.perf_counter() - t_start
    paths = dict(paths)
    layout = {Path(k).name: v for k, v in LAYOUT.items() if Path(k).parent == Path(out)}
    paths["metadata"] = write_metadata(out, study=study, quick=quick, wall_time_s=round(wall, 2),
                                       tables=dict(tables or {}), layout_problems=layout,
                                       outputs={k: Path(v).name for k, v in paths.items()}, **meta)
    return paths


def errorbar(ax, x, y, err, *, lo: float = -1.0, hi: float = 1.0, **kw):
    """``ax.errorbar`` with the bars clipped to the quantity's domain ``[lo, hi]`` (magnetisations
    [-1, 1], basin fractions [0, 1]); ``err`` None or all non-finite: a plain line."""
    from analysis.style import clip_errorbars

    yerr = None
    if err is not None:
        e = np.asarray(err, dtype=float)
        if np.isfinite(e).any():
            yerr = clip_errorbars(y, e, lo, hi)
    kw.setdefault("elinewidth", 0.7)
    kw.setdefault("capsize", 1.5)
    return ax.errorbar(x, y, yerr=yerr, **kw)


def mean_field_values(m: pd.DataFrame, name: str = "ZB", *, prefix: str = "") -> tuple[np.ndarray, np.ndarray,
                                                                                      np.ndarray]:
    """(value, error, attracting) of observable ``name`` per row of a sweep or census summary table.

    The attracting-only average (``att_<name>`` +- ``att_<name>_err``,
    ``CensusResult.attractor_average``) where some set attracts; elsewhere (no attracting set, e.g.
    the neutral families on J = 0 above lam = g/2) the average over every classified set
    (``<prefix><name>`` +- ``<prefix><name>_err``), with ``attracting`` False. A table without
    ``att_<name>`` gives the latter everywhere. ``prefix``: ``"bw_"`` for census summaries.
    """
    n = len(m)
    col = f"{prefix}{name}"
    if col not in m:
        raise KeyError(f"m: expected a column {col!r} (a sweep or census summary table), got {list(m.columns)[:12]}")
    allv = m[col].to_numpy(float)
    alle = m[f"{col}_err"].to_numpy(float) if f"{col}_err" in m else np.full(n, np.nan)
    if f"att_{name}" not in m:
        return allv, alle, np.zeros(n, dtype=bool)
    av = m[f"att_{name}"].to_numpy(float)
    ae = m[f"att_{name}_err"].to_numpy(float) if f"att_{name}_err" in m else np.full(n, np.nan)
    att = np.isfinite(av)
    return np.where(att, av, allv), np.where(att, ae, alle), att


@contextlib.contextmanager
def timer(store: dict, key: str):
    """``with timer(times, "census"): ...`` adds the elapsed seconds to ``times[key]``."""
    t0 = time.perf_counter()
    try:
        yield
    finally:
        store[key] = store.get(key, 0.0) + time.perf_counter() - t0


def run_cli(main: Callable, doc: str | None, argv=None) -> dict:
    """``python -m studies.<name> [--out DIR] [--quick] [--seed N]``: run ``main`` and print the paths."""
    ap = argparse.ArgumentParser(description=(doc or "").strip().splitlines()[0] if doc else None)
    ap.add_argument("--out", default="results", help="output directory (a sub-directory per study)")
    ap.add_argument("--quick", action="store_true", help="the small, ~1 minute version")
    a = ap.parse_args(argv)
    t0 = time.perf_counter()
    paths = main(a.out, quick=a.quick)
    for k, v in paths.items():
        print(f"{k:>14}: {v}")
    print(f"{'wall time':>14}: {time.perf_counter() - t0:.1f} s")
    return paths


# --------------------------------------------------------------------------------------------
# the cuts of Fig. 3 and the representative points
# --------------------------------------------------------------------------------------------
# one definition of the cuts for studies and the quantum cross-check (analysis.cuts)
from analysis.cuts import CUTS, Cut  # noqa: E402

#: representative points of the phases (Fig. 2 insets, Fig. 4, the finite-size study)
PAPER_POINTS = {
    "normal": {"J": 0.0, "lam": 0.0},
    "normal (lam=0.3)": {"J": 0.0, "lam": 0.3},
    "LMG": {"J": 1.5, "lam": 0.0},
    "PT (J=0)": {"J": 0.0, "lam": 1.0},
    "PT (J=1.5, lam=0.5)": {"J": 1.5, "lam": 0.5},
    "chaotic": {"J": 1.5, "lam": 1.0},
}


def mean_field_cut(cut: Cut, n: int, *, n_initial: int, seed: int, t_end: float, census_options=None,
                   progress: bool = False, store=None):
    """Attractor-averaged mean field along a cut: a 1-D :func:`analysis.phase_diagrams.phase_diagram`.

    Each point: stable equilibria counted, ``n_initial`` trajectories over ``[0, t_end]``; points
    whose trajectories all settle on stable equilibria are done, the others get the attractor census
    (Lyapunov spectra, kinds) and the basin-weighted time averages (``ZA``, ``ZB``, ...), which is the
    paper's "averaged over all of the points that contribute to the limit cycle".
    """
    from analysis.phase_diagrams import SWEEP_CENSUS, phase_diagram
    from bifurcate.models import LMG_DIMER

    opts = dict(SWEEP_CENSUS)
    opts.update(census_options or {})
    return phase_diagram(LMG_DIMER, {cut.param: cut.values(n)}, base=dict(cut.fixed), n_initial=n_initial, seed=seed,
                         t_end=t_end, census_options=opts, progress=progress, store=store)


# --------------------------------------------------------------------------------------------
# exact phase boundaries from two-parameter continuation
# --------------------------------------------------------------------------------------------
def exact_boundaries(J_max: float = 2.0, lam_max: float = 1.5) -> pd.DataFrame:
    """The exact bifurcation curves that bound the regions of Fig. 2, from continuation.

    * ``BP normal``: the normal state's pitchfork, both signs of J (this is Eq. (12) exactly);
      only its part below the Bogdanov-Takens point bounds the normal phase.
    * ``HB normal``: the normal state's Hopf curve (Eq. (13) to lowest order in J), the
      ``segment == "HB"`` part (``NSad`` rows are neutral saddles, kept for completeness).
    * ``HB broken +`` / ``HB broken -``: Hopf curves of the Z2-broken (LMG) states for J > 0
      (spin B broken) and J < 0 (spin A broken): the upper edge of the LMG phases.

    Returns a long table: ``curve``, ``segment``, ``bounds_normal`` (bool: the row lies on the
    boundary of the normal phase), ``J``, ``lam``, ``omega`` (Hopf frequency, nan on BP curves),
    ``l1`` (first Lyapunov coefficient; > 0 subcritical).
    """
    from bifurcate.continuation import continue_equilibria
    from bifurcate.continuation.codim2 import continue_codim2
    from bifurcate.continuation.reference import bt_point
    from bifurcate.equilibria import find_equilibria
    from bifurcate.models import LMG_DIMER, NORMAL_STATE

    _, lam_bt = bt_point()
    tabs = []

    def add(name, c):
        df = c.to_frame()
        keep = pd.DataFrame({"curve": name, "J": df["J"].to_numpy(), "lam": df["lam"].to_numpy()})
        keep["segment"] = df["segment"].to_numpy() if "segment" in df else c.kind
        keep["omega"] = df["omega"].to_numpy() if "omega" in df else np.nan
        keep["l1"] = df["l1"].to_numpy() if "l1" in df else np.nan
        tabs.append(keep)

    for sgn in (1.0, -1.0):
        b = continue_equilibria(LMG_DIMER, NORMAL_STATE, param="J", params={"lam": 0.0},
                                p_min=min(0.0, sgn * J_max), p_max=max(0.0, sgn * J_max), ds=0.01 * sgn)
        bps = b.special("BP")
        if bps:
            add("BP normal", continue_codim2(LMG_DIMER, bps[0], "lam", p_min=0.0, p_max=lam_max))
    b = continue_equilibria(LMG_DIMER, NORMAL_STATE, param="lam", params={"J": 0.0}, p_min=0.0, p_max=lam_max)
    hbs = b.special("HB")
    if hbs:
        add("HB normal", continue_codim2(LMG_DIMER, hbs[0], "J", p_min=-J_max, p_max=J_max,
                                         bounds={"lam": (0.0, lam_max)}))
    for sgn, name in ((1.0, "HB broken +"), (-1.0, "HB broken -")):
        eq = find_equilibria(LMG_DIMER, J=sgn * 1.0, lam=0.0)
        st = eq.stable_states()
        if not len(st):
            continue
        b = continue_equilibria(LMG_DIMER, st[0], param="lam", params={"J": sgn * 1.0, "lam": 0.0}, p_min=0.0,
                                p_max=lam_max)
        hbs = b.special("HB")
        if hbs:
            add(name, continue_codim2(LMG_DIMER, hbs[0], "J", p_min=min(0.0, sgn * J_max),
                                      p_max=max(0.0, sgn * J_max), bounds={"lam": (0.0, lam_max)}))
    out = pd.concat(tabs, ignore_index=True)
    out["bounds_normal"] = ((out["curve"] == "BP normal") & (out["lam"] <= lam_bt + 1e-9)) | (
        (out["curve"] == "HB normal") & (out["segment"] == "HB"))
    return out


def draw_boundaries(ax, curves: pd.DataFrame | None, *, paper: bool = True, color: str = "k", lw: float = 1.0,
                    legend: bool = True):
    """Exact curves solid (only the parts that bound a region of stable fixed points), the paper's
    Eqs. (12)-(13) dashed (via :func:`analysis.plots_phase.plot_boundaries`)."""
    from analysis.plots_phase import plot_boundaries
    from bifurcate.models import LMG_DIMER

    if paper:
        plot_boundaries(ax, g=LMG_DIMER.defaults["g"], gamma=LMG_DIMER.defaults["gamma"], color=color)
    if curves is not None and len(curves):
        xl, yl = ax.get_xlim(), ax.get_ylim()
        first = True
        for (name, seg), g in curves.groupby(["curve", "segment"], sort=False):
            if seg == "NSad":
                continue
            g = g[g["bounds_normal"]] if name.endswith("normal") else g
            if name == "BP normal":      # two separate curves (J > 0 and J < 0)
                parts = [g[g["J"] > 0], g[g["J"] < 0]]
            else:
                parts = [g]
            for part in parts:
                if len(part) < 2:
                    continue
                part = part.sort_values("lam" if name == "BP normal" else "J")
                ax.plot(part["J"], part["lam"], color=color, lw=lw, ls="-",
                        label="exact (continuation)" if (first and legend) else None)
                first = False
        ax.set_xlim(xl)
        ax.set_ylim(yl)
    return ax


# --------------------------------------------------------------------------------------------
# exact steady states of the master equation (5)
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ExactState:
    """Exact steady state at one (S, parameters): observables and spin B's reduced state."""

    S: float
    params: dict
    ZA: float
    ZB: float
    purity: float
    rho_B: np.ndarray
    residual: float
    method: str
    wall_time: float
    status: int = 0          # 0 certified; 1 solved and validated but its error not certified
    message: str = "success"

    def row(self) -> dict:
        return {"S": self.S, **self.params, "ZA": self.ZA, "ZB": self.ZB, "purity": self.purity,
                "residual": self.residual, "method": self.method, "wall_time": self.wall_time,
                "status": self.status, "message": self.message}


def exact_steady_state(S, params: Mapping[str, float]) -> ExactState:
    """Exact steady state of Eq. (5) at spin length ``S`` (the LMG dimer's defaults for the
    parameters not given).

    Uses :func:`analysis.quantum.steady_state` (symmetry-reduced, validated).
    Z_A = Tr(rho S_z^A)/S, Z_B likewise, purity = Tr(rho^2), rho_B = Tr_A rho.
    """
    from analysis.quantum import steady_state
    from bifurcate.models import LMG_DIMER

    p = {**{k: LMG_DIMER.defaults[k] for k in ("g", "gamma")}, **{k: float(v) for k, v in params.items()}}
    t0 = time.perf_counter()
    st = steady_state(S, p)           # validated; raises SteadyStateError otherwise
    return ExactState(float(st.S), p, float(st.ZA), float(st.ZB), float(st.purity), st.rho_B,
                      float(st.residual), f"analysis.quantum.steady_state ({st.method}, {st.sector})",
                      time.perf_counter() - t0, 0 if st.success else 1, st.message)


class RowCache:
    """Rows already computed, kept in a parquet file beside the outputs (rewritten after every new row, through a
    temporary file and an atomic rename, so a run killed while writing leaves the previous file whole), so that an
    interrupted run resumes where it stopped. Keyed by the columns ``key``; rows with ``status`` -1 (failed or
    skipped) are recomputed. ``path`` None: no cache. A file that cannot be read (corrupt), or that lacks one of the
    key columns (written by another version or for another table), is moved aside to ``<name>.corrupt`` with a
    warning and its rows are recomputed."""

    def __init__(self, path, key):
        import warnings

        self.path, self.key = (Path(path) if path is not None else None), tuple(key)
        self._rows: dict = {}
        if self.path is not None and self.path.exists():
            try:
                frame = pd.read_parquet(self.path)
                missing = [c for c in self.key if c not in frame.columns]
                if missing:
                    raise KeyError(f"no key column(s) {missing}; it has {list(frame.columns)}")
                rows = frame.to_dict("records")
            except Exception as exc:  # noqa: BLE001 - any unusable file: recompute, keep it for inspection
                bad = self.path.with_name(self.path.name + ".corrupt")
                self.path.replace(bad)
                warnings.warn(f"row cache {self.path} could not be used ({type(exc).__name__}: {exc}); moved to "
                              f"{bad.name}, its rows will be recomputed", RuntimeWarning, stacklevel=2)
                rows = []
            for r in rows:
                self._rows[self._k(r)] = r

    @property
    def rows(self) -> list:
        return list(self._rows.values())

    def _k(self, row):
        return tuple(round(float(row[c]), 9) if isinstance(row[c], (int, float, np.number)) else row[c]
                     for c in self.key)

    def get(self, key_row: dict):
        r = self._rows.get(self._k(key_row))
        return r if r is not None and r.get("status", 0) != -1 else None

    def put(self, row: dict) -> None:
        self._rows.pop(self._k(row), None)
        self._rows[self._k(row)] = row
        if self.path is not None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.path.with_name(self.path.name + ".tmp")
            pd.DataFrame(self.rows).to_parquet(tmp)
            tmp.replace(self.path)


def exact_sweep(points: list[Mapping[str, float]], S_values, *, progress: bool = False, cache=None) -> pd.DataFrame:
    """Exact Z_A, Z_B and purity at every (S, point); one row each (schema ``exact``).

    A failing point is recorded (``status`` -1, ``message``), never fatal. ``cache``: a parquet path
    (:class:`RowCache`, keyed by S and the parameters); rows found there are reused, every new one is
    written as soon as it is computed, so an interrupted sweep (hours of exact solves in the publication run)
    goes on where it stopped. Failed rows are recomputed.
    """
    from bifurcate.models import LMG_DIMER

    rows = []
    it = [(S, pt) for S in S_values for pt in points]
    if progress:
        from tqdm import tqdm

        it = tqdm(it, desc="exact steady states", unit="state")
    defaults = dict(LMG_DIMER.defaults)  # g, gamma, J, lam: the key of a cached row
    store = RowCache(cache, ("S", "g", "gamma", "J", "lam")) if cache is not None else None
    for S, pt in it:
        if store is not None:
            hit = store.get({"S": float(S), **defaults, **{k: float(v) for k, v in pt.items()}})
            if hit is not None:
                rows.append(hit)
                continue
        try:
            r = exact_steady_state(S, pt).row()   # status 1: solved, but the error is not certified
        except Exception as exc:  # noqa: BLE001 - one bad point never stops a sweep
            r = {"S": float(S), **defaults, **{k: float(v) for k, v in pt.items()}, "ZA": np.nan, "ZB": np.nan,
                 "purity": np.nan, "residual": np.nan, "method": "", "wall_time": np.nan, "status": -1,
                 "message": f"{type(exc).__name__}: {exc}"}
        rows.append(r)
        if store is not None:
            store.put({**{k: v for k, v in defaults.items() if k not in r}, **r})
    return pd.DataFrame(rows)
