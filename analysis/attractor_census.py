"""The attractor census of one parameter point.

Pipeline (each arrow a plain object you can stop at)::

    initial conditions (drawn first, from ``seed``)
      -> bifurcate.lyapunov_spectra (numba, parallel: exponents, time statistics, samples)
      -> analysis.features.trajectory_features (0-1 test, Poincare return, sampling errors)
      -> AttractorClassifier.fit (kind per trajectory, grouping into attractors)
      -> Attractor records (basin fraction +- binomial error, exponents, period, observables)
      -> fixed points matched to bifurcate.equilibria.find_equilibria; nolds cross-check of chaos

Because the initial conditions are drawn before the parallel map and every trajectory uses a
fixed step, the census is bitwise independent of the number of numba threads.

References
----------
Kothe & Kirton, Eqs. (6)-(11), Fig. 2 (numbers of stable solutions, insets in the X_B-Y_B
plane) and Fig. 3 (Z_B averaged "over all the points that contribute to the limit cycle").
"""
from __future__ import annotations

import time
import warnings
from dataclasses import dataclass, field
from typing import Any, Mapping

import numpy as np
import pandas as pd

from analysis.classify import KINDS, AttractorClassifier, basin_fraction_error, eps_components
from analysis.features import autocorr_time
from bifurcate.lyapunov import LyapunovOptions, lyapunov_spectra
from bifurcate.model import Model

__all__ = ["Attractor", "CensusResult", "census", "census_batch", "nolds_largest", "in_plane_observables"]


@dataclass(frozen=True)
class Attractor:
    """One attractor (or one family of neutral orbits) found by the census.

    Attributes
    ----------
    label : int
    kind : str
        FP, LC, QP, CH, NEUTRAL.
    flavour : str
        ``dissipative`` / ``conservative`` for CH, ``conservative`` for NEUTRAL, else "".
    n_members : int
    basin_fraction, basin_fraction_err : float
        Fraction of the initial conditions that reach it, binomial standard error.
    exponents, exponents_spread : ndarray (dim,)
        Mean over members of the Lyapunov spectra, and their standard deviation across members.
    period : float
        Median period (Poincare return) for LC and periodic NEUTRAL orbits, else nan.
    observables, observables_err : dict
        Attractor time averages of every state component (``ZA``, ``ZB``, ``XA`` ...; for the LMG
        dimer also the in-plane magnitudes ``RA``, ``RB`` = time averages of sqrt(X^2 + Y^2)),
        averaged over members; the error is the spread over members / sqrt(n) combined with the
        members' own sampling error. For a NEUTRAL family the spread is the family's.
    confidence : float
        Mean classification confidence of the members.
    members : ndarray of int
        Initial-condition indices.
    state : ndarray (n,)
        FP: the mean final state; else the final state of the first member.
    equilibrium : dict or None
        FP only: ``index`` into the equilibrium set, ``distance``, ``stable``, ``max_eig_re``,
        ``exponent_mismatch`` (max |sorted Re eig - exponents|), ``match`` (bool).
    nolds_lyap : float
        nolds.lyap_r on one member's time series (CH only; a cross-check, never the reference).
    """

    label: int
    kind: str
    flavour: str
    n_members: int
    basin_fraction: float
    basin_fraction_err: float
    exponents: np.ndarray
    exponents_spread: np.ndarray
    period: float
    observables: dict
    observables_err: dict
    confidence: float
    members: np.ndarray
    state: np.ndarray
    equilibrium: dict | None = None
    nolds_lyap: float = float("nan")


@dataclass(frozen=True, eq=False)
class CensusResult:
    """Census of one parameter point.

    Attributes
    ----------
    params : dict
    attractors : tuple of Attractor
        Ordered by kind, then by basin size.
    basin_weighted, basin_weighted_err : dict
        Averages of the observables over all classified initial conditions (sum over attractors of
        basin fraction x attractor average, renormalised by the classified fraction).
    fraction_diverged, fraction_unclassified : float
    n_initial : int
    trajectories : DataFrame
        One row per initial condition: features, kind, flavour, confidence, reason, label.
    samples : dict label -> ndarray (k_keep, n_samples, n)
        Sampled orbits of up to ``n_keep`` members of each attractor (plots).
    sample_t : ndarray (n_samples,)
    equilibria : EquilibriumSet or None
    missed_stable : int
        Stable equilibria of ``find_equilibria`` that no initial condition reached.
    status : int
        0 success; 1 if a fixed point did not match an equilibrium or a stable equilibrium was
        missed (see ``message``); -1 if no trajectory could be classified.
    message : str
    seed, options, wall_time, lyapunov_wall_time, model
    """

    params: dict
    attractors: tuple
    basin_weighted: dict
    basin_weighted_err: dict
    fraction_diverged: float
    fraction_unclassified: float
    n_initial: int
    trajectories: pd.DataFrame = field(repr=False)
    samples: dict = field(repr=False)
    sample_t: np.ndarray = field(repr=False)
    equilibria: Any = field(repr=False)
    missed_stable: int
    status: int
    message: str
    seed: Any
    options: LyapunovOptions = field(repr=False)
    wall_time: float
    lyapunov_wall_time: float
    model: Model = field(repr=False)

    @property
    def success(self) -> bool:
        return self.status >= 0

    @property
    def n_attractors(self) -> int:
        return len(self.attractors)

    def kinds(self) -> list[str]:
        return [a.kind for a in self.attractors]

    def count(self, kind: str) -> int:
        return sum(a.kind == kind for a in self.attractors)

    def to_frame(self) -> pd.DataFrame:
        """One row per attractor: parameters, ``label``, ``kind``, ``flavour``, ``basin_fraction``
        (+ ``_err``), ``n_members``, ``lyap_k``, ``lyap_sum``, ``period``, the observables under the
        model's state names (``ZA``, ``ZB``, ...; errors as ``<name>_err``), ``confidence``,
        ``nolds_lyap``, ``eq_match``, ``eq_distance``."""
        rows = []
        for a in self.attractors:
            r = dict(self.params)
            r.update(label=a.label, kind=a.kind, flavour=a.flavour, basin_fraction=a.basin_fraction,
                     basin_fraction_err=a.basin_fraction_err, n_members=a.n_members)
            for k, v in enumerate(a.exponents):
                r[f"lyap_{k}"] = v
            r["lyap_sum"] = float(np.sum(a.exponents))
            r["period"] = a.period
            r.update(a.observables)
            r.update({f"{k}_err": v for k, v in a.observables_err.items()})
            r["confidence"] = a.confidence
            r["nolds_lyap"] = a.nolds_lyap
            r["eq_match"] = a.equilibrium["match"] if a.equilibrium else np.nan
            r["eq_distance"] = a.equilibrium["distance"] if a.equilibrium else np.nan
            r["status"] = self.status
            rows.append(r)
        return pd.DataFrame(rows)

    def summary_frame(self) -> pd.DataFrame:
        """One row: parameters, counts per kind, basin-weighted observables (``bw_<name>``), status."""
        r = dict(self.params)
        for k in ("FP", "LC", "QP", "CH", "NEUTRAL"):
            r[f"n_{k}"] = self.count(k)
        r["n_attractors"] = self.n_attractors
        r["fraction_diverged"] = self.fraction_diverged
        r["fraction_unclassified"] = self.fraction_unclassified
        r.update({f"bw_{k}": v for k, v in self.basin_weighted.items()})
        r.update({f"bw_{k}_err": v for k, v in self.basin_weighted_err.items()})
        r["status"] = self.status
        r["message"] = self.message
        return pd.DataFrame([r])


def in_plane_observables(model: Model, samples: np.ndarray) -> dict[str, np.ndarray]:
    """Time averages of the in-plane magnitudes sqrt(X^2 + Y^2) of each spin, from samples (..., k, n).

    Returns ``{"RA": ..., "RB": ...}`` for models with states named XA, YA, XB, YB, else {}.
    """
    names = list(model.state_names)
    out = {}
    for s in ("A", "B"):
        if f"X{s}" in names and f"Y{s}" in names:
            x = samples[..., names.index(f"X{s}")]
            y = samples[..., names.index(f"Y{s}")]
            out[f"R{s}"] = np.sqrt(x * x + y * y).mean(axis=-1)
    return out


def nolds_largest(x: np.ndarray, dt: float, *, emb_dim: int = 8, n_max: int = 3000) -> float:
    """Largest Lyapunov exponent (per unit time) of a scalar series by Rosenstein's method
    (``nolds.lyap_r``), as an independent cross-check. Lag from the autocorrelation time.

    Returns nan if nolds fails.
    """
    import nolds

    x = np.asarray(x, dtype=float)
    stride = max(1, x.size // n_max)
    xs = x[::stride][:n_max]
    lag = max(1, autocorr_time(xs) // 2)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            val = nolds.lyap_r(xs, emb_dim=emb_dim, lag=lag, min_tsep=4 * lag, tau=dt * stride,
                               trajectory_len=20)
    except Exception:  # noqa: BLE001  (nolds raises on short or degenerate series: record nan)
        return float("nan")
    return float(val)


def census(model: Model, params: Mapping[str, float] | None = None, *, n_initial: int = 64,
           seed: int | np.random.Generator | None = 0, y0: np.ndarray | None = None,
           options: LyapunovOptions | None = None, classifier: AttractorClassifier | None = None,
           match_equilibria: bool = True, nolds_check: bool = True, n_keep: int = 4,
           **option_overrides) -> CensusResult:
    """Attractor census at one parameter point.

    Parameters
    ----------
    model : Model
    params : dict, optional
        One parameter point (defaults for the rest).
    n_initial : int
        Initial conditions, uniform on the phase space.
    seed : int or Generator
        Draws the initial conditions (before any parallel work).
    y0 : ndarray (N, n), optional
        Explicit initial conditions instead of random ones.
    options : LyapunovOptions, optional
        Integration / Lyapunov settings (``t_transient``, ``t_total``, ``dt`` ...).
    classifier : AttractorClassifier, optional
        Unfitted estimator with the grouping hyper-parameters; default ``AttractorClassifier()``.
    match_equilibria : bool
        Match every FP to an equilibrium of :func:`bifurcate.equilibria.find_equilibria`
        (seeded with the FP states), compare exponents with the tangent eigenvalues and count
        stable equilibria that no initial condition reached.
    nolds_check : bool
        Add nolds' largest exponent for each chaotic attractor.
    n_keep : int
        Sampled orbits kept per attractor (for plots).
    **option_overrides
        Fields of :class:`bifurcate.lyapunov.LyapunovOptions`.

    Returns
    -------
    CensusResult

    Examples
    --------
    >>> from bifurcate.models import LMG_DIMER
    >>> res = census(LMG_DIMER, {"J": 1.5, "lam": 0.0}, n_initial=32, seed=1)
    >>> res.kinds()
    ['FP', 'FP']
    """
    t_start = time.perf_counter()
    pd_ = model.params(params)
    if y0 is None:
        if int(n_initial) < 1:
            raise ValueError(f"n_initial must be >= 1, got {n_initial}")
        from bifurcate.utils import as_generator

        Y0 = model.random_states(int(n_initial), as_generator(seed))
    else:
        Y0 = model.check_state(y0, batch=True)
    N = Y0.shape[0]
    ens = lyapunov_spectra(model, [pd_], Y0, options=options, **option_overrides)
    clf = classifier if classifier is not None else AttractorClassifier()
    if not isinstance(clf, AttractorClassifier):
        raise TypeError(f"classifier must be an AttractorClassifier, got {type(clf).__name__}")
    clf.fit(ens)
    feats = clf.features_
    names = list(model.state_names)
    inplane = in_plane_observables(model, ens.samples) if ens.samples is not None else {}
    for k, v in inplane.items():
        feats[f"mean_{k}"] = v
    obs_names = names + list(inplane)
    attractors = []
    samples = {}
    labels = clf.labels_
    for lab in range(clf.n_attractors_):
        mem = np.nonzero(labels == lab)[0]
        sub = feats.iloc[mem]
        kind = str(sub["kind"].iat[0])
        fl = str(sub["flavour"].iat[0])
        means = sub[[f"mean_{s}" for s in obs_names]].to_numpy(float)
        se_cols = [f"se_mean_{s}" for s in obs_names]
        se = sub[[c for c in se_cols if c in sub]].to_numpy(float)
        spread = means.std(axis=0, ddof=1) / np.sqrt(len(mem)) if len(mem) > 1 else np.zeros(len(obs_names))
        if se.size:
            se2 = np.where(np.isfinite(se), se ** 2, 0.0)
            own = np.sqrt(se2.sum(axis=0) / np.maximum(np.isfinite(se).sum(axis=0), 1) / len(mem))
        else:
            own = np.zeros(0)
        own = np.concatenate([own, np.zeros(len(obs_names) - own.size)])
        err = np.sqrt(spread ** 2 + np.where(np.isfinite(own), own, 0.0) ** 2)
        expo = ens.exponents[mem]
        per = sub.loc[sub["order"] > 0, "period"].to_numpy(float)
        period = float(np.median(per)) if kind in ("LC", "NEUTRAL") and per.size else float("nan")
        state = ens.y_final[mem].mean(axis=0) if kind == "FP" else ens.y_final[mem[0]].copy()
        if kind == "FP" and model.geometry.n_spheres:
            state = model.geometry.project(state)
        nl = float("nan")
        if nolds_check and kind == "CH" and ens.samples is not None:
            Y = ens.samples[mem[0]]
            comp = int(np.argmax(Y.std(axis=0)))
            nl = nolds_largest(Y[:, comp], float(ens.sample_t[1] - ens.sample_t[0]))
        attractors.append(dict(
            label=lab, kind=kind, flavour=fl, n_members=len(mem), basin_fraction=len(mem) / N,
            basin_fraction_err=float(basin_fraction_error(len(mem), N)), exponents=expo.mean(axis=0),
            exponents_spread=expo.std(axis=0), period=period,
            observables={s: float(v) for s, v in zip(obs_names, means.mean(axis=0))},
            observables_err={s: float(v) for s, v in zip(obs_names, err)},
            confidence=float(sub["confidence"].mean()), members=mem, state=state, nolds_lyap=nl))
        if ens.samples is not None:
            samples[lab] = ens.samples[mem[:n_keep]]
    # basin-weighted averages over classified initial conditions
    frac = np.array([a["basin_fraction"] for a in attractors])
    bw, bw_err = {}, {}
    if frac.sum() > 0:
        w = frac / frac.sum()
        for s in obs_names:
            v = np.array([a["observables"][s] for a in attractors])
            e = np.array([a["observables_err"][s] for a in attractors])
            bw[s] = float(np.sum(w * v))
            # basin-fraction sampling error plus the attractor averages' own errors
            n_cls = int(round(frac.sum() * N))
            bw_err[s] = float(np.sqrt(np.sum(w * (v - bw[s]) ** 2) / max(n_cls, 1) + np.sum((w * e) ** 2)))
    status, msgs = 0, []
    eqset = None
    missed = 0
    if match_equilibria and any(a["kind"] == "FP" for a in attractors):
        from bifurcate.equilibria import find_equilibria

        fp_states = np.array([a["state"] for a in attractors if a["kind"] == "FP"])
        eqset = find_equilibria(model, pd_, seeds=fp_states)
        reached = set()
        for a in attractors:
            if a["kind"] != "FP":
                continue
            if len(eqset) == 0:
                a["equilibrium"] = dict(index=-1, distance=np.inf, stable=False, max_eig_re=np.nan,
                                        exponent_mismatch=np.nan, match=False)
                status, _ = 1, msgs.append(f"FP {a['label']}: no equilibrium found")
                continue
            d = np.max(np.abs(eqset.states - a["state"]), axis=1)
            j = int(np.argmin(d))
            re = np.sort(eqset.eigenvalues[j].real)[::-1]
            mism = float(np.max(np.abs(re - np.sort(a["exponents"])[::-1])))
            ok = bool(d[j] < 1e-4 and eqset.stable[j])
            a["equilibrium"] = dict(index=j, distance=float(d[j]), stable=bool(eqset.stable[j]),
                                    max_eig_re=float(re[0]), exponent_mismatch=mism, match=ok)
            reached.add(j)
            if not ok:
                status = 1
                msgs.append(f"FP {a['label']} does not match a stable equilibrium (distance {d[j]:.1e})")
        missed = int(sum(1 for j in np.nonzero(eqset.stable)[0] if j not in reached))
        if missed:
            status = 1
            msgs.append(f"{missed} stable equilibri{'um' if missed == 1 else 'a'} reached by no initial condition")
    n_div = int(np.sum(clf.kinds_ == "DIV"))
    n_unc = int(np.sum(clf.kinds_ == "-1"))
    if n_div + n_unc == N:
        status = -1
        msgs.append("no trajectory could be classified")
    return CensusResult(
        params=pd_, attractors=tuple(Attractor(**a) for a in attractors), basin_weighted=bw, basin_weighted_err=bw_err,
        fraction_diverged=n_div / N, fraction_unclassified=n_unc / N, n_initial=N, trajectories=feats,
        samples=samples, sample_t=ens.sample_t, equilibria=eqset, missed_stable=missed, status=status,
        message="; ".join(msgs) if msgs else "success", seed=seed if not isinstance(seed, np.random.Generator) else None,
        options=ens.options, wall_time=time.perf_counter() - t_start, lyapunov_wall_time=ens.wall_time, model=model)


# --------------------------------------------------------------------------------------------
# batched census from transients (phase-diagram sweeps)
# --------------------------------------------------------------------------------------------
def _image_maps(model: Model) -> list[tuple[np.ndarray, np.ndarray]]:
    """(S, |S|) for every time-preserving linear symmetry: means map by S, standard deviations by
    |S| (exact for signed permutations, as Z2 here). A symmetry image has the same exponents."""
    out = []
    for s in getattr(model, "symmetries", ()):
        S = np.asarray(s.matrix, dtype=float)
        if s.reverses_time:
            continue
        if not np.all(np.isin(S, (-1.0, 0.0, 1.0))) or not np.all(np.sum(S != 0, axis=1) == 1):
            continue  # only signed permutations: then |S| maps standard deviations exactly
        out.append((S, np.abs(S)))
    return out


def census_batch(model: Model, params: pd.DataFrame, y_start: np.ndarray, window_mean: np.ndarray,
                 window_std: np.ndarray, select: np.ndarray, *, window_ok: np.ndarray | None = None,
                 pre_tol: float = 2e-3, options: LyapunovOptions | None = None,
                 classifier: AttractorClassifier | None = None, **option_overrides) -> dict:
    """Attractor census of many parameter points at once, from the end of a transient.

    The per-point :func:`census` runs Lyapunov spectra, features and a grouping for every initial
    condition. Here, for the trajectories ``select[p, j]`` of every point ``p``:

    1. *pre-grouping* (no integration): trajectories whose transient window statistics (time mean
       and standard deviation of every component, ``window_mean``/``window_std``) agree to
       ``pre_tol`` (max norm) are on one attractor; the first is its representative. A
       representative that is the image of an earlier one under a time-preserving symmetry (Z2)
       shares its exponents and kind, so it is not integrated again.
    2. one :func:`bifurcate.lyapunov.lyapunov_spectra` call over the distinct representatives of
       all points (numba prange over them);
    3. :func:`analysis.classify.classify_trajectories` on their features (vectorised over all
       points; no 0-1 test or Poincare data: they change confidences, never labels);
    4. the representatives of one point and one (kind, flavour) are grouped as in
       :class:`AttractorClassifier` (features scaled by their sampling errors, single linkage at
       ``eps``; NEUTRAL is one family), and every trajectory takes its representative's group.

    Parameters
    ----------
    params : DataFrame (P rows)
    y_start : ndarray (P, N, n)
        States the Lyapunov runs start from (the transient's end states).
    window_mean, window_std : ndarray (P, N, n)
        Time statistics of the transient's averaging window.
    select : ndarray (P, N) bool
        Trajectories to classify here (the caller handles the others).
    window_ok : ndarray (P, N) bool, optional
        Where the window statistics are valid (transient succeeded); the others are never merged
        and take their observables from their own Lyapunov run.
    pre_tol : float
    options, **option_overrides
        :class:`bifurcate.lyapunov.LyapunovOptions` (samples are needed for the sampling errors).
    classifier : AttractorClassifier, optional
        Supplies ``zero_tol``, ``n_sigma``, ``sum_tol``, ``fp_std_tol``, ``eps``, ``scale_floor``.

    Returns
    -------
    dict with ``attractors`` (list over points of lists of dicts: ``kind``, ``flavour``,
    ``fraction``, ``n_members``, ``mean`` (n,), ``lyap`` (largest exponent), ``exponents``),
    ``n_integrated`` (Lyapunov runs), ``n_selected``, ``lyapunov_time``, ``total_time``.
    Fractions are over all N trajectories of a point (DIV and unclassified included as kinds).
    """
    t_start = time.perf_counter()
    clf = classifier if classifier is not None else AttractorClassifier()
    if not isinstance(clf, AttractorClassifier):
        raise TypeError(f"classifier must be an AttractorClassifier, got {type(clf).__name__}")
    clf._check()
    Y = np.asarray(y_start, dtype=float)
    if Y.ndim != 3 or Y.shape[2] != model.n:
        raise ValueError(f"y_start must have shape (P, N, {model.n}), got {Y.shape}")
    P, N, n = Y.shape
    sel = np.asarray(select, dtype=bool)
    wok = np.ones((P, N), dtype=bool) if window_ok is None else np.asarray(window_ok, dtype=bool)
    if sel.shape != (P, N) or wok.shape != (P, N) or len(params) != P:
        raise ValueError(f"expected select/window_ok of shape {(P, N)} and {P} parameter rows, got "
                         f"{sel.shape}, {wok.shape}, {len(params)}")
    F = np.concatenate([np.asarray(window_mean, float), np.asarray(window_std, float)], axis=2)
    ok = sel & wok & np.all(np.isfinite(F), axis=2)
    # 1. pre-grouping: leader[p, j] = first eligible k with max|F_j - F_k| <= pre_tol
    D = np.max(np.abs(F[:, :, None, :] - F[:, None, :, :]), axis=3)
    close = (D <= pre_tol) & ok[:, None, :] & ok[:, :, None]
    idx = np.broadcast_to(np.arange(N), (P, N))
    leader = np.where(ok, np.argmax(close, axis=2), idx)
    pidx = np.arange(P)[:, None]
    for _ in range(N):  # closeness is not transitive: follow leaders to one that leads itself
        nxt = leader[pidx, leader]
        if np.array_equal(nxt, leader):
            break
        leader = nxt
    leader = np.where(sel, leader, -1)
    rep = sel & (leader == idx)
    # symmetry images among representatives: src = earliest representative it is an image of
    src = np.where(rep, idx, -1)
    tmap = np.zeros((P, N), dtype=np.int64)  # 0 identity, s+1: image under symmetry s of src
    maps = _image_maps(model)
    okrep = rep & ok
    for si, (S, aS) in enumerate(maps):
        Fi = np.concatenate([np.einsum("ab,pjb->pja", S, F[..., :n]), np.einsum("ab,pjb->pja", aS, F[..., n:])], axis=2)
        Di = np.max(np.abs(Fi[:, :, None, :] - F[:, None, :, :]), axis=3)
        cand = (Di <= pre_tol) & okrep[:, None, :] & okrep[:, :, None] & (np.arange(N)[None, None, :] < np.arange(N)[None, :, None])
        hit = cand.any(axis=2) & (tmap == 0)
        first = np.argmax(cand, axis=2)
        src = np.where(hit, first, src)
        tmap = np.where(hit, si + 1, tmap)
    # resolve chains (an image of an image): only map to sources that are their own source
    for _ in range(4):
        s2 = np.where(src >= 0, src[pidx, np.maximum(src, 0)], -1)
        chained = rep & (src != idx) & (s2 != src)
        if not chained.any():
            break
        # composing two symmetry images is not tracked: integrate such representatives themselves
        src = np.where(chained, idx, src)
        tmap = np.where(chained, 0, tmap)
    run = rep & (src == idx)
    pr, jr = np.nonzero(run)
    M = pr.size
    out_atts: list[list[dict]] = [[] for _ in range(P)]
    t_l = 0.0
    if M:
        names = list(model.state_names)
        y0 = Y[pr, jr][:, None, :]
        tab = params.reset_index(drop=True).iloc[pr].reset_index(drop=True)
        ens = lyapunov_spectra(model, tab, y0, options=options, keep_samples=True, **option_overrides)
        t_l = ens.wall_time
        from analysis.features import trajectory_features
        from analysis.classify import classify_trajectories

        feats = trajectory_features(ens, zero_one=False, poincare=False)
        cls = classify_trajectories(feats, zero_tol=clf.zero_tol, n_sigma=clf.n_sigma, sum_tol=clf.sum_tol,
                                    fp_std_tol=clf.fp_std_tol, k01_split=clf.k01_split)
        kind_r = cls["kind"].to_numpy()
        flav_r = cls["flavour"].to_numpy()
        gm = feats[[f"mean_{s}" for s in names]].to_numpy(float)
        gs = feats[[f"std_{s}" for s in names]].to_numpy(float)
        sem = feats[[f"se_mean_{s}" for s in names]].to_numpy(float)
        ses = feats[[f"se_std_{s}" for s in names]].to_numpy(float)
        expo = ens.exponents
        run_row = -np.ones((P, N), dtype=np.int64)
        run_row[pr, jr] = np.arange(M)
        allmaps = [(np.eye(n), np.eye(n))] + maps
        for p in np.unique(np.nonzero(sel)[0]):
            reps = np.nonzero(rep[p])[0]
            rows = run_row[p, src[p, reps]]
            Ts = [allmaps[int(t)] for t in tmap[p, reps]]
            kinds = kind_r[rows]
            flavs = flav_r[rows]
            Z = np.array([np.r_[T[0] @ gm[r], T[1] @ gs[r]] for T, r in zip(Ts, rows)])
            SE = np.array([np.r_[T[1] @ sem[r], T[1] @ ses[r]] for T, r in zip(Ts, rows)])
            members = [np.nonzero(leader[p] == r)[0] for r in reps]
            for key in sorted(set(zip(kinds, flavs)), key=lambda t: (KINDS.index(t[0]), t[1])):
                kk = np.nonzero((kinds == key[0]) & (flavs == key[1]))[0]
                if key[0] in ("DIV", "-1") or key[0] == "NEUTRAL":
                    sub = np.zeros(kk.size, dtype=np.int64)
                else:
                    se = np.nanmedian(SE[kk], axis=0) if kk.size else np.zeros(2 * n)
                    se = np.where(np.isfinite(se), se, 0.0)
                    sub = eps_components(Z[kk] / np.maximum(se, clf.scale_floor), clf.eps)
                for g in range(int(sub.max()) + 1 if sub.size else 0):
                    gk = kk[sub == g]
                    mem = np.concatenate([members[i] for i in gk])
                    w = np.array([members[i].size for i in gk], dtype=float)
                    # observables: window means of the members (the longer average); a member
                    # without valid window statistics contributes its representative's run mean
                    mm = np.array([window_mean[p, j] if ok[p, j] else Z[i, :n] for i in gk for j in members[i]])
                    ex = np.array([expo[rows[i]] for i in gk])
                    out_atts[p].append({"kind": str(key[0]), "flavour": str(key[1]), "n_members": int(mem.size),
                                        "fraction": mem.size / N, "mean": mm.mean(axis=0) if key[0] not in ("DIV", "-1") else np.full(n, np.nan),
                                        "exponents": (w[:, None] * ex).sum(0) / w.sum(),
                                        "lyap": float((w * ex[:, 0]).sum() / w.sum())})
            if sum(a["n_members"] for a in out_atts[p]) != int(sel[p].sum()):  # pragma: no cover - invariant
                raise RuntimeError(f"census_batch: point {p} lost trajectories in the grouping")
    return {"attractors": out_atts, "n_integrated": int(M), "n_selected": int(sel.sum()),
            "lyapunov_time": float(t_l), "total_time": time.perf_counter() - t_start}
