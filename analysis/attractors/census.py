"""The converged attractor census: one implementation for one point, many points and sweeps.

Pipeline (each arrow a plain object)::

    initial conditions (P points x N, drawn by the caller before any parallel work)
      -> transient: adaptive DOP853, batched (bifurcate.integrate_ensemble)
      -> settlement: at rest on an equilibrium of find_equilibria -> FP (stable) / SADDLE (unstable),
         exact tangent eigenvalues as exponents
      -> certification (CensusOptions.certify, default): a trajectory in the certified basin
         ellipsoid of a stable equilibrium is FP, one on a cycle polished by collocation with Floquet
         multipliers inside the circle by a margin is LC, both with exact exponents and no
         variational run (analysis.attractors.certify); the rest goes on unchanged
      -> measurement: variational integration in blocks, extended only where undecided
         (analysis.attractors.convergence.decide), up to a cap; trajectories of one point on one
         attractor share one run (CensusOptions.share_attractors: decision ``inherited``)
      -> grouping by shared support (analysis.attractors.grouping), mirrors by the model's symmetries
      -> InvariantSet records (attracting or not) -> CensusResult -> summary_row()

:func:`census_points` does all of it for P points at once (one integration call per round over
every trajectory of every point); :func:`census` is the one-point call and
:func:`analysis.phase_diagrams.evaluate_chunk` the sweep's; a sweep row is
``census(...).summary_row()`` with the sweep's initial conditions.

References
----------
Kothe & Kirton, Eqs. (6)-(11), Fig. 2 (stable solutions) and Fig. 3 (Z_B averaged over the
attractor).
"""
from __future__ import annotations

import time
import warnings
from dataclasses import dataclass, field, replace
from typing import Any, Mapping

import numpy as np
import pandas as pd

from analysis.attractors.classify import basin_fraction_error
from analysis.attractors.convergence import ATTRACTING, decide, sum_error
from analysis.attractors.features import autocorr_time, poincare_return
from analysis.attractors.grouping import (components, group_by_support, group_by_touch, merge_cells, mirror_pairs,
                                         occupied_cells, shared_both_ways, support_overlap)
from analysis.attractors.options import CensusOptions
from bifurcate.integrate import STATUS_MESSAGES, check_ensemble_memory, integrate_ensemble
from bifurcate.lyapunov import LYAPUNOV_STATUS, lyapunov_spectra
from bifurcate.model import Model
from bifurcate.validation import check_count, check_seed

__all__ = ["InvariantSet", "Attractor", "CensusResult", "census", "census_points", "census_batch", "phase_label",
           "derived_observables", "nolds_largest", "KIND_ORDER"]

#: display order of kinds in phase strings and tables
KIND_ORDER = ("FP", "LC", "QP", "CH", "NEUTRAL", "SADDLE", "DIV", "-1")
#: samples kept per trajectory for grouping and plots (subsampled evenly)
_MAX_KEEP = 3000


# --------------------------------------------------------------------------------------------
# results
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class InvariantSet:
    """One invariant set found by the census: an attractor, or a non-attracting family.

    Attributes
    ----------
    label : int
    kind : str
        FP, LC, QP, CH, NEUTRAL, SADDLE.
    flavour : str
        ``dissipative`` / ``conservative`` for CH, ``conservative`` for NEUTRAL, ``family`` for a family
        of cycles (LC with a second zero exponent), else "".
    attracting : bool
        FP, LC, QP and dissipative CH attract; neutral families, conservative chaos and saddles do not.
    n_members : int
    basin_fraction, basin_fraction_err : float
        Share of the initial conditions (binomial standard error).
    exponents, exponents_err, exponents_spread : ndarray (dim,)
        Members' mean spectrum (FP: the exact tangent eigenvalues' real parts), its standard error
        and the spread across members.
    benettin : ndarray (dim,)
        FP: the Benettin estimate of members that were measured (nan if all settled in the transient).
    period : float
        LC: Poincare return period (nan otherwise).
    observables, observables_err : dict
        Time averages of the state components and derived observables; the error combines the
        member spread, the members' block sampling errors and the window-length bias (half the
        difference between the half-window means).
    confidence : float
        Fraction of members decided on their own evidence (the others were undecided at the cap and
        joined the set by shared support).
    members : ndarray of int
    state : ndarray (n,)
        FP/SADDLE: the equilibrium; else a member's final state.
    equilibrium : dict or None
        FP/SADDLE: ``index``, ``distance``, ``stable``, ``max_eig_re``, ``eigenvalues``,
        ``exponent_mismatch`` (max |sorted Re eig - Benettin estimate|, nan if no member was measured),
        ``match``.
    mirror_of : tuple of (label, symmetry name)
        Sets that a model symmetry maps this one onto (itself: a symmetric set).
    t_integrated : float
        Mean integration time per member (transient + variational), units of 1/g.
    nolds_lyap : float
    reached : bool
        False for a stable equilibrium that no initial condition reached (``n_members = 0``; it is
        an attractor all the same, with a basin below the census's resolution 1/N).
    """

    label: int
    kind: str
    flavour: str
    attracting: bool
    n_members: int
    basin_fraction: float
    basin_fraction_err: float
    exponents: np.ndarray
    exponents_err: np.ndarray
    exponents_spread: np.ndarray
    benettin: np.ndarray
    period: float
    observables: dict
    observables_err: dict
    confidence: float
    members: np.ndarray
    state: np.ndarray
    equilibrium: dict | None = None
    mirror_of: tuple = ()
    t_integrated: float = float("nan")
    nolds_lyap: float = float("nan")
    reached: bool = True

    @property
    def name(self) -> str:
        return self.kind + (f" ({self.flavour})" if self.kind == "CH" else "")


#: the old name of an invariant set
Attractor = InvariantSet


def phase_label(sets) -> str:
    """The phase from the attracting sets: kinds with multiplicity, mirror pairs counted together.

    ``2FP`` (two fixed points), ``FP+2LC``, ``CH``; sets of one kind that are not all images of
    each other are listed separately (``LC+LC`` would be two unrelated cycles, ``2LC`` a mirror
    pair or two cycles whatever their relation when every one has a mirror among them). No
    attracting set: ``none``.
    """
    att = [s for s in sets if s.attracting]
    if not att:
        return "none"
    parts = []
    for k in KIND_ORDER:
        ks = [s for s in att if s.kind == k]
        if not ks:
            continue
        labels = {s.label for s in ks}
        # orbits under the symmetry group: connected components of the mirror relation
        idx = {s.label: i for i, s in enumerate(ks)}
        adj = np.zeros((len(ks), len(ks)), dtype=bool)
        for s in ks:
            for lab, _ in s.mirror_of:
                if lab in labels:
                    adj[idx[s.label], idx[lab]] = adj[idx[lab], idx[s.label]] = True
        comp = components(adj)
        for c in sorted(set(comp.tolist()), key=lambda c: -int(np.sum(comp == c))):
            m = int(np.sum(comp == c))
            parts.append(f"{m}{k}" if m > 1 else k)
    return "+".join(parts)


@dataclass(frozen=True, eq=False)
class CensusResult:
    """Census of one parameter point.

    Attributes
    ----------
    params : dict
    attractors : tuple of InvariantSet
        Every invariant set found, attracting or not (``attracting``), ordered by kind, then basin.
    basin_weighted, basin_weighted_err : dict
        Averages over every classified initial condition (attracting or not): sum over sets of
        share x set average, renormalised by the classified share.
    fraction_diverged, fraction_unclassified, fraction_undecided, fraction_not_trusted : float
        ``fraction_unclassified`` = undecided + not trusted (label -1).
    n_initial : int
    trajectories : DataFrame
        One row per initial condition: kind, flavour, attracting, label, ``decision`` (also as
        ``status``: settled,
        decided, certified (FP by its equilibrium's certified basin ellipsoid, LC by its collocation
        cycle and Floquet multipliers: no variational run, ``t_measured`` 0), joined (undecided alone; on a decided attractor by shared support, or by the pooled
        sums of orbits sharing support), inherited (the label of a decided run of the same attractor,
        or of its mirror image, whose spectrum agrees with this run's so far: see
        ``CensusOptions.share_attractors``; its exponents are NaN), undecided,
        not_trusted, diverged, not_measured), reason, exponents and errors, means, costs.
    samples : dict label -> ndarray (k, m, n)
    sample_t : ndarray (m,)
    equilibria : EquilibriumSet
    missed_stable : int
        Stable equilibria that no initial condition reached (flagged in ``message``).
    phase : str
        :func:`phase_label` of the attracting sets.
    status : int
        0 success (consistent: every trajectory decided, every stable equilibrium reached, FP sets
        matched to distinct stable equilibria); 1 partial (see ``message``); -1 nothing classified.
    message : str
    cost : DataFrame
        Integration cost per kind: trajectories, mean / max time integrated (transient +
        variational, units of 1/g).
    seed, options, wall_time, lyapunov_wall_time, model
    timings : dict
        Wall time per stage (``equilibria``, ``integrate``, ``lyapunov``, ``grouping``), this
        point's share of a batched call.
    """

    params: dict
    attractors: tuple
    basin_weighted: dict
    basin_weighted_err: dict
    fraction_diverged: float
    fraction_unclassified: float
    fraction_undecided: float
    fraction_not_trusted: float
    n_initial: int
    trajectories: pd.DataFrame = field(repr=False)
    samples: dict = field(repr=False)
    sample_t: np.ndarray = field(repr=False)
    equilibria: Any = field(repr=False)
    missed_stable: int
    phase: str
    status: int
    message: str
    cost: pd.DataFrame = field(repr=False)
    seed: Any
    options: CensusOptions = field(repr=False)
    wall_time: float
    lyapunov_wall_time: float
    model: Model = field(repr=False)
    timings: dict = field(default_factory=dict, repr=False)

    @property
    def success(self) -> bool:
        return self.status == 0

    @property
    def sets(self) -> tuple:
        return self.attractors

    @property
    def n_attractors(self) -> int:
        """Number of attracting sets."""
        return sum(a.attracting for a in self.attractors)

    def kinds(self, attracting: bool | None = None) -> list[str]:
        """Kinds of the sets (all, or only the attracting / non-attracting ones)."""
        return [a.kind for a in self.attractors if attracting is None or a.attracting == attracting]

    def count(self, kind: str, attracting: bool | None = None) -> int:
        return sum(a.kind == kind and (attracting is None or a.attracting == attracting) for a in self.attractors)

    def attractor_average(self, name: str) -> tuple[float, float]:
        """Average of observable ``name`` over the attracting sets only, weighted by their basins
        (renormalised to the attracting share), and its error (basin sampling + set errors).

        Returns (nan, nan) if no attracting set was found.
        """
        names = self._obs_names()
        if name not in names:
            raise KeyError(f"unknown observable {name!r}; expected one of {names}")
        return _weighted([a for a in self.attractors if a.attracting], name, self.n_initial)

    def _obs_names(self) -> list[str]:
        return list(self.basin_weighted) or list(self.model.state_names)

    def to_frame(self) -> pd.DataFrame:
        """One row per set: parameters, ``label``, ``kind``, ``flavour``, ``attracting``,
        ``basin_fraction`` (+ ``_err``), ``n_members``, ``lyap_k``, ``lyap_err_k``, ``lyap_sum``,
        ``benettin_k`` (FP), ``period``, observables (and ``<name>_err``), ``confidence``,
        ``mirror_of``, ``t_integrated``, ``nolds_lyap``, ``eq_match``, ``eq_distance``, ``status``."""
        rows = []
        for a in self.attractors:
            r = dict(self.params)
            r.update(label=a.label, kind=a.kind, flavour=a.flavour, attracting=a.attracting,
                     basin_fraction=a.basin_fraction, basin_fraction_err=a.basin_fraction_err, n_members=a.n_members)
            for k, v in enumerate(a.exponents):
                r[f"lyap_{k}"] = float(v)
            for k, v in enumerate(a.exponents_err):
                r[f"lyap_err_{k}"] = float(v)
            r["lyap_sum"] = float(np.sum(a.exponents))
            for k, v in enumerate(a.benettin):
                r[f"benettin_{k}"] = float(v)
            r["period"] = a.period
            r.update(a.observables)
            r.update({f"{k}_err": v for k, v in a.observables_err.items()})
            r["confidence"] = a.confidence
            r["mirror_of"] = ",".join(f"{lab}:{s}" for lab, s in a.mirror_of)
            r["t_integrated"] = a.t_integrated
            r["nolds_lyap"] = a.nolds_lyap
            r["eq_match"] = a.equilibrium["match"] if a.equilibrium else np.nan
            r["eq_distance"] = a.equilibrium["distance"] if a.equilibrium else np.nan
            r["status"] = self.status
            rows.append(r)
        return pd.DataFrame(rows)

    def summary_row(self) -> dict:
        """The point as one flat row (what a phase-diagram sweep stores).

        Keys: parameters; ``n_stable_fp``; ``phase`` (:func:`phase_label`); ``n_attractors``
        (attracting sets), ``n_fp_attractors``; ``kinds`` / ``basin_fractions`` (every set, largest
        share first); ``frac_<kind>`` (FP, LC, QP, CH, NEUTRAL, DIV, unclassified: summed shares);
        ``frac_attracting``, ``frac_conservative`` (conservative chaos), ``frac_neutral``,
        ``frac_saddle``, ``frac_undecided``, ``frac_not_trusted``; per state / derived observable the
        basin-weighted average over every classified set (``ZB``, ``ZB_err``) and the attractor
        average over attracting sets (``att_ZB``, ``att_ZB_err``); ``lyap_max`` (largest exponent
        of the attracting sets); ``t_integrated_mean`` / ``_max`` per trajectory; ``fragile`` and
        ``fragile_reason`` (:meth:`fragility`); ``status``, ``message``.
        """
        r = dict(self.params)
        r["n_stable_fp"] = int(self.equilibria.n_stable) if self.equilibria is not None else -1
        r["phase"] = self.phase
        r["n_attractors"] = self.n_attractors
        r["n_fp_attractors"] = self.count("FP", attracting=True)
        shares = [(a.name, a.basin_fraction, a.kind) for a in self.attractors]
        if self.fraction_diverged:
            shares.append(("DIV", self.fraction_diverged, "DIV"))
        if self.fraction_unclassified:
            shares.append(("-1", self.fraction_unclassified, "-1"))
        shares.sort(key=lambda t: (-t[1], KIND_ORDER.index(t[2])))
        r["kinds"] = "+".join(s[2] for s in shares)
        r["basin_fractions"] = ",".join(f"{s[1]:.6g}" for s in shares)
        for k in ("FP", "LC", "QP", "CH", "NEUTRAL"):
            r[f"frac_{k}"] = float(sum(a.basin_fraction for a in self.attractors if a.kind == k))
        r["frac_DIV"] = self.fraction_diverged
        r["frac_unclassified"] = self.fraction_unclassified
        r["frac_attracting"] = float(sum(a.basin_fraction for a in self.attractors if a.attracting))
        r["frac_conservative"] = float(sum(a.basin_fraction for a in self.attractors
                                           if a.kind == "CH" and not a.attracting))
        r["frac_neutral"] = float(sum(a.basin_fraction for a in self.attractors if a.kind == "NEUTRAL"))
        r["frac_saddle"] = float(sum(a.basin_fraction for a in self.attractors if a.kind == "SADDLE"))
        r["frac_undecided"] = self.fraction_undecided
        r["frac_not_trusted"] = self.fraction_not_trusted
        for s in self._obs_names():
            r[s] = self.basin_weighted.get(s, np.nan)
            r[f"{s}_err"] = self.basin_weighted_err.get(s, np.nan)
        for s in self._obs_names():
            v, e = self.attractor_average(s)
            r[f"att_{s}"], r[f"att_{s}_err"] = v, e
        lys = [a.exponents[0] for a in self.attractors if a.attracting and len(a.exponents)]
        r["lyap_max"] = float(max(lys)) if lys else np.nan
        t = self.trajectories["t_integrated"].to_numpy(float) if len(self.trajectories) else np.zeros(0)
        r["t_integrated_mean"] = float(np.mean(t)) if t.size else np.nan
        r["t_integrated_max"] = float(np.max(t)) if t.size else np.nan
        fr = self.fragility()
        r["fragile"], r["fragile_reason"] = fr.fragile, fr.reason
        r["status"] = self.status
        r["message"] = self.message
        return r

    def fragility(self, k_sigma: float = 2.0):
        """:func:`analysis.attractors.fragility.phase_fragility` of this result (no integration)."""
        from analysis.attractors.fragility import phase_fragility

        return phase_fragility(self, k_sigma=k_sigma)

    def summary_frame(self) -> pd.DataFrame:
        """:meth:`summary_row` as a one-row DataFrame, plus the legacy ``n_<kind>`` counts,
        ``fraction_diverged``, ``fraction_unclassified`` and ``bw_<name>`` columns."""
        r = self.summary_row()
        for k in ("FP", "LC", "QP", "CH", "NEUTRAL", "SADDLE"):
            r[f"n_{k}"] = self.count(k)
        r["fraction_diverged"] = self.fraction_diverged
        r["fraction_unclassified"] = self.fraction_unclassified
        r.update({f"bw_{k}": v for k, v in self.basin_weighted.items()})
        r.update({f"bw_{k}_err": v for k, v in self.basin_weighted_err.items()})
        return pd.DataFrame([r])


def _weighted(sets, name: str, n_initial: int) -> tuple[float, float]:
    frac = np.array([a.basin_fraction for a in sets], dtype=float)
    v = np.array([a.observables.get(name, np.nan) for a in sets], dtype=float)
    e = np.array([a.observables_err.get(name, np.nan) for a in sets], dtype=float)
    ok = np.isfinite(v) & (frac > 0)
    if not ok.any():
        return float("nan"), float("nan")
    frac, v, e = frac[ok], v[ok], np.where(np.isfinite(e[ok]), e[ok], 0.0)
    w = frac / frac.sum()
    mean = float(np.sum(w * v))
    n_cls = max(int(round(frac.sum() * n_initial)), 1)
    # basin-fraction (multinomial) sampling error plus the set averages' own errors
    err = float(np.sqrt(np.sum(w * (v - mean) ** 2) / n_cls + np.sum((w * e) ** 2)))
    return mean, err


# --------------------------------------------------------------------------------------------
# observables derived from the model's geometry (no hard-coded state names)
# --------------------------------------------------------------------------------------------
def _derived_names(model: Model) -> list[tuple[str, int, int]]:
    """For each sphere block (i, j, k): the in-plane magnitude sqrt(y_i^2 + y_j^2), named ``R<suffix>``
    when the block's state names share a suffix after their first letter (XA, YA, ZA -> RA),
    else ``R_<name_i><name_j>``."""
    names = list(model.state_names)
    out = []
    for blk in getattr(model.geometry, "sphere_blocks", ()):
        i, j, k = (int(b) for b in blk)
        suf = {names[i][1:], names[j][1:], names[k][1:]}
        nm = f"R{names[i][1:]}" if len(suf) == 1 and names[i][1:] else f"R_{names[i]}{names[j]}"
        out.append((nm, i, j))
    return out


def derived_observables(model: Model, samples: np.ndarray) -> dict[str, np.ndarray]:
    """Time averages over ``samples`` (..., k, n) of the in-plane magnitude of every sphere block."""
    return {nm: np.sqrt(samples[..., i] ** 2 + samples[..., j] ** 2).mean(axis=-1)
            for nm, i, j in _derived_names(model)}


def nolds_largest(x: np.ndarray, dt: float, *, emb_dim: int = 8, n_max: int = 3000) -> float:
    """Largest Lyapunov exponent (per unit time) of a scalar series by Rosenstein's method
    (``nolds.lyap_r``), an independent cross-check. Returns nan if nolds fails."""
    import nolds

    x = np.asarray(x, dtype=float)
    stride = max(1, x.size // n_max)
    xs = x[::stride][:n_max]
    lag = max(1, autocorr_time(xs) // 2)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            val = nolds.lyap_r(xs, emb_dim=emb_dim, lag=lag, min_tsep=4 * lag, tau=dt * stride, trajectory_len=20)
    except Exception:  # noqa: BLE001  (nolds raises on short or degenerate series: record nan)
        return float("nan")
    return float(val)


# --------------------------------------------------------------------------------------------
# the measurement stage
# --------------------------------------------------------------------------------------------
class _Track:
    """Evidence kept for one measured trajectory."""

    __slots__ = ("bl", "bm", "samples", "last", "t_measured", "t_cost", "status", "y", "decision", "reason",
                 "kind", "flavour", "n_rounds", "n_drop", "rest", "_box", "_box_of", "cert")

    def __init__(self, y):
        self.bl = None        # (B, d) block exponents
        self.bm = None        # (B, n) block means
        self.samples = None   # (k, n) kept samples (subsampled)
        self.last = None      # (k, n) samples of the last segment, every sample_dt
        self.t_measured = 0.0  # total variational length so far (including dropped blocks)
        self.t_cost = 0.0     # integration time spent, including alignment
        self.status = 0
        self.y = np.array(y, dtype=float)
        self.decision = "continue"
        self.reason = ""
        self.kind = "-1"
        self.flavour = ""
        self.n_rounds = 0
        self.n_drop = 0
        self.rest = False       # decided at rest on an equilibrium
        self._box = None
        self._box_of = None
        self.cert = None        # CycleCertificate of a certified LC (no variational run)


def _keep(old: np.ndarray | None, new: np.ndarray) -> np.ndarray:
    Y = new if old is None else np.concatenate([old, new], axis=0)
    if Y.shape[0] > _MAX_KEEP:
        Y = Y[np.linspace(0, Y.shape[0] - 1, _MAX_KEEP).astype(np.int64)]
    return Y


def _window_overlap(A: np.ndarray, B: np.ndarray, lo: np.ndarray, h: np.ndarray, nbins: np.ndarray) -> float:
    """Two-way shared support of two sample windows (k_a, n), (k_b, n), compared over their last
    min(k_a, k_b) samples: the smaller of the fraction of A's samples in cells B visits and of B's
    samples in cells A visits (a cycle inside a chaotic sea shares one way only)."""
    k = min(A.shape[0], B.shape[0])
    if k < 10:
        return 0.0
    ca, wa = _cells_of(A[-k:], lo, h, nbins)
    cb, wb = _cells_of(B[-k:], lo, h, nbins)
    return shared_both_ways((ca, wa), (cb, wb))


def _cells_of(S, lo, h, nbins):
    from analysis.attractors.grouping import _cells

    return _cells(S, lo, h, nbins)


def _rows_by_point(point: np.ndarray) -> dict:
    """Row indices of every point (cached for the array ``point``)."""
    key = id(point)
    hit = _ROWS_CACHE.get(key)
    if hit is not None and hit[0] is point:
        return hit[1]
    out: dict[int, list[int]] = {}
    for i, p in enumerate(np.asarray(point).tolist()):
        out.setdefault(int(p), []).append(i)
    _ROWS_CACHE.clear()
    _ROWS_CACHE[key] = (point, out)
    return out


_ROWS_CACHE: dict = {}


def _box(tr) -> np.ndarray:
    """(2, n) bounds of a track's kept samples (cached on the track until its samples change)."""
    S = tr.samples
    if getattr(tr, "_box_of", None) is not S:
        ok = S[np.all(np.isfinite(S), axis=1)]
        tr._box = np.stack([ok.min(axis=0), ok.max(axis=0)]) if ok.shape[0] else np.full((2, S.shape[1]), np.nan)
        tr._box_of = S
    return tr._box


def _point_grid(S: np.ndarray, frac: float):
    lo, hi = S.min(axis=0), S.max(axis=0)
    span = hi - lo
    nb_max = max(1, int(round(1.0 / frac)))
    big = span > 1e-6 * max(1.0, float(span.max()))
    nbins = np.where(big, nb_max, 1).astype(np.int64)
    return lo, np.where(big, span / nb_max, 1.0) * (1 + 1e-9), nbins


def _evidence(tr) -> tuple[np.ndarray, np.ndarray, float, float]:
    """Exponents, their errors, the sum and its error of a track's kept blocks."""
    B = tr.bl.shape[0]
    lam = tr.bl.mean(axis=0)
    err = tr.bl.std(axis=0, ddof=1) / np.sqrt(B)
    S, eS = sum_error(tr.bl)
    return lam, err, float(S), float(eS)


def _consistent(tf, tl, z: float) -> tuple[bool, str]:
    """Whether the exponents (and their sum) measured so far on track ``tf`` agree with those of
    ``tl`` within ``z`` combined standard errors, component by component (a torus beside a chaotic
    attractor can share its coarse support, never its spectrum)."""
    if tf.bl is None or tl.bl is None or tf.bl.shape[0] < 2 or tl.bl.shape[0] < 2:
        return False, "no exponents to compare"
    lf, ef, Sf, eSf = _evidence(tf)
    ll, el, Sl, eSl = _evidence(tl)
    if not (np.all(np.isfinite(lf)) and np.all(np.isfinite(ll)) and np.isfinite(eSf) and np.isfinite(eSl)):
        return False, "exponents not finite"
    dev = np.abs(lf - ll) / np.maximum(np.hypot(ef, el), 1e-300)
    dS = abs(Sf - Sl) / max(float(np.hypot(eSf, eSl)), 1e-300)
    worst = float(max(dev.max(), dS))
    return worst <= z, f"spectra agree within {worst:.1f} combined errors"


def _share_round(tracks: list, point: np.ndarray, cont: list[int], follow: dict, opts: CensusOptions,
                 ic: np.ndarray, syms: list = ()) -> list[int]:
    """One sharing step (``CensusOptions.share_attractors``) over the trajectories ``cont`` that
    continue; returns those that still need their own run (the leaders).

    A continuing trajectory *inherits* the label of a decided trajectory of its point (not one
    settled at rest: equilibria are matched exactly) by the rule that joins orbits undecided at the
    cap (:func:`_assemble`), applied after every round instead of only at the cap:

    * chaotic evidence (largest exponent clear of the cap's zero band by ``n_sigma`` errors, sum
      negative by 2 errors): on a decided dissipative CH orbit's support (``overlap_min``, at least
      0.5, coarse cells) with a sum that agrees within ``n_sigma`` combined errors;
    * otherwise: sharing its support *both ways* (``share_overlap``, fine cells: a cycle inside a
      chaotic sea shares one way only) with a decided LC or QP orbit.

    A trajectory whose last window shares its support both ways with another continuing one
    (``share_overlap``, coarse cells, equal-length windows) *follows* it (``follow[f] = leader``).
    ``syms`` (name, matrix) are the model's symmetries that keep time: a trajectory whose mirror image lies on a
    decided orbit inherits its label as well (mirror images have the same exponents; the set they
    form is the mirror set, grouped apart later). Either way the label passes only if the exponents measured so far agree with the decided
    run's, every component and the sum within ``n_sigma`` combined errors (:func:`_consistent`):
    a torus next to a chaotic attractor may share its coarse support, not its spectrum.
    """
    leaders: list[int] = []
    by_point: dict[int, list[int]] = {}
    for i in cont:
        by_point.setdefault(int(point[i]), []).append(i)
    z = opts.n_sigma
    band_cap = float(opts.zero_band(opts.t_cap))
    thr = max(opts.overlap_min, 0.5)
    rows_of = _rows_by_point(point)
    for p, idx in by_point.items():
        mine = [i for i in rows_of[p] if tracks[i].samples is not None and tracks[i].samples.shape[0]]
        if not mine:
            leaders.extend(idx)
            continue
        # the point's box, holding the mirror images too (an image outside the grid would be
        # clipped into edge cells): the image of a box [c - r, c + r] under S lies in [Sc - |S|r, Sc + |S|r]
        box = np.array([_box(tracks[i]) for i in mine])
        blo, bhi = np.nanmin(box[:, 0], axis=0), np.nanmax(box[:, 1], axis=0)
        c, rad = (blo + bhi) / 2, (bhi - blo) / 2
        lo_all = np.min([blo] + [m @ c - np.abs(m) @ rad for _, m in syms], axis=0)
        hi_all = np.max([bhi] + [m @ c + np.abs(m) @ rad for _, m in syms], axis=0)
        gc = _point_grid(np.stack([lo_all, hi_all]), opts.family_cell_frac)
        gf = _point_grid(np.stack([lo_all, hi_all]), opts.cell_frac)
        # attracting kinds only: conservative chaos and neutral families differ from weakly
        # dissipative neighbours by the sign of a small sum, which a short run cannot tell (tried:
        # joining them turned a CH point of the Fig. 2 sample into 'none')
        refs = [i for i in mine if tracks[i].decision == "decided" and not tracks[i].rest and tracks[i].bl is not None
                and tracks[i].kind in ("CH", "LC", "QP") and (tracks[i].kind != "CH" or tracks[i].flavour == "dissipative")]
        memo: dict = {}
        ev: dict = {}
        mats = dict(syms)

        def cells(i, g, img=None):
            key = (i, id(g), img)
            if key not in memo:
                Y = tracks[i].samples
                memo[key] = _cells_of(Y if img is None else Y @ mats[img].T, *g)
            return memo[key]

        def evid(i):
            if i not in ev:
                ev[i] = _evidence(tracks[i])
            return ev[i]

        def win(i, k):
            key = (i, "w", k)
            if key not in memo:
                W = tracks[i].last if tracks[i].last is not None else tracks[i].samples
                memo[key] = _cells_of(W[-k:], *gc) if W.shape[0] >= max(k, 10) else None
            return memo[key]

        lead_p: list[int] = []
        for i in idx:
            tr = tracks[i]
            if tr.bl is None or tr.bl.shape[0] < 2 or tr.samples is None or tr.samples.shape[0] < 10:
                lead_p.append(i)
                continue
            lam, err, S, eS = evid(i)
            cands = []   # (overlap, ref, evidence, image): every orbit and its mirror images
            if np.all(np.isfinite(lam)) and np.isfinite(eS):
                chaotic = lam[0] - z * err[0] > band_cap
                for img in [None] + [nm for nm, _ in syms]:
                    if chaotic:
                        for r in refs:
                            if tracks[r].kind != "CH":
                                continue
                            if not S + 2 * eS < 0:
                                continue
                            Sr, eSr = evid(r)[2:]
                            if abs(Sr - S) > z * np.hypot(eSr, eS):
                                continue
                            ov = support_overlap(cells(i, gc, img), cells(r, gc))
                            if ov >= thr:
                                cands.append((ov, r, f"chaotic (largest exponent {lam[0]:+.4f}+-{err[0]:.1e}, sum "
                                                     f"{S:+.4f}+-{eS:.1e}) on {ov:.0%} of the support of", img))
                    else:
                        for r in refs:
                            if tracks[r].kind not in ("LC", "QP"):
                                continue
                            ov = shared_both_ways(cells(i, gf, img), cells(r, gf))
                            if ov >= opts.share_overlap:
                                cands.append((ov, r, f"shares {ov:.0%} of its support both ways with", img))
            got = None
            for ov, r, text, img in sorted(cands, key=lambda c: -c[0]):
                ok, why = _consistent(tr, tracks[r], z)
                if ok:
                    got = (r, text, img, why)
                    break
            if got is not None:
                r, text, img, why = got
                ref = tracks[r]
                tr.kind, tr.flavour, tr.decision = ref.kind, ref.flavour, "inherited"
                what = "the decided run" if img is None else f"the {img} mirror image of the decided run"
                tr.reason = (f"{text} {what} of initial condition {int(ic[r])} ({ref.kind}), {why}: on that "
                             f"attractor; {tr.reason}")
                continue
            wl = tr.last if tr.last is not None else tr.samples
            best = (0.0, -1)
            for r in lead_p:
                wr = tracks[r].last if tracks[r].last is not None else tracks[r].samples
                k = min(wl.shape[0], wr.shape[0])
                a_, b_ = win(i, k), win(r, k)
                if a_ is None or b_ is None:
                    continue
                ov = shared_both_ways(a_, b_)
                if ov > best[0]:
                    best = (ov, r)
            if best[0] >= opts.share_overlap:
                follow[i] = best[1]
                continue
            lead_p.append(i)
        leaders.extend(lead_p)
    return leaders


def pool_undecided_sums(idx, lam: np.ndarray, lam_err: np.ndarray, lsum: np.ndarray, lsum_err: np.ndarray,
                        cells: list, opts: CensusOptions) -> list[tuple[list[int], float, float]]:
    """Groups of orbits undecided at the cap whose pooled exponent sum shows a contracting volume.

    Candidates are the orbits ``idx`` with chaotic evidence (largest exponent clear of the cap's
    zero band by ``n_sigma`` errors) and a finite sum error, WHATEVER the sign of their own sum.
    Two candidates are linked when they share coarse support (``cells``, :func:`support_overlap` at
    least ``max(overlap_min, 0.5)``) and their largest exponents agree within ``n_sigma`` combined
    errors (one chaotic object; not the sums or the exponents that carry them, whose agreement
    would again split a group by the sign being tested); a connected group of at least
    two pools its sums (inverse-variance mean ``sp`` and error ``ep``) and is returned as
    ``(members, sp, ep)`` when ``sp + n_sigma ep`` lies below minus the cap's zero band.

    The candidates were once only those whose own sum was already negative by two errors: a
    selection on the sign of the very statistic the pool then tests. On a conservative sea
    (sums scattered around zero) the selected members' mean is negative by construction and its
    error shrinks like one over the square root of their number, so with enough initial
    conditions the pool called the sea a dissipative attractor (the census at cut (c), J = 0.4,
    lam = 1 answered "none" with 64 initial conditions and "CH" with 256).
    """
    z = opts.n_sigma
    band_cap = float(opts.zero_band(opts.t_cap))
    pool = [j for j in idx if np.all(np.isfinite(lam[j])) and np.all(np.isfinite(lam_err[j]))
            and np.isfinite(lsum_err[j]) and lam[j, 0] - z * lam_err[j, 0] > band_cap]
    out = []
    m = len(pool)
    if m < 2:
        return out
    thr = max(opts.overlap_min, 0.5)
    adj = np.zeros((m, m), dtype=bool)
    for a in range(m):
        i = pool[a]
        for b in range(a + 1, m):
            j = pool[b]
            same_l1 = abs(lam[i, 0] - lam[j, 0]) <= z * float(np.hypot(lam_err[i, 0], lam_err[j, 0]))
            if same_l1 and support_overlap(cells[i], cells[j]) >= thr:
                adj[a, b] = adj[b, a] = True
    sub = components(adj)
    for g in np.unique(sub):
        mem = [pool[i] for i in np.nonzero(sub == g)[0]]
        if len(mem) < 2:
            continue
        w = 1.0 / np.maximum(lsum_err[mem], 1e-12) ** 2
        sp, ep = float(np.sum(w * lsum[mem]) / w.sum()), float(1.0 / np.sqrt(w.sum()))
        if sp + z * ep < -band_cap:
            out.append((mem, sp, ep))
    return out


def _measure(model: Model, Pm: np.ndarray, Y: np.ndarray, opts: CensusOptions, settle,
             point: np.ndarray | None = None, ic: np.ndarray | None = None) -> tuple[list[_Track], float]:
    """Measure every row of Y until decided or capped. ``settle(i, y)`` -> (kind, flavour, reason) or
    None decides trajectories found at rest.

    One :func:`bifurcate.lyapunov.lyapunov_spectra` call over all rows for ``t_min``, then
    :func:`bifurcate.lyapunov.lyapunov_extend` of the undecided rows only (the tangent frame and
    integrator state resume where they stopped), doubling the measured length up to ``t_cap``.
    With ``opts.share_attractors`` and ``point`` (the parameter point of every row), rows of one
    point on one attractor share one measurement (:func:`_share_round`; ``ic`` names the rows'
    initial conditions in the reasons).
    """
    from bifurcate.lyapunov import lyapunov_extend

    tracks = [_Track(y) for y in Y]
    M = len(tracks)
    lo = opts.lyapunov_options(opts.t_min)
    tab = pd.DataFrame(Pm, columns=list(model.param_names))
    ens = lyapunov_spectra(model, tab, Y[:, None, :], options=lo, keep_samples=True)
    wall = ens.wall_time
    bt = float(ens.block_time)
    for tr in tracks:
        tr.t_cost = lo.t_align
    active = np.arange(M)
    inc = np.full(M, lo.n_blocks * bt)   # length each row gained in its last extension
    S_of = {i: ens.samples[i] for i in range(M)}
    share = bool(opts.share_attractors) and point is not None
    if ic is None:
        ic = np.arange(M)
    follow: dict[int, int] = {}
    # time-reversing symmetries (PT) map attractors onto repellers: only the others share runs
    syms = [(sym.name, np.asarray(sym.matrix, dtype=float)) for sym in getattr(model, "symmetries", ())
            if not getattr(sym, "reverses_time", False)]
    skip = np.zeros(M, dtype=np.int64)  # leading blocks dropped as transient
    while True:
        nxt = []
        per = max(2, int(round(bt / opts.sample_dt)))
        for i in active:
            tr = tracks[i]
            tr.n_rounds += 1
            tr.t_cost += inc[i]
            tr.t_measured += inc[i]
            tr.y = ens.y_final[i].copy()
            st = int(ens.status[i])
            if st != 0:
                tr.status = st
                tr.decision = "diverged" if st == -3 else "not_trusted"
                tr.kind = "DIV" if st == -3 else "-1"
                tr.reason = f"variational integration: {LYAPUNOV_STATUS.get(st, f'status {st}')}"
                continue
            nb = int(ens.n_blocks_done[i])
            tr.bl = ens.block_exponents[i, skip[i]:nb]
            tr.bm = ens.block_means[i, skip[i]:nb]
            Si = S_of.pop(i)
            Si = Si[np.all(np.isfinite(Si), axis=1)]
            tr.samples = _keep(tr.samples, Si)
            tr.last = Si
            B = tr.bl.shape[0]
            block_std = Si[-per:].std(axis=0)
            # the Poincare return is only needed to tell a family of cycles from a torus: lazily
            periodic = (lambda Si=Si: poincare_return(np.arange(Si.shape[0]) * opts.sample_dt, Si, tol=1e-2)["order"] > 0)
            h = tr.samples.shape[0] // 2
            sd1 = float(np.sqrt(np.sum(tr.samples[:h].var(axis=0))))
            sd2 = float(np.sqrt(np.sum(tr.samples[h:].var(axis=0))))
            amp = sd2 / sd1 if sd1 > 0 else np.nan
            dec = decide(tr.bl, tr.bm, block_std, B * bt, opts, periodic=periodic, amp_ratio=amp)
            if dec.state == "rest":
                got = settle(i, tr.y)
                if got is not None:
                    tr.kind, tr.flavour, tr.reason = got
                    tr.decision = "decided"
                    tr.rest = True
                    continue
                dec = type(dec)("continue", reason=dec.reason + "; no equilibrium found there")
            if dec.state == "drop":
                skip[i] += B // 2
                tr.samples = tr.samples[tr.samples.shape[0] // 2:]
                tr.n_drop += 1
            if dec.state == "decided":
                tr.kind, tr.flavour, tr.reason, tr.decision = dec.kind, dec.flavour, dec.reason, "decided"
                if dec.kind == "-1":
                    tr.decision = "not_trusted"
                continue
            tr.reason = dec.reason
            if tr.t_measured < opts.t_cap - 1e-9:
                nxt.append(i)
            else:
                tr.decision = "undecided"
                tr.kind = "-1"
                tr.reason = f"undecided at the cap t_cap={opts.t_cap:g}: {dec.reason}"
        if share:
            # followers of leaders that are done: inherit a decided label, or resume their own run
            def resolve_followers():
                for f, ld in list(follow.items()):
                    trl = tracks[ld]
                    if trl.decision == "continue" or ld in nxt:
                        continue
                    del follow[f]
                    tr = tracks[f]
                    ok, why = (_consistent(tr, trl, opts.n_sigma) if trl.decision in ("decided", "inherited")
                               and trl.kind not in ("-1", "DIV") and not trl.rest else (False, ""))
                    if ok:
                        tr.kind, tr.flavour, tr.decision = trl.kind, trl.flavour, "inherited"
                        tr.reason = (f"inherits the label of initial condition {int(ic[ld])}, whose run it followed "
                                     f"(shared support of the last windows; {why}); {tr.reason}")
                    else:
                        # leader undecided, failed or at rest (equilibria match exactly), or its spectrum
                        # differs from this run's: measured on its own
                        nxt.append(f)

            resolve_followers()
            nxt = _share_round(tracks, point, sorted(nxt), follow, opts, ic, syms)
            while not nxt and follow:
                # nothing left to measure, but a follower waits on a leader that was itself a follower
                # and was resolved after it in the pass above: pass again (never end on 'continue');
                # a follower whose leader cannot resolve any more resumes its own run
                n_wait = len(follow)
                resolve_followers()
                if not nxt and len(follow) == n_wait:
                    nxt.extend(sorted(follow))
                    follow.clear()
                if nxt:
                    nxt = _share_round(tracks, point, sorted(nxt), follow, opts, ic, syms)
        active = np.array(sorted(nxt), dtype=np.int64)
        if not active.size:
            break
        # each row grows its own measured length by look_factor (up to the cap): the schedule of a
        # row does not depend on the other rows of the batch (a follower that resumes late keeps its own)
        for i in active:
            done = tracks[i].t_measured
            inc[i] = max(bt, np.ceil(float(min(done * (opts.look_factor - 1.0), opts.t_cap - done)) / bt - 1e-9) * bt)
        for t_more in np.unique(inc[active]):
            rows = active[inc[active] == t_more]
            ens = lyapunov_extend(model, ens, float(t_more), active=rows, keep_samples="active")
            wall += ens.wall_time
            pos = {int(r): k for k, r in enumerate(ens.sample_rows)}
            for i in rows:
                S_of[i] = ens.samples[pos[int(i)]] if int(i) in pos else np.full((0, model.n), np.nan)
    return tracks, wall


# --------------------------------------------------------------------------------------------
# the census of many points
# --------------------------------------------------------------------------------------------
def _find_equilibria():
    from bifurcate.equilibria import find_equilibria

    return find_equilibria


def _certified_track(y, cert, obs_samples: np.ndarray, n_blocks: int) -> _Track:
    """A track for a certified LC: ``n_blocks`` equal blocks carrying the Floquet exponents and the
    orbit average (zero spread: exact up to the collocation error), the polished orbit as its
    samples (uniform in time over one period)."""
    tr = _Track(y)
    tr.bl = np.repeat(cert.exponents[None, :], n_blocks, axis=0)
    tr.bm = np.repeat(obs_samples.mean(axis=0)[None, :], n_blocks, axis=0)
    tr.samples = obs_samples
    tr.last = obs_samples
    tr.decision, tr.kind, tr.flavour = "certified", "LC", ""
    tr.reason = cert.message
    tr.cert = cert
    return tr


#: floats of probe samples held at once by the certified path (~32 MB)
_PROBE_FLOATS = 4_000_000


def _certify_stage(model, opts, table, Pm_pt, yT, decision, kind, flav, reason, eq_of, eq_dist, eqsets, cost) -> dict:
    """The certified fast path over the trajectories not yet decided (``decision == ""``).

    Writes FP certificates in place (kind, decision ``certified``, ``eq_of``; the equilibrium is
    added to the point's set if missing) and returns ``{(p, j): _Track}`` for certified LCs.
    Stage 1: the basin ellipsoid at the transient's end point; stage 2: a state-only probe of
    ``certify_probe`` with samples every ``sample_dt``, then the ellipsoid again at its end, then
    proximity to the cycles certified so far at the point, then :func:`certify_cycle`.
    """
    from analysis.attractors.certify import certify_cycle, certify_fixed_points, orbit_distance
    from bifurcate.equilibria import find_equilibria

    P, N, n = yT.shape
    balls = [dict() for _ in range(P)]
    syms = [(sym.name, np.asarray(sym.matrix, dtype=float)) for sym in getattr(model, "symmetries", ())
            if not getattr(sym, "reverses_time", False)]

    def take_fp(p, j, y, ball, why):
        es = eqsets[p]
        d = np.max(np.abs(es.states - ball.state), axis=1) if len(es) else np.zeros(0)
        if not d.size or d.min() > 1e-6:
            eqsets[p] = _merge_eq(model, es, find_equilibria(model, es.params, seeds=ball.state[None, :], n_seeds=0))
            d = np.max(np.abs(eqsets[p].states - ball.state), axis=1)
        e = int(np.argmin(d))
        if d[e] > 1e-6 or not eqsets[p].stable[e]:
            return False
        kind[p, j], flav[p, j], decision[p, j] = "FP", "", "certified"
        eq_of[p, j], eq_dist[p, j] = e, float(np.max(np.abs(y - eqsets[p].states[e])))
        reason[p, j] = f"{why} (equilibrium {e})"
        return True

    rest = []
    for p in range(P):
        js = [j for j in range(N) if decision[p, j] == "" and np.all(np.isfinite(yT[p, j]))]
        if not js:
            continue
        ok, info = certify_fixed_points(model, Pm_pt[p], yT[p, js], margin=opts.certify_fp_margin, balls=balls[p])
        for k, j in enumerate(js):
            if not (ok[k] and take_fp(p, j, yT[p, j], info[k][0], "transient end point: " + info[k][1])):
                rest.append((p, j))
    out: dict = {}
    if not rest:
        return out
    # the probe: state only, samples every sample_dt
    dt = opts.sample_dt
    Tp = float(np.ceil(opts.certify_probe / dt) * dt)
    t_eval = np.arange(0.0, Tp + 0.5 * dt, dt)
    margin_lc = float(opts.zero_band(opts.t_zero_min))
    nb = max(4, int(round(opts.t_min / opts.block_time)))
    cycles: dict = {}
    approach: list = []
    # in batches: the samples of a batch take batch x len(t_eval) x n floats
    batch = max(1, int(_PROBE_FLOATS // (t_eval.size * n)))
    for k, (p, j) in enumerate(rest):
        if k % batch == 0:
            sl = rest[k:k + batch]
            tab = table.iloc[[p_ for p_, _ in sl]].reset_index(drop=True)
            Yp = np.array([yT[p_, j_] for p_, j_ in sl])[:, None, :]
            ens = integrate_ensemble(model, tab, y0=Yp, t_end=Tp, t_eval=t_eval, options=opts.integration)
        kb = k % batch
        cost[p, j] += Tp
        if ens.status[kb, 0] != 0:
            continue
        S = ens.samples[kb, 0]
        if not np.all(np.isfinite(S)):
            continue
        if model.geometry.n_spheres:
            S = model.geometry.project(S)
        yend = S[-1]
        ok, info = certify_fixed_points(model, Pm_pt[p], yend[None, :], margin=opts.certify_fp_margin, balls=balls[p])
        if ok[0]:
            take_fp(p, j, yend, info[0][0], f"after a state-only probe of {Tp:g}: " + info[0][1])
            continue
        ball = info[0][0]

        def heading_for_fp(ball=ball, S=S, yend=yend, p=p, j=j):
            # heading for a certified equilibrium (its Newton zero) without being in its ellipsoid
            # yet (and not on a certified cycle): the P-distance is followed in state-only rounds below
            if ball is not None and ball.certified:
                d0 = float(ball.p_distance(S[S.shape[0] // 2])[0])
                d1 = float(ball.p_distance(yend)[0])
                if d1 < d0:
                    approach.append((p, j, yend, d1))

        if float(np.max(S.std(axis=0))) < 1e-6:
            heading_for_fp()
            continue   # at rest on something uncertified: the census decides
        pp = {nm: float(v) for nm, v in zip(model.param_names, Pm_pt[p])}
        cert, via = None, ""
        for c, j0 in cycles.get(p, []):
            # proximity: within the tube of a cycle certified at this point, approaching it
            ext = max(float(np.max(np.ptp(c.orbit, axis=0))), 1e-12)
            kper = int(round(c.period / dt))
            if kper < 8 or kper + 1 > S.shape[0]:
                continue
            dist = orbit_distance(S, c.orbit) / ext
            h = S.shape[0] // 2
            if float(np.max(dist[-kper - 1:])) <= opts.certify_tube and \
                    float(np.max(dist[h:])) <= float(np.max(dist[:h])) * 1.01 + 1e-2 * opts.certify_tube:
                cert, via = c, (f"within {float(np.max(dist[-kper - 1:])):.1e} of the cycle certified from initial "
                                f"condition {j0} (proximity): ")
                break
        if cert is None:
            c = certify_cycle(model, pp, t_eval, S, margin=margin_lc, tube=opts.certify_tube)
            if not c.certified:
                heading_for_fp()
                continue
            cycles.setdefault(p, []).append((c, j))
            # its mirror images under the symmetries that keep time are certified cycles too (same
            # multipliers and period): candidates for the proximity test of the other trajectories
            for nm, mat in syms:
                img = c.orbit @ mat.T
                ext = max(float(np.max(np.ptp(c.orbit, axis=0))), 1e-12)
                if float(np.max(orbit_distance(img[::10], c.orbit))) / ext > opts.certify_tube:
                    cycles[p].append((replace(c, orbit=img, message=f"{nm} image of: {c.message}"), f"{j} ({nm} image)"))
            cert = c
        # observables over the polished orbit (uniform in time), derived ones included
        orb = cert.orbit
        tr = _certified_track(yend, cert, orb, nb)
        tr.reason = via + cert.message
        tr.t_cost = Tp
        out[(p, j)] = tr
        kind[p, j], flav[p, j], decision[p, j] = "LC", "", "certified"
        reason[p, j] = tr.reason
    # proximity rounds for trajectories approaching a certified equilibrium: state only, doubling
    # lengths, while the P-distance keeps decreasing, up to t_cap in all
    t_done = Tp
    while approach and t_done < opts.t_cap:
        t_more = float(min(t_done, opts.t_cap - t_done))
        tab = table.iloc[[p for p, _, _, _ in approach]].reset_index(drop=True)
        Yp = np.array([y for _, _, y, _ in approach])[:, None, :]
        ens = integrate_ensemble(model, tab, y0=Yp, t_end=t_more, options=opts.integration)
        t_done += t_more
        nxt = []
        for k, (p, j, _, dprev) in enumerate(approach):
            cost[p, j] += t_more
            y = ens.y_final[k, 0]
            if ens.status[k, 0] != 0 or not np.all(np.isfinite(y)):
                continue
            if model.geometry.n_spheres:
                y = model.geometry.project(y)
            ok, info = certify_fixed_points(model, Pm_pt[p], y[None, :], margin=opts.certify_fp_margin, balls=balls[p])
            if ok[0]:
                take_fp(p, j, y, info[0][0], f"after state-only probes of {t_done:g}: " + info[0][1])
                continue
            ball = info[0][0]
            if ball is not None and ball.certified and float(ball.p_distance(y)[0]) < dprev:
                nxt.append((p, j, y, float(ball.p_distance(y)[0])))
        approach = nxt
    return out


def census_points(model: Model, params, y0: np.ndarray, *, options: CensusOptions | Mapping | None = None,
                  seed: Any = None, equilibria: list | None = None, measure: bool = True) -> list[CensusResult]:
    """The census of P parameter points at once (one integration call per stage and round).

    Parameters
    ----------
    model : Model
    params : DataFrame (P rows) or list of dicts
    y0 : ndarray (P, N, n)
        Initial conditions per point (drawn by the caller).
    options : CensusOptions or mapping
    seed : recorded in the results
    equilibria : list of EquilibriumSet, optional
        Per point, from :func:`bifurcate.equilibria.find_equilibria` (computed here if omitted);
        equilibria that trajectories come to rest on are added by Newton from the state at rest.
    measure : bool
        False: stop after the transient stage (trajectories not settled on an equilibrium stay
        unclassified, decision ``not_measured``): counts of stable equilibria and their basins only.

    Returns
    -------
    list of CensusResult (one per point)
    """
    t_start = time.perf_counter()
    opts = CensusOptions.coerce(options)
    from bifurcate.integrate import _as_param_table

    table = _as_param_table(model, params)
    Y0 = np.asarray(y0, dtype=float)
    if Y0.ndim != 3 or Y0.shape[0] != len(table) or Y0.shape[2] != model.n:
        raise ValueError(f"y0 must have shape ({len(table)}, N, {model.n}), got {Y0.shape}")
    P, N, n = Y0.shape
    if model.geometry.n_spheres:
        Y0 = model.geometry.project(Y0)
    names = list(model.state_names)
    Pm_pt = table[list(model.param_names)].to_numpy(float)
    cost = np.zeros((P, N))
    times = dict.fromkeys(("equilibria", "integrate", "certify", "lyapunov", "grouping"), 0.0)
    t0 = time.perf_counter()
    # 1. transient
    if opts.t_transient > 0:
        ens = integrate_ensemble(model, table, y0=Y0, t_end=opts.t_transient, t_transient=0.5 * opts.t_transient,
                                 options=opts.integration)
        yT, mT, sT, stT = ens.y_final, ens.mean, ens.std, ens.status
        cost += opts.t_transient
    else:
        yT, mT, sT, stT = Y0.copy(), np.full_like(Y0, np.nan), np.full_like(Y0, np.nan), np.zeros((P, N), np.int64)
    if model.geometry.n_spheres:
        yT = np.where(np.isfinite(yT), model.geometry.project(np.nan_to_num(yT)), yT)
    at_rest = (stT == 0) & np.all(sT <= opts.fp_std_tol, axis=2)
    times["integrate"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    # 2. equilibria, plus Newton from the states at rest
    find_eq = _find_equilibria()
    if equilibria is not None and len(equilibria) != P:
        raise ValueError(f"equilibria must hold one EquilibriumSet per point ({P}), got {len(equilibria)}")
    eqsets = []
    for p in range(P):
        pp = {k: float(v) for k, v in zip(model.param_names, Pm_pt[p])}
        es = equilibria[p] if equilibria is not None else find_eq(model, pp)
        seeds = yT[p][at_rest[p]]
        if len(seeds):
            from bifurcate.equilibria import find_equilibria as _seeded

            es = _merge_eq(model, es, _seeded(model, pp, seeds=seeds, n_seeds=0))
        eqsets.append(es)
    times["equilibria"] = time.perf_counter() - t0

    def match_eq(p, y):
        es = eqsets[p]
        if len(es) == 0 or not np.all(np.isfinite(y)):
            return None
        d = np.max(np.abs(es.states - y), axis=1)
        j = int(np.argmin(d))
        return (j, float(d[j])) if d[j] < opts.fp_match_tol else None

    def settled_kind(p, j):
        es = eqsets[p]
        if es.stable[j]:
            return "FP", "", f"at rest on stable equilibrium {j} (max Re eig {es.eigenvalues[j, 0].real:+.3e})"
        if es.n_unstable[j] > 0:
            return "SADDLE", "", (f"at rest on unstable equilibrium {j} ({int(es.n_unstable[j])} unstable directions, "
                                  f"max Re eig {es.eigenvalues[j, 0].real:+.3e}): not an attractor")
        return "NEUTRAL", "conservative", f"at rest on marginal equilibrium {j} (centre): neutral"

    kind = np.full((P, N), "-1", dtype=object)
    flav = np.full((P, N), "", dtype=object)
    decision = np.full((P, N), "", dtype=object)
    reason = np.full((P, N), "", dtype=object)
    eq_of = np.full((P, N), -1, dtype=np.int64)
    eq_dist = np.full((P, N), np.nan)
    for p in range(P):
        for j in range(N):
            if stT[p, j] != 0:
                kind[p, j] = "DIV" if stT[p, j] == -3 else "-1"
                decision[p, j] = "diverged" if stT[p, j] == -3 else "not_trusted"
                reason[p, j] = f"transient: {STATUS_MESSAGES.get(int(stT[p, j]), f'status {int(stT[p, j])}')}"
            elif at_rest[p, j]:
                m = match_eq(p, yT[p, j])
                if m is not None:
                    eq_of[p, j], eq_dist[p, j] = m
                    kind[p, j], flav[p, j], reason[p, j] = settled_kind(p, m[0])
                    decision[p, j] = "settled"
    # 2b. the certified fast path (CensusOptions.certify): FP by a basin ellipsoid, LC by
    # collocation + Floquet; the rest goes on to the measurement unchanged
    cert_tracks: dict = {}
    if opts.certify and measure:
        t0 = time.perf_counter()
        cert_tracks = _certify_stage(model, opts, table, Pm_pt, yT, decision, kind, flav, reason, eq_of, eq_dist,
                                     eqsets, cost)
        times["certify"] = time.perf_counter() - t0
    # 3. measurement of the rest; trajectories with equal transient windows share one run
    todo = [(p, j) for p in range(P) for j in range(N) if decision[p, j] == ""]
    rep_of = {}
    reps = []
    for p in range(P):
        lead: list[int] = []
        for j in [jj for (pp, jj) in todo if pp == p]:
            F = np.r_[mT[p, j], sT[p, j]]
            hit = None
            if opts.share_work and np.all(np.isfinite(F)):
                for r in lead:
                    if np.max(np.abs(np.r_[mT[p, r], sT[p, r]] - F)) <= opts.share_tol:
                        hit = r
                        break
            if hit is None:
                lead.append(j)
                reps.append((p, j))
                rep_of[(p, j)] = (p, j)
            else:
                rep_of[(p, j)] = (p, hit)
    eq_meas = {}

    def settle_meas(i, y):
        p, j = reps[i]
        m = match_eq(p, y)
        if m is None:
            # an equilibrium the seeds missed: Newton from the state at rest, added to the set
            from bifurcate.equilibria import find_equilibria as _fe

            es = _fe(model, eqsets[p].params, seeds=y[None, :], n_seeds=0)
            if len(es):
                eqsets[p] = _merge_eq(model, eqsets[p], es)
                m = match_eq(p, y)
        if m is None:
            return None
        eq_meas[i] = m
        return settled_kind(p, m[0])

    wall_l = 0.0
    tracks: list[_Track] = []
    t0 = time.perf_counter()
    if not measure:
        for (p, j) in todo:
            decision[p, j] = "not_measured"
            reason[p, j] = "not at rest on an equilibrium after the transient; not measured (measure=False)"
        todo, reps, rep_of = [], [], {}
    if reps:
        Pm = np.array([Pm_pt[p] for p, _ in reps])
        Yr = np.array([yT[p, j] for p, j in reps])
        tracks, wall_l = _measure(model, Pm, Yr, opts, settle_meas, point=np.array([p for p, _ in reps]),
                                  ic=np.array([j for _, j in reps]))
    for pj, tr in cert_tracks.items():
        # certified LC: a track with the exact exponents and the polished orbit (no variational run)
        reps.append(pj)
        rep_of[pj] = pj
        tracks.append(tr)
    rep_index = {pj: i for i, pj in enumerate(reps)}
    for (p, j) in todo:
        i = rep_index[rep_of[(p, j)]]
        tr = tracks[i]
        kind[p, j], flav[p, j], decision[p, j] = tr.kind, tr.flavour, tr.decision
        reason[p, j] = tr.reason if rep_of[(p, j)] == (p, j) else f"shares the run of initial condition {rep_of[(p, j)][1]}: {tr.reason}"
        cost[p, j] += tr.t_cost
        if i in eq_meas:
            eq_of[p, j], eq_dist[p, j] = eq_meas[i]
    times["lyapunov"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    seed_rec = seed if not isinstance(seed, np.random.Generator) else None
    out = []
    for p in range(P):
        out.append(_assemble(model, opts, table.iloc[p].to_dict(), p, N, kind[p], flav[p], decision[p], reason[p],
                             eq_of[p], eq_dist[p], eqsets[p], yT[p], mT[p], sT[p], rep_of, rep_index, tracks, cost[p],
                             seed_rec, wall_l / max(P, 1), time.perf_counter() - t_start, measure))
    times["grouping"] = time.perf_counter() - t0
    wall = time.perf_counter() - t_start
    share = {k: v / P for k, v in times.items()}
    return [_with_wall(r, wall / P, share) for r in out]


def _with_wall(r: CensusResult, w: float, timings: dict) -> CensusResult:
    object.__setattr__(r, "wall_time", w)
    object.__setattr__(r, "timings", dict(timings))
    return r


def _merge_eq(model, a, b):
    """Equilibrium set a with the equilibria of b that a lacks (same parameters)."""
    from bifurcate.equilibria import EquilibriumSet

    new = [k for k in range(len(b)) if len(a) == 0 or np.min(np.max(np.abs(a.states - b.states[k]), axis=1)) > 1e-6]
    if not new:
        return a
    cat = lambda x, y: np.concatenate([x, y[new]], axis=0)  # noqa: E731
    return EquilibriumSet(model=a.model, params=a.params, states=cat(a.states, b.states),
                          eigenvalues=cat(a.eigenvalues, b.eigenvalues), stable=cat(a.stable, b.stable),
                          n_unstable=cat(a.n_unstable, b.n_unstable), residuals=cat(a.residuals, b.residuals),
                          status=0, message=a.message, options=a.options, stats=a.stats)


def _assemble(model, opts, params, p, N, kind, flav, decision, reason, eq_of, eq_dist, eqset, yT, mT, sT, rep_of,
              rep_index, tracks, cost, seed, wall_l, wall, measured=True) -> CensusResult:
    names = list(model.state_names)
    derived = [nm for nm, _, _ in _derived_names(model)]
    obs_names = names + derived
    n, d = model.n, model.dim
    # per-trajectory evidence
    lam = np.full((N, d), np.nan)
    lam_err = np.full((N, d), np.nan)
    lsum_err = np.full(N, np.nan)
    mean = np.full((N, len(obs_names)), np.nan)
    se = np.full((N, len(obs_names)), np.nan)
    half = np.full((N, len(obs_names)), np.nan)
    std = np.full((N, n), np.nan)
    t_meas = np.zeros(N)
    samples: list[np.ndarray] = [np.zeros((0, n)) for _ in range(N)]
    for j in range(N):
        if (p, j) in rep_of:
            tr = tracks[rep_index[rep_of[(p, j)]]]
            t_meas[j] = tr.t_measured
            if tr.bl is not None and tr.bl.shape[0] >= 2:
                B = tr.bl.shape[0]
                if tr.decision != "inherited":
                    # an inherited label's run stopped before its own exponents converged: they
                    # stay out of the set's spectrum (NaN), its window still gives support and means
                    lam[j] = tr.bl.mean(axis=0)
                    lam_err[j] = tr.bl.std(axis=0, ddof=1) / np.sqrt(B)
                    lsum_err[j] = sum_error(tr.bl)[1]
                dv = derived_observables(model, tr.samples) if derived else {}
                m_state = tr.bm.mean(axis=0)
                std[j] = tr.samples.std(axis=0)
                h = B // 2
                mean[j] = np.r_[m_state, [dv[k] for k in derived]]
                se_state = tr.bm.std(axis=0, ddof=1) / np.sqrt(B)
                half_state = np.abs(tr.bm[h:].mean(axis=0) - tr.bm[:h].mean(axis=0))
                ks = tr.samples.shape[0] // 2
                dv1 = derived_observables(model, tr.samples[:ks]) if derived else {}
                dv2 = derived_observables(model, tr.samples[ks:]) if derived else {}
                se[j] = np.r_[se_state, np.zeros(len(derived))]
                half[j] = np.r_[half_state, [abs(dv2[k] - dv1[k]) for k in derived]]
                samples[j] = tr.samples
        if eq_of[j] >= 0:
            y = eqset.states[eq_of[j]]
            dv = derived_observables(model, y[None, :]) if derived else {}
            mean[j] = np.r_[y, [float(dv[k]) for k in derived]]
            se[j] = 0.0
            half[j] = 0.0
            std[j] = 0.0
            samples[j] = y[None, :]
    cells_fine, grid = occupied_cells(samples, opts.cell_frac)
    cells_coarse, grid_coarse = occupied_cells(samples, opts.family_cell_frac)
    # an orbit undecided at the cap that shares the support of decided orbits of one attractor is on
    # that attractor (as members of one chaotic attractor are grouped): it joins them, and says so.
    # A chaotic orbit joins a dissipative set only if its own sum is negative (2 errors) and agrees
    # with the set's: conservative seas share the region of weakly dissipative attractors.
    band_cap = float(opts.zero_band(opts.t_cap))
    z = opts.n_sigma
    lsum = lam.sum(axis=1)
    for j in np.nonzero(decision == "undecided")[0]:
        if samples[j].shape[0] < 10 or not np.all(np.isfinite(lam[j])):
            continue
        chaotic = lam[j, 0] - z * lam_err[j, 0] > band_cap
        if chaotic and not (lsum[j] + 2 * lsum_err[j] < 0):
            continue
        for k, f in (("CH", "dissipative"),) if chaotic else (("LC", ""), ("QP", "")):
            cand = np.nonzero((kind == k) & (flav == f) & (decision == "decided"))[0]
            if chaotic:
                cand = [i for i in cand if abs(lsum[i] - lsum[j]) <= z * np.hypot(lsum_err[i], lsum_err[j])]
            cells = cells_coarse if k == "CH" else cells_fine
            best = max(((support_overlap(cells[j], cells[i]), i) for i in cand), default=(0.0, -1))
            if best[0] >= max(opts.overlap_min, 0.5):
                kind[j], flav[j], decision[j] = k, f, "joined"
                reason[j] = (f"{reason[j]}; shares {best[0]:.0%} of its support with the decided {k} orbit of "
                             f"initial condition {best[1]}: on that attractor")
                break
    # undecided chaotic orbits that share support pool their evidence: the inverse-variance mean of
    # their sums decides the flavour of the attractor they share
    und = [j for j in np.nonzero(decision == "undecided")[0] if samples[j].shape[0] >= 10]
    for mem, sp, ep in pool_undecided_sums(und, lam, lam_err, lsum, lsum_err, cells_coarse, opts):
        for j in mem:
            kind[j], flav[j], decision[j] = "CH", "dissipative", "joined"
            reason[j] = (f"{reason[j]}; pooled with {len(mem) - 1} orbit(s) sharing its support: sum "
                         f"{sp:+.4f}+-{ep:.1e}, volume contracts")
    att = np.array([ATTRACTING.get((k, f), False) for k, f in zip(kind, flav)])
    # grouping: (kind, flavour) classes; FP/SADDLE by equilibrium; others by support
    labels = np.full(N, -1, dtype=np.int64)
    groups: list[tuple[str, str, np.ndarray]] = []
    classes = sorted({(k, f) for k, f in zip(kind, flav) if k not in ("DIV", "-1")},
                     key=lambda t: (KIND_ORDER.index(t[0]), t[1]))
    for k, f in classes:
        idx = np.nonzero((kind == k) & (flav == f))[0]
        if k in ("FP", "SADDLE") or (k == "NEUTRAL" and np.all(eq_of[idx] >= 0)):
            sub = np.unique(eq_of[idx], return_inverse=True)[1]
        elif k == "LC" and f == "family":
            # a family of cycles: one set per connected region (members on distinct cycles touch)
            sub = group_by_touch([cells_coarse[i] for i in idx], grid_coarse)
        elif k in ("LC", "QP"):
            sub = group_by_support([cells_fine[i] for i in idx], opts.overlap_min)
        elif ATTRACTING.get((k, f), False):
            # chaos: a finite orbit covers its attractor only coarsely
            sub = group_by_support([cells_coarse[i] for i in idx], opts.overlap_min)
        else:
            # one family per connected region: link members whose coarse cells touch
            sub = group_by_touch([cells_coarse[i] for i in idx], grid_coarse)
        for g in np.unique(sub):
            groups.append((k, f, idx[sub == g]))
    # canonical order: kind, attracting first, then by decreasing share, then by mean state
    groups.sort(key=lambda g: (KIND_ORDER.index(g[0]), -g[2].size, tuple(np.round(np.nanmean(mean[g[2], :n], axis=0), 6))))
    sets_kw = []
    for lab, (k, f, mem) in enumerate(groups):
        labels[mem] = lab
        is_fp = k in ("FP", "SADDLE") and eq_of[mem[0]] >= 0
        eq = None
        if is_fp:
            e = int(eq_of[mem[0]])
            ev = eqset.eigenvalues[e]
            expo = np.sort(ev.real)[::-1]
            expo_err = np.zeros(d)
            ben = np.nanmean(lam[mem], axis=0) if np.isfinite(lam[mem]).any() else np.full(d, np.nan)
            with np.errstate(invalid="ignore"):
                mism = float(np.max(np.abs(expo - np.sort(ben)[::-1]))) if np.all(np.isfinite(ben)) else float("nan")
            eq = dict(index=e, distance=float(np.nanmax(eq_dist[mem])), stable=bool(eqset.stable[e]),
                      max_eig_re=float(ev[0].real), eigenvalues=ev.copy(), exponent_mismatch=mism,
                      match=bool(eqset.stable[e]) if k == "FP" else False)
            state = eqset.states[e].copy()
        else:
            L = lam[mem]
            good = np.all(np.isfinite(L), axis=1)
            expo = L[good].mean(axis=0) if good.any() else np.full(d, np.nan)
            E = lam_err[mem][good]
            expo_err = np.sqrt(np.sum(E ** 2, axis=0)) / max(good.sum(), 1) if good.any() else np.full(d, np.nan)
            ben = np.full(d, np.nan)
            state = yT[mem[0]].copy()
            if (p, mem[0]) in rep_of:
                state = tracks[rep_index[rep_of[(p, mem[0])]]].y.copy()
        spread_e = np.nanstd(lam[mem], axis=0) if np.isfinite(lam[mem]).any() else np.zeros(d)
        mm = mean[mem]
        m_avg = np.nanmean(mm, axis=0)
        m_spread = np.nanstd(mm, axis=0, ddof=1) / np.sqrt(len(mem)) if len(mem) > 1 else np.zeros(len(obs_names))
        own = np.sqrt(np.nanmean(se[mem] ** 2, axis=0) / len(mem))
        bias = 0.5 * np.nanmean(half[mem], axis=0)
        err = np.sqrt(np.nan_to_num(m_spread) ** 2 + np.nan_to_num(own) ** 2 + np.nan_to_num(bias) ** 2)
        period = float("nan")
        if k == "LC":
            tr = tracks[rep_index[rep_of[(p, mem[0])]]] if (p, mem[0]) in rep_of else None
            if tr is not None and tr.cert is not None:
                period = float(tr.cert.period)
            elif tr is not None and tr.last is not None and tr.last.shape[0] >= 50:
                period = float(poincare_return(np.arange(tr.last.shape[0]) * opts.sample_dt, tr.last)["period"])
        decided_alone = np.array([decision[i] in ("settled", "decided", "certified") for i in mem])  # "joined" counts 0
        sets_kw.append(dict(label=lab, kind=k, flavour=f, attracting=bool(ATTRACTING.get((k, f), False)),
                            n_members=int(mem.size), basin_fraction=mem.size / N,
                            basin_fraction_err=float(basin_fraction_error(mem.size, N)), exponents=np.asarray(expo, float),
                            exponents_err=np.asarray(expo_err, float), exponents_spread=np.asarray(spread_e, float),
                            benettin=np.asarray(ben, float), period=period,
                            observables={s: float(v) for s, v in zip(obs_names, m_avg)},
                            observables_err={s: float(v) for s, v in zip(obs_names, err)},
                            confidence=float(decided_alone.mean()), members=mem, state=state, equilibrium=eq,
                            t_integrated=float(cost[mem].mean())))
    # stable equilibria that no initial condition reached are attractors all the same (exactly
    # known): FP sets with no member and basin < ~1/N, flagged ``reached = False``
    reached_eq = set(int(e) for e in eq_of[eq_of >= 0])
    for e in np.nonzero(eqset.stable)[0]:
        if int(e) in reached_eq:
            continue
        ev = eqset.eigenvalues[e]
        y = eqset.states[e]
        dv = derived_observables(model, y[None, :]) if derived else {}
        sets_kw.append(dict(label=-1, kind="FP", flavour="", attracting=True, n_members=0, basin_fraction=0.0,
                            basin_fraction_err=float(basin_fraction_error(0, N)),
                            exponents=np.sort(ev.real)[::-1].astype(float), exponents_err=np.zeros(d),
                            exponents_spread=np.zeros(d), benettin=np.full(d, np.nan), period=float("nan"),
                            observables={s_: float(v) for s_, v in zip(obs_names, np.r_[y, [float(dv[k]) for k in derived]])},
                            observables_err={s_: 0.0 for s_ in obs_names}, confidence=0.0,
                            members=np.zeros(0, np.int64), state=y.copy(),
                            equilibrium=dict(index=int(e), distance=float("nan"), stable=True, max_eig_re=float(ev[0].real),
                                             eigenvalues=ev.copy(), exponent_mismatch=float("nan"), match=True),
                            t_integrated=float("nan"), reached=False))
    sets_kw.sort(key=lambda kw: (KIND_ORDER.index(kw["kind"]), -kw["n_members"],
                                 tuple(np.round(kw["state"] if kw["kind"] in ("FP", "SADDLE") else
                                                np.full(n, np.inf), 6))))
    for lab, kw in enumerate(sets_kw):
        labels[kw["members"]] = lab
        kw["label"] = lab
    # mirrors: equilibria by their states (exact), other sets by their occupied cells
    set_samples = [np.concatenate([samples[i] for i in kw["members"]], axis=0) if kw["n_members"] else
                   kw["state"][None, :] for kw in sets_kw]
    set_cells = [merge_cells([cells_fine[i] for i in kw["members"]]) for kw in sets_kw]
    kinds_l = [kw["kind"] for kw in sets_kw]
    mir = mirror_pairs(set_cells, set_samples, model.symmetries, grid, opts.overlap_min,
                       [k if k not in ("FP", "SADDLE") else "" for k in kinds_l])
    for a, kw in enumerate(sets_kw):
        m = set(mir[a])
        if kw["kind"] in ("FP", "SADDLE"):
            m = set()
            for sym in model.symmetries:
                img = sym(kw["state"])
                for b, kb in enumerate(sets_kw):
                    if kb["kind"] == kw["kind"] and np.max(np.abs(kb["state"] - img)) < 1e-6:
                        m.add((b, sym.name))
        kw["mirror_of"] = tuple(sorted(m))
    sets = []
    for kw in sets_kw:
        if kw["kind"] == "CH" and opts.nolds_check:
            # one continuous run from a member's end state, settings in Lyapunov times (the members'
            # runs concatenated are no single series: see analysis.attractors.crosscheck)
            from analysis.attractors.crosscheck import rosenstein_largest

            kw["nolds_lyap"] = rosenstein_largest(model, kw["state"], {k: params[k] for k in model.param_names
                                                                        if k in params},
                                                  float(kw["exponents"][0])).value
        sets.append(InvariantSet(**kw))
    sets = tuple(sets)
    # averages over everything classified
    bw, bw_err = {}, {}
    for s in obs_names:
        bw[s], bw_err[s] = _weighted(sets, s, N)
    # bookkeeping
    msgs = []
    status = 0
    n_div = int(np.sum(kind == "DIV"))
    und = (decision == "undecided") | (decision == "not_measured")
    ntr = decision == "not_trusted"
    n_nm = int(np.sum(decision == "not_measured"))
    if und.sum() - n_nm:
        status = 1
        msgs.append(f"{int(und.sum()) - n_nm}/{N} trajectories undecided at the cap (label -1)")
    if n_nm:
        msgs.append(f"{n_nm}/{N} trajectories not at rest after the transient and not measured")
    if ntr.any():
        status = 1
        msgs.append(f"{int(ntr.sum())}/{N} trajectories not trusted (integration accuracy / status)")
    fp_eq = [s.equilibrium["index"] for s in sets if s.kind == "FP" and s.equilibrium]
    n_stable = int(eqset.n_stable)
    missed = int(sum(1 for s_ in sets if s_.kind == "FP" and not s_.reached))
    if missed:
        # consistent, but flagged: the set is listed (basin < ~1/N) and the message says so
        msgs.append(f"flag: {missed} stable equilibri{'um' if missed == 1 else 'a'} (of {n_stable}) reached by no "
                    f"initial condition, listed as FP with basin fraction 0 (< 1/{N})")
    if len(fp_eq) > n_stable or len(set(fp_eq)) != len(fp_eq):
        status = 1
        msgs.append(f"{len(fp_eq)} FP attractors but {n_stable} stable equilibria")
    if n_div + int(und.sum()) + int(ntr.sum()) == N and measured:
        status = -1
        msgs.append("no trajectory could be classified")
    # trajectory table
    cols = {"ic": np.arange(N), "kind": kind.astype(str), "flavour": flav.astype(str), "attracting": att,
            "label": labels, "decision": decision.astype(str), "status": decision.astype(str),
            "reason": reason.astype(str), "t_measured": t_meas, "t_integrated": cost, "eq_index": eq_of}
    # one DataFrame call (column-by-column insertion costs ~0.5 ms a column)
    cols.update({f"lyap_{k}": lam[:, k] for k in range(d)})
    cols.update({f"lyap_err_{k}": lam_err[:, k] for k in range(d)})
    cols["lyap_sum"] = lam.sum(axis=1)
    cols["lyap_sum_err"] = lsum_err
    cols.update({f"mean_{s}": mean[:, c] for c, s in enumerate(obs_names)})
    cols.update({f"se_mean_{s}": se[:, c] for c, s in enumerate(obs_names)})
    cols.update({f"halfdiff_{s}": half[:, c] for c, s in enumerate(obs_names)})
    cols.update({f"std_{s}": std[:, c] for c, s in enumerate(names)})
    tab = pd.DataFrame(cols)
    cost_rows = []
    for k in sorted(set(tab["kind"]), key=KIND_ORDER.index):
        t = tab.loc[tab["kind"] == k, "t_integrated"].to_numpy(float)
        cost_rows.append({"kind": k, "n": int(t.size), "t_mean": float(t.mean()), "t_max": float(t.max())})
    samp = {s.label: np.array([samples[i] for i in s.members[:opts.n_keep]
                               if samples[i].shape[0] == _MAX_KEEP or s.kind not in ("FP", "SADDLE")], dtype=object)
            for s in sets if s.kind not in ("FP", "SADDLE")}
    samp = {k: _stack(v) for k, v in samp.items() if len(v)}
    return CensusResult(
        params=params, attractors=sets, basin_weighted=bw, basin_weighted_err=bw_err,
        fraction_diverged=n_div / N, fraction_unclassified=float((und | ntr).sum()) / N,
        fraction_undecided=float(und.sum()) / N, fraction_not_trusted=float(ntr.sum()) / N, n_initial=N,
        trajectories=tab, samples=samp, sample_t=np.arange(_MAX_KEEP) * opts.sample_dt, equilibria=eqset,
        missed_stable=missed, phase=phase_label(sets), status=status,
        message=("success; " if status == 0 and msgs else "") + "; ".join(msgs) if msgs else "success", cost=pd.DataFrame(cost_rows), seed=seed, options=opts,
        wall_time=wall, lyapunov_wall_time=wall_l, model=model)


def _stack(arrs) -> np.ndarray:
    k = min(a.shape[0] for a in arrs)
    return np.stack([a[-k:] for a in arrs])


# --------------------------------------------------------------------------------------------
# entry points
# --------------------------------------------------------------------------------------------
def census(model: Model, params: Mapping[str, float] | None = None, *, n_initial: int = 64,
           seed: int | np.random.Generator | None = 0, y0: np.ndarray | None = None,
           options: CensusOptions | Mapping | None = None, **option_overrides) -> CensusResult:
    """The converged attractor census at one parameter point.

    Parameters
    ----------
    model : Model
    params : dict, optional
        One parameter point (defaults for the rest).
    n_initial : int
        Initial conditions, uniform on the phase space (drawn from ``seed`` before any work).
    seed : int or Generator
    y0 : ndarray (N, n), optional
        Explicit initial conditions instead of random ones.
    options : CensusOptions or mapping, optional
    **option_overrides
        Fields of :class:`CensusOptions` (or the fixed-window census's keywords ``t_total``,
        ``n_blocks``, ``dt``, ...: see :meth:`CensusOptions.with_overrides`).

    Returns
    -------
    CensusResult

    Examples
    --------
    >>> from bifurcate.models import LMG_DIMER
    >>> res = census(LMG_DIMER, {"J": 1.5, "lam": 0.0}, n_initial=16, seed=1)
    >>> res.phase, res.kinds()
    ('2FP', ['FP', 'FP'])
    """
    if not isinstance(model, Model):
        raise TypeError(f"model must be a bifurcate Model, got {type(model).__name__}")
    opts = CensusOptions.coerce(options, **option_overrides)
    pd_ = model.params(params)
    if y0 is None:
        n_initial = check_count("n_initial", n_initial, maximum=10 ** 7)   # 2.5, "3", True, nan refused
        check_seed("seed", seed)
        check_ensemble_memory(model, 1, None, n_initial, what="census", extra_words=16)  # before the draw
        from bifurcate.utils import as_generator

        Y0 = model.random_states(int(n_initial), as_generator(seed))
    else:
        Y0 = model.check_state(y0, batch=True, name="y0")
    return census_points(model, [pd_], Y0[None], options=opts, seed=seed)[0]


def census_batch(model: Model, params, y0: np.ndarray, *, options: CensusOptions | Mapping | None = None,
                 **option_overrides) -> list[CensusResult]:
    """The census of many points from given initial conditions (P, N, n): :func:`census_points`."""
    return census_points(model, params, y0, options=CensusOptions.coerce(options, **option_overrides))
