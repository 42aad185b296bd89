"""Per-trajectory classification and grouping of trajectories into attractors.

Kinds (the house vocabulary, plus one for reversible systems):

=========  ===================================================================================
FP         fixed point: largest exponent negative, or the orbit at rest while the slowest exponent
           is too close to zero to resolve (a weakly attracting point near a bifurcation)
LC         limit cycle: one zero exponent, the others negative
QP         quasi-periodic motion on an attracting torus: two or more zero exponents, others negative
CH         chaos: positive largest exponent; ``flavour`` is ``dissipative`` (exponent sum < 0) or
           ``conservative`` (sum ~ 0, as on the chaotic seas of a reversible system)
NEUTRAL    all exponents ~ 0: a member of a family of neutral orbits (periodic or tori), e.g. the
           PT dimer at J = 0 where the orbits are not isolated limit cycles
DIV        diverged
-1         unclassified (integration failure, or inconsistent evidence)
=========  ===================================================================================

The exponents decide; an independent check is attached to every label with the reason: the
window standard deviation for FP, the Poincare return map (periodic of order k or not) for
LC / QP / NEUTRAL, the 0-1 test for CH and the regular kinds. Agreement keeps the confidence,
disagreement halves it and says so in ``reason``.

Grouping (:class:`AttractorClassifier`) runs within each (kind, flavour) class on the time means
and standard deviations of every state component, standardised by their sampling error (the
median over the class of the block standard errors, floored at ``scale_floor``): members of one
chaotic attractor differ by that noise (~1e-2 at T = 500) and stay one group, while the two
Z2-mirror fixed points are ~1e3 floors apart. ``DBSCAN(min_samples=1)`` (single linkage at
``eps``), or ``method="template"``: nearest running-mean template within ``eps`` (memory linear
in the number of trajectories). Trajectories labelled NEUTRAL are one *family* (a continuum of
neutral orbits, not an attractor): they form one group whose observables are family averages.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClusterMixin
from sklearn.cluster import DBSCAN
from sklearn.preprocessing import StandardScaler

__all__ = ["KINDS", "classify_trajectories", "eps_components", "zero_tolerance", "AttractorClassifier", "basin_fraction_error"]

KINDS = ("FP", "LC", "QP", "CH", "NEUTRAL", "DIV", "-1")
_DIVERGED = -3


def basin_fraction_error(k: int | np.ndarray, n: int) -> np.ndarray:
    """Standard error of a basin fraction k / n from binomial sampling, sqrt(p (1 - p) / n), with
    p replaced by (k + 1/2) / (n + 1) so that a fraction of 0 or 1 still gets a non-zero error."""
    k = np.asarray(k, dtype=float)
    p = (k + 0.5) / (n + 1.0)
    return np.sqrt(p * (1 - p) / n)


#: up to this many trajectories the DBSCAN(min_samples=1) grouping is computed directly by
#: :func:`eps_components` (same partition, without sklearn's per-call thread-pool overhead of ~30 ms)
_SMALL = 256


def eps_components(Zs: np.ndarray, eps: float) -> np.ndarray:
    """Connected components of the graph ``|Zs_i - Zs_j| <= eps`` (Euclidean): the partition of
    ``DBSCAN(eps, min_samples=1)`` (single linkage at ``eps``). Labels in order of first member.

    Memory quadratic in the number of rows: for small sets (one parameter point's trajectories).
    """
    Zs = np.asarray(Zs, dtype=float)
    m = Zs.shape[0]
    if m == 0:
        return np.zeros(0, dtype=np.int64)
    d2 = np.sum((Zs[:, None, :] - Zs[None, :, :]) ** 2, axis=-1)
    A = d2 <= eps * eps
    lab = np.arange(m)
    while True:  # min-label propagation: at most the graph diameter sweeps
        new = np.min(np.where(A, lab[None, :], m), axis=1)
        if np.array_equal(new, lab):
            break
        lab = new
    _, out = np.unique(lab, return_inverse=True)
    return out.astype(np.int64)


def _exp_cols(df: pd.DataFrame) -> list[str]:
    cols = [c for c in df.columns if c.startswith("lyap_") and c[5:].isdigit()]
    return sorted(cols, key=lambda c: int(c[5:]))


def zero_tolerance(t_measured: float, floor: float = 0.01, shear: float = 1.5) -> float:
    """Default tolerance for a zero exponent after a measured segment of length T:
    ``max(floor, shear * ln(T) / T)``.

    On a family of neutral orbits (the PT dimer at J = 0) tangent vectors grow linearly by shear,
    so finite-time exponents decay only like ln(T) / T (measured at (J, lam) = (0, 0.8):
    +-0.0098 at T = 300, +-0.0060 at T = 600, i.e. ~1.0-1.1 ln(T) / T).
    """
    T = float(t_measured)
    return max(floor, shear * np.log(T) / T) if T > 1 else floor


def classify_trajectories(features: pd.DataFrame, *, zero_tol: float | None = None, n_sigma: float = 3.0,
                          sum_tol: float | None = None, fp_std_tol: float = 1e-4, k01_split: float = 0.5
                          ) -> pd.DataFrame:
    """Label every trajectory from its exponents and the independent checks.

    Parameters
    ----------
    features : DataFrame
        From :func:`analysis.features.trajectory_features`.
    zero_tol : float, optional
        An exponent counts as zero if ``|l| <= max(zero_tol, n_sigma * stderr)``. Finite-time
        estimates of a zero exponent carry O(1/T) errors and, on families of neutral orbits, a
        shear term ~ ln(T) / T; default :func:`zero_tolerance` of the ``t_measured`` column
        (0.01 if absent).
    n_sigma : float
    sum_tol : float, optional
        Chaos is ``conservative`` if ``|sum| <= sum_tol``; default ``2 * zero_tol``.
    fp_std_tol : float
        Window standard deviation below which the orbit is at rest (the FP check).
    k01_split : float
        0-1 test threshold between regular (< split) and chaotic.

    Returns
    -------
    DataFrame (same index): ``kind``, ``flavour``, ``torus_dim`` (number of zero exponents),
    ``confidence`` in [0, 1], ``reason``.
    """
    cols = _exp_cols(features)
    if not cols:
        raise ValueError(f"features need columns lyap_0, lyap_1, ..., got {list(features.columns)}")
    L = features[cols].to_numpy(float)
    E = features[[f"lyap_err_{c[5:]}" for c in cols]].to_numpy(float)
    E = np.where(np.isfinite(E), E, 0.0)
    if zero_tol is None:
        zero_tol = zero_tolerance(features["t_measured"].iat[0]) if "t_measured" in features and len(features) else 0.01
    s_tol = 2 * zero_tol if sum_tol is None else sum_tol
    status = features["status"].to_numpy()
    std_total = features.get("std_total", pd.Series(np.nan, index=features.index)).to_numpy(float)
    K = features.get("K01", pd.Series(np.nan, index=features.index)).to_numpy(float)
    order = features.get("order", pd.Series(0, index=features.index)).to_numpy()
    ncross = features.get("n_crossings", pd.Series(0, index=features.index)).to_numpy()
    kinds, flav, tdim, conf, why = [], [], [], [], []
    for i in range(L.shape[0]):
        lam, err = L[i], E[i]
        if status[i] == _DIVERGED:
            kinds.append("DIV"), flav.append(""), tdim.append(0), conf.append(1.0)
            why.append("trajectory diverged")
            continue
        if status[i] != 0 or not np.all(np.isfinite(lam)):
            kinds.append("-1"), flav.append(""), tdim.append(0), conf.append(0.0)
            why.append(f"integration failed (status {status[i]})")
            continue
        tol = np.maximum(zero_tol, n_sigma * err)
        zero = np.abs(lam) <= tol
        n0 = int(zero.sum())
        lsum = float(lam.sum())
        # margin of the decisive exponent from its threshold, in units of the threshold
        reason = [f"l1={lam[0]:+.4f}+-{err[0]:.1e}", f"sum={lsum:+.4f}"]
        k_ok = np.isfinite(K[i])
        if lam[0] < -tol[0]:
            kind, fl, td = "FP", "", 0
            c = 1.0 if lam[0] < -2 * tol[0] else 0.75
            if np.isfinite(std_total[i]) and std_total[i] <= fp_std_tol:
                reason.append(f"at rest (std {std_total[i]:.1e})")
            else:
                c *= 0.5
                reason.append(f"exponents negative but orbit still moving (std {std_total[i]:.1e}): slow transient?")
        elif lam[0] <= tol[0] and np.isfinite(std_total[i]) and std_total[i] <= fp_std_tol:
            # at rest although the slowest exponent is within the zero tolerance: a weakly
            # attracting fixed point whose rate (e.g. 0.035 g near a BP) is below what a finite
            # run can resolve from zero. The stillness decides; exponents alone would say LC/QP.
            kind, fl, td = "FP", "", 0
            c = 0.75
            reason.append(f"at rest (std {std_total[i]:.1e}); slowest exponent within the zero tolerance "
                          f"{tol[0]:.1e}: weakly attracting fixed point")
        elif lam[0] > tol[0]:
            kind, td = "CH", 0
            fl = "conservative" if abs(lsum) <= s_tol else ("dissipative" if lsum < 0 else "expanding")
            c = 1.0 if lam[0] > 2 * tol[0] else 0.75
            if k_ok and K[i] >= k01_split:
                reason.append(f"0-1 test K={K[i]:.2f} (chaotic)")
            elif k_ok:
                c *= 0.5
                reason.append(f"0-1 test K={K[i]:.2f} says regular")
            else:
                c *= 0.8
                reason.append("no 0-1 test")
        else:
            td = n0
            if n0 == L.shape[1]:
                kind, fl = "NEUTRAL", "conservative"
                reason.append(f"all {L.shape[1]} exponents ~0 (family of neutral orbits)")
            elif n0 == 1:
                kind, fl = "LC", ""
            else:
                kind, fl = "QP", ""
            margin = np.min(np.abs(lam[~zero]) / tol[~zero]) if np.any(~zero) else 2.0
            c = 1.0 if margin >= 2 else 0.75
            if kind == "LC":
                if order[i] > 0:
                    reason.append(f"Poincare return of order {order[i]}")
                else:
                    c *= 0.5
                    reason.append(f"no Poincare return up to order 8 ({ncross[i]} crossings)")
            elif kind == "QP":
                if order[i] == 0 and ncross[i] >= 10:
                    reason.append(f"no Poincare return ({ncross[i]} crossings): torus")
                elif order[i] > 0:
                    c *= 0.5
                    reason.append(f"Poincare return of order {order[i]}: resonant torus or slow cycle")
                else:
                    c *= 0.8
                    reason.append("too few section crossings")
            else:
                reason.append("periodic" if order[i] > 0 else "not periodic (torus)")
            if k_ok and K[i] >= k01_split:
                c *= 0.5
                reason.append(f"0-1 test K={K[i]:.2f} says chaotic")
            elif k_ok:
                reason.append(f"0-1 test K={K[i]:.2f} (regular)")
        kinds.append(kind), flav.append(fl), tdim.append(td), conf.append(c), why.append("; ".join(reason))
    return pd.DataFrame({"kind": kinds, "flavour": flav, "torus_dim": tdim, "confidence": conf, "reason": why},
                        index=features.index)


class AttractorClassifier(ClusterMixin, BaseEstimator):
    """Classify trajectories and group them into attractors (scikit-learn style).

    Parameters
    ----------
    zero_tol, n_sigma, sum_tol, fp_std_tol, k01_split
        See :func:`classify_trajectories`.
    eps : float
        Grouping radius in units of the sampling error of the features (12 features: two
        members of one attractor are ~sqrt(2 * 12) ~ 5 errors apart).
    scale_floor : float
        Floor of the per-feature scale (state components are O(1)); two fixed points closer
        than ~eps * scale_floor merge.
    method : {"dbscan", "template"}
        ``dbscan``: sklearn DBSCAN with ``min_samples=1`` (single linkage). ``template``: nearest
        running-mean template within ``eps``, memory linear in the number of trajectories.
    zero_one : bool
        Run the 0-1 test when ``fit`` receives an ensemble.
    random_state : int or None
        Seed of the 0-1 test's frequencies.

    Attributes
    ----------
    features_ : DataFrame
    kinds_ : ndarray (M,) of str
    labels_ : ndarray (M,) of int
        Attractor index per trajectory, -1 for unclassified and diverged trajectories.
    confidence_ : ndarray (M,)
    reasons_ : ndarray (M,) of str
    n_attractors_ : int
    """

    def __init__(self, *, zero_tol: float | None = None, n_sigma: float = 3.0, sum_tol: float | None = None,
                 fp_std_tol: float = 1e-4, k01_split: float = 0.5, eps: float = 8.0, scale_floor: float = 1e-3,
                 method: str = "dbscan", zero_one: bool = True, random_state: int | None = 0):
        self.zero_tol = zero_tol
        self.n_sigma = n_sigma
        self.sum_tol = sum_tol
        self.fp_std_tol = fp_std_tol
        self.k01_split = k01_split
        self.eps = eps
        self.scale_floor = scale_floor
        self.method = method
        self.zero_one = zero_one
        self.random_state = random_state

    def _check(self):
        if self.method not in ("dbscan", "template"):
            raise ValueError(f"method must be 'dbscan' or 'template', got {self.method!r}")
        for name in ("zero_tol", "eps", "scale_floor", "fp_std_tol"):
            v = getattr(self, name)
            if name == "zero_tol" and v is None:
                continue
            if not (np.isfinite(v) and v > 0):
                raise ValueError(f"{name} must be > 0, got {v!r}")

    @staticmethod
    def grouping_columns(features: pd.DataFrame) -> list[str]:
        names = [c[5:] for c in features.columns if c.startswith("mean_") and f"std_{c[5:]}" in features.columns]
        return [f"mean_{s}" for s in names] + [f"std_{s}" for s in names]

    def fit(self, X, y=None):
        """X: a :class:`bifurcate.lyapunov.LyapunovEnsemble` or a features table."""
        from analysis.attractors.features import trajectory_features

        self._check()
        if isinstance(X, pd.DataFrame):
            feats = X.reset_index(drop=True)
        elif hasattr(X, "exponents") and hasattr(X, "status"):
            feats = trajectory_features(X, zero_one=self.zero_one, random_state=self.random_state)
        else:
            raise TypeError(f"X must be a LyapunovEnsemble or a DataFrame of features, got {type(X).__name__}")
        cls = classify_trajectories(feats, zero_tol=self.zero_tol, n_sigma=self.n_sigma, sum_tol=self.sum_tol,
                                    fp_std_tol=self.fp_std_tol, k01_split=self.k01_split)
        M = len(feats)
        labels = np.full(M, -1, dtype=np.int64)
        gcols = self.grouping_columns(feats)
        next_label = 0
        for (kind, fl), idx in cls.groupby(["kind", "flavour"], sort=True).groups.items():
            if kind in ("DIV", "-1"):
                continue
            idx = np.asarray(idx)
            if kind == "NEUTRAL":
                sub = np.zeros(idx.size, dtype=np.int64)
            else:
                Z = feats.loc[idx, gcols].to_numpy(float)
                secols = [f"se_{c}" for c in gcols]
                if all(c in feats.columns for c in secols):
                    se = np.nanmedian(feats.loc[idx, secols].to_numpy(float), axis=0)
                    se = np.where(np.isfinite(se), se, 0.0)
                else:
                    se = np.zeros(len(gcols))
                sub = self._group(Z, se)
            labels[idx] = sub + next_label
            next_label += int(sub.max()) + 1
        # canonical order: by kind, then by decreasing basin size, so labels do not depend on
        # the order in which groups were met
        uniq = [u for u in np.unique(labels) if u >= 0]
        key = sorted(uniq, key=lambda u: (KINDS.index(cls["kind"].to_numpy()[labels == u][0]), -np.sum(labels == u),
                                          tuple(np.round(feats.loc[labels == u, gcols].to_numpy(float).mean(0), 6))))
        remap = {u: i for i, u in enumerate(key)}
        self.labels_ = np.array([remap.get(u, -1) for u in labels], dtype=np.int64)
        self.features_ = pd.concat([feats, cls], axis=1)
        self.features_["label"] = self.labels_
        self.kinds_ = cls["kind"].to_numpy()
        self.confidence_ = cls["confidence"].to_numpy()
        self.reasons_ = cls["reason"].to_numpy()
        self.n_attractors_ = len(key)
        return self

    def _group(self, Z: np.ndarray, se: np.ndarray) -> np.ndarray:
        if Z.shape[0] == 1:
            return np.zeros(1, dtype=np.int64)
        scaler = StandardScaler().fit(Z)
        scaler.scale_ = np.maximum(se, self.scale_floor)
        Zs = scaler.transform(Z)
        if self.method == "dbscan":
            if Zs.shape[0] <= _SMALL:
                return eps_components(Zs, self.eps)
            return DBSCAN(eps=self.eps, min_samples=1).fit(Zs).labels_.astype(np.int64)
        # nearest template (running means), linear memory
        templates: list[np.ndarray] = []
        counts: list[int] = []
        out = np.empty(Zs.shape[0], dtype=np.int64)
        for i, z in enumerate(Zs):
            if templates:
                T = np.asarray(templates)
                dist = np.linalg.norm(T - z, axis=1)
                j = int(np.argmin(dist))
                if dist[j] <= self.eps:
                    counts[j] += 1
                    templates[j] = templates[j] + (z - templates[j]) / counts[j]
                    out[i] = j
                    continue
            templates.append(z.copy())
            counts.append(1)
            out[i] = len(templates) - 1
        return out
