"""Per-trajectory features: the independent checks that sit beside the Lyapunov exponents.

* :func:`zero_one_test` — the Gottwald-Melbourne 0-1 test for chaos (K ~ 0 regular, K ~ 1 chaotic),
  correlation method with the oscillatory term removed.
* :func:`poincare_return` — upward crossings of a section through the time mean of the most
  varying component; the smallest order k for which the k-th return map is the identity (to a
  tolerance) gives a periodic orbit, its period and the number of loops.
* :func:`trajectory_features` — one row per trajectory of a
  :class:`bifurcate.lyapunov.LyapunovEnsemble`: exponents and their errors, the exponent sum,
  time statistics, 0-1 test, Poincare return data.

References
----------
G. A. Gottwald, I. Melbourne, "On the implementation of the 0-1 test for chaos",
SIAM J. Appl. Dyn. Syst. 8, 129 (2009).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["zero_one_test", "poincare_return", "autocorr_time", "trajectory_features"]


def autocorr_time(x: np.ndarray) -> int:
    """Lag (in samples) of the first zero crossing of the autocorrelation of ``x`` (>= 1)."""
    x = np.asarray(x, dtype=float) - np.mean(x)
    n = x.size
    if n < 4 or not np.any(x):
        return 1
    f = np.fft.rfft(x, 2 * n)
    ac = np.fft.irfft(f * np.conj(f))[:n]
    ac /= ac[0]
    idx = np.nonzero(ac <= 0.0)[0]
    return int(idx[0]) if idx.size else n // 4


def zero_one_test(x: np.ndarray, *, n_c: int = 100, n_cut: int | None = None,
                  rng: np.random.Generator | int | None = 0) -> float:
    """Gottwald-Melbourne 0-1 test for chaos on a scalar series (not oversampled).

    Parameters
    ----------
    x : ndarray (N,)
        Observable at equal time steps. Oversampled data make chaos look regular: subsample to
        about the first zero of the autocorrelation first (see :func:`trajectory_features`).
    n_c : int
        Number of frequencies c drawn uniformly in (pi/5, 4 pi/5) (avoids resonances at 0, pi).
    n_cut : int, optional
        Largest lag of the mean-square displacement; default N // 10.
    rng : Generator or int
        Draws the c values (default fixed: the test is deterministic).

    Returns
    -------
    float
        Median over c of the correlation of the modified mean-square displacement with the lag:
        ~0 for regular motion, ~1 for chaos; nan for a constant series.
    """
    x = np.asarray(x, dtype=float)
    N = x.size
    if N < 50:
        raise ValueError(f"the 0-1 test needs at least 50 samples, got {N}")
    if np.std(x) <= 1e-12 * max(1.0, np.max(np.abs(x))):
        return float("nan")
    gen = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
    c = gen.uniform(np.pi / 5, 4 * np.pi / 5, size=n_c)
    ncut = n_cut or N // 10
    j = np.arange(1, N + 1)
    phase = np.outer(c, j)
    p = np.cumsum(x * np.cos(phase), axis=1)
    q = np.cumsum(x * np.sin(phase), axis=1)
    lags = np.arange(1, ncut + 1)
    M = np.empty((n_c, ncut))
    for k, n in enumerate(lags):
        M[:, k] = np.mean((p[:, n:] - p[:, :-n]) ** 2 + (q[:, n:] - q[:, :-n]) ** 2, axis=1)
    Ex = np.mean(x)
    D = M - Ex ** 2 * (1 - np.cos(np.outer(c, lags))) / (1 - np.cos(c))[:, None]
    Kc = np.empty(n_c)
    lc = lags - lags.mean()
    for i in range(n_c):
        d = D[i] - D[i].mean()
        den = np.sqrt(np.sum(lc ** 2) * np.sum(d ** 2))
        Kc[i] = np.sum(lc * d) / den if den > 0 else 0.0
    return float(np.median(Kc))


def poincare_return(t: np.ndarray, Y: np.ndarray, *, component: int | None = None, tol: float = 1e-2,
                    max_order: int = 8) -> dict:
    """Section through the mean of the most varying component, upward crossings.

    Parameters
    ----------
    t : ndarray (k,); Y : ndarray (k, n)
        Equally spaced samples of the orbit (after the transient).
    component : int, optional
        Section coordinate; default the component with the largest variance.
    tol : float
        Relative return tolerance: ``max_i |S_{i+m} - S_i| <= tol * scale`` with ``scale`` the
        largest standard deviation of the components. Linear interpolation between samples
        dt apart places crossings to O(dt^2): 1e-2 is far above that at dt = 0.05.
    max_order : int
        Largest number of section crossings per period tried.

    Returns
    -------
    dict with ``n_crossings``, ``order`` (0 if not periodic up to ``max_order``), ``period``
    (nan if not periodic), ``return_error`` (smallest relative return distance found),
    ``return_time``.
    """
    Y = np.asarray(Y, dtype=float)
    t = np.asarray(t, dtype=float)
    out = {"n_crossings": 0, "order": 0, "period": np.nan, "return_error": np.nan, "return_time": np.nan}
    sd = Y.std(axis=0)
    scale = float(sd.max()) if Y.size else 0.0
    if not np.isfinite(scale) or scale <= 1e-9:
        return out
    comp = int(np.argmax(sd)) if component is None else int(component)
    x = Y[:, comp] - Y[:, comp].mean()
    up = np.nonzero((x[:-1] < 0) & (x[1:] >= 0))[0]
    out["n_crossings"] = int(up.size)
    if up.size < 3:
        return out
    w = (-x[up] / (x[up + 1] - x[up]))[:, None]
    S = (1 - w) * Y[up] + w * Y[up + 1]
    tau = t[up] + w[:, 0] * (t[up + 1] - t[up])
    out["return_time"] = float(np.mean(np.diff(tau)))
    best = np.inf
    for m in range(1, max_order + 1):
        if S.shape[0] < 2 * m + 2:
            break
        err = float(np.max(np.linalg.norm(S[m:] - S[:-m], axis=1))) / scale
        best = min(best, err)
        if err <= tol:
            out["order"] = m
            out["period"] = float(np.mean(tau[m:] - tau[:-m]))
            break
    out["return_error"] = best
    return out


def trajectory_features(ens, *, zero_one: bool = True, random_state: int | None = 0,
                        poincare_tol: float = 1e-2, n_se: int = 10, poincare: bool = True) -> pd.DataFrame:
    """Features of every trajectory of a Lyapunov ensemble.

    Parameters
    ----------
    ens : bifurcate.lyapunov.LyapunovEnsemble
        With samples (``keep_samples=True``) for the 0-1 test and the Poincare data.
    zero_one : bool
        Run the 0-1 test (about 10 ms per trajectory).
    random_state : int, optional
        Seed of the 0-1 test's frequencies (the same for every trajectory).
    poincare_tol : float
    poincare : bool
        Compute the Poincare return data (a Python loop over trajectories). Without it (and
        without the 0-1 test) the labels are the same, only confidences and reasons are coarser
        and ``period`` is nan: what phase-diagram sweeps use.
    n_se : int
        Blocks used for the standard errors ``se_mean_<state>``, ``se_std_<state>`` of the time
        averages.

    Returns
    -------
    DataFrame, one row per trajectory: ``point``, ``ic``, ``status``, ``lyap_k``, ``lyap_err_k``,
    ``lyap_sum``, ``t_measured`` (length of the measured segment), ``mean_<state>``, ``std_<state>``, ``std_total`` (root of the summed variances),
    ``K01``, ``n_crossings``, ``order``, ``period``, ``return_error``, ``return_time``,
    ``se_mean_<state>``, ``se_std_<state>``.
    """
    df = ens.to_frame()
    M = len(ens)
    df["t_measured"] = ens.options.n_steps * ens.options.dt
    df["std_total"] = np.sqrt(np.nansum(ens.std ** 2, axis=1))
    df.loc[ens.status != 0, "std_total"] = np.nan
    K = np.full(M, np.nan)
    pc = {k: np.full(M, np.nan) for k in ("n_crossings", "order", "period", "return_error", "return_time")}
    if ens.samples is not None and ens.samples.shape[1] >= 50 and (poincare or zero_one):
        t = ens.sample_t
        for i in range(M):
            if ens.status[i] != 0:
                continue
            Y = ens.samples[i]
            if poincare:
                r = poincare_return(t, Y, tol=poincare_tol)
                for k in pc:
                    pc[k][i] = r[k]
            if zero_one and df["std_total"].iat[i] > 1e-6:
                comp = int(np.argmax(Y.std(axis=0)))
                stride = max(1, autocorr_time(Y[:, comp]))
                x = Y[::stride, comp]
                if x.size >= 100:
                    K[i] = zero_one_test(x, rng=random_state)
    df["K01"] = K
    # sampling error of the time averages from n_se block means/stds of the samples: the scale on
    # which the grouping compares trajectories (chaotic averages carry ~1e-2 noise at T = 500)
    names = list(ens.model.state_names)
    se = np.full((M, 2, len(names)), np.nan)
    if ens.samples is not None and ens.samples.shape[1] >= 10 * n_se:
        k = ens.samples.shape[1] // n_se * n_se
        B = ens.samples[:, :k].reshape(M, n_se, k // n_se, len(names))
        se[:, 0] = B.mean(axis=2).std(axis=1, ddof=1) / np.sqrt(n_se)
        se[:, 1] = B.std(axis=2).std(axis=1, ddof=1) / np.sqrt(n_se)
    for j, s_ in enumerate(names):
        df[f"se_mean_{s_}"] = se[:, 0, j]
    for j, s_ in enumerate(names):
        df[f"se_std_{s_}"] = se[:, 1, j]
    for k, v in pc.items():
        df[k] = v
    df["order"] = df["order"].fillna(0).astype(int)
    df["n_crossings"] = df["n_crossings"].fillna(0).astype(int)
    return df
