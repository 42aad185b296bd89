"""Convergence control: when is a trajectory's label decided?

A trajectory is measured in blocks (exponent increments and state means per block). After every
extension :func:`decide` reads the blocks kept so far:

1. *transient over*: the block means of the first and second half of the kept window agree within
   ``n_sigma_stat`` combined standard errors plus ``stat_floor``; otherwise the older half is dropped
   (it was transient) and the trajectory is extended;
2. *exponents decided*: a clearly positive largest exponent is chaos (then only the sum matters);
   otherwise, from the largest down to the first clearly negative one, each exponent's confidence interval (mean +- ``n_sigma`` standard errors of
   the block exponents) clears the zero band ``b(T) = max(zero_floor, zero_shear ln T / T)``, or its
   estimate lies inside the band once ``T >= t_zero_min`` (a zero needs length: a slowly contracting
   direction looks like zero for a while, and neutral families shear like ln T / T; the block spread
   of a zero exponent overstates its error, since its growth telescopes);
3. the exponent sum (volume contraction), with its own error (batch means, :func:`sum_error`), is
   clearly negative, or zero within that error and the error within two bands, or undecided: it
   separates attracting tori (QP: two zeros, clearly negative sum) from neutral families, and
   dissipative from conservative chaos.

Kinds (``attracting`` in brackets): FP (yes), LC (yes; flavour ``family`` for a family of cycles with a
second zero exponent, one set per connected region), QP (yes), CH dissipative (yes), CH
conservative (no), NEUTRAL (no), SADDLE (no: at rest on an unstable equilibrium), DIV, -1.
A trajectory not decided by the cap is "undecided" (label -1) and keeps its evidence.

References
----------
Finite-time exponents of a neutral family: tangent vectors grow linearly by shear, so the estimate
of a zero exponent decays like ln T / T (measured on the PT dimer at (J, lam) = (0, 0.8)).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["Decision", "decide", "block_statistics", "sum_error", "ATTRACTING"]

#: (kind, flavour) -> attracting
ATTRACTING = {("FP", ""): True, ("LC", ""): True, ("LC", "family"): True, ("QP", ""): True, ("CH", "dissipative"): True,
              ("CH", "conservative"): False, ("NEUTRAL", "conservative"): False, ("SADDLE", ""): False}


@dataclass(frozen=True)
class Decision:
    """Verdict on one trajectory after one measurement round.

    Attributes
    ----------
    state : str
        ``decided``, ``continue`` (extend), ``rest`` (at rest: match an equilibrium) or ``drop`` (not
        stationary: drop the older half of the kept blocks, then extend).
    kind, flavour : str
        When decided.
    reason : str
        The evidence, in words and numbers.
    """

    state: str
    kind: str = "-1"
    flavour: str = ""
    reason: str = ""


def block_statistics(bm: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Half-window means and the standard error of their difference from block means (B, n).

    Returns ``(m1, m2, se)``: means of the first and second half and the standard error of
    ``m2 - m1`` from the spread of the block means in each half.
    """
    B = bm.shape[0]
    h = B // 2
    a, b = bm[:h], bm[h:]
    m1, m2 = a.mean(axis=0), b.mean(axis=0)
    va = a.var(axis=0, ddof=1) / h if h > 1 else np.zeros(bm.shape[1])
    vb = b.var(axis=0, ddof=1) / (B - h) if B - h > 1 else np.zeros(bm.shape[1])
    return m1, m2, np.sqrt(va + vb)


def sum_error(bl: np.ndarray, n_batches: int = 8) -> tuple[float, float]:
    """Exponent sum and its standard error by batch means over ``n_batches`` equal batches of blocks.

    Block sums (log volume growth per block) are strongly correlated: on a reversible orbit the
    volume only oscillates, so consecutive blocks anti-correlate and the naive block error
    overstates the sum's error many times; long batches average the oscillation out, and on a
    dissipative orbit they still give the 1/sqrt(T) error.
    """
    s = bl.sum(axis=1)
    B = s.size
    K = min(n_batches, B)
    m = B // K
    if m < 1 or K < 2:
        return float(s.mean()), float("inf")
    b = s[B - K * m:].reshape(K, m).mean(axis=1)
    return float(s.mean()), float(b.std(ddof=1) / np.sqrt(K))


def decide(bl: np.ndarray, bm: np.ndarray, block_std: np.ndarray, T: float, opts, *, periodic=None,
           amp_ratio: float | None = None) -> Decision:
    """Decide one trajectory from its kept blocks.

    Parameters
    ----------
    bl : ndarray (B, d)
        Block exponents (per unit time), columns in the order of the Gram-Schmidt vectors.
    bm : ndarray (B, n)
        Block means of the state.
    block_std : ndarray (n,)
        Standard deviation of the state over the last block (the at-rest test).
    T : float
        Kept (measured) length B * block_time.
    opts : CensusOptions
    periodic : bool or callable, optional
        Poincare return of the kept samples (True: a periodic orbit), or a function of no
        arguments that computes it (called only when the decision needs it), used to tell a cycle with a
        slowly contracting direction (two near-zero exponents) from a torus.
    amp_ratio : float, optional
        Total standard deviation of the state over the second half of the kept window divided by
        that over the first half. Below ``1 - amp_tol`` the orbit is still contracting (a slow
        spiral into a weak focus has stationary means but a decaying amplitude): not stationary.
    """
    B, d = bl.shape
    if B < 4:
        return Decision("continue", reason=f"only {B} blocks")
    if np.all(block_std <= opts.fp_std_tol):
        return Decision("rest", reason=f"at rest (std {float(np.max(block_std)):.1e})")
    if amp_ratio is not None and np.isfinite(amp_ratio) and amp_ratio < 1.0 - opts.amp_tol:
        return Decision("drop", reason=f"not stationary: amplitude decays (second/first half std {amp_ratio:.3f})")
    m1, m2, se = block_statistics(bm)
    drift = np.abs(m2 - m1)
    lim = opts.n_sigma_stat * se + opts.stat_floor
    if np.any(drift > lim):
        k = int(np.argmax(drift / lim))
        return Decision("drop", reason=f"not stationary: half-window means of component {k} differ by "
                                       f"{drift[k]:.2e} > {lim[k]:.2e}")
    lam = bl.mean(axis=0)
    err = bl.std(axis=0, ddof=1) / np.sqrt(B)
    S, eS = sum_error(bl)
    band = float(opts.zero_band(T))
    z = opts.n_sigma
    may_zero = T >= opts.t_zero_min - 1e-9
    # clear of the band by n_sigma errors; inside it by the point estimate (the block spread of a
    # zero exponent overstates its error: its growth telescopes, the estimate converges like 1/T)
    clear = np.abs(lam) - z * err > band
    inside = (np.abs(lam) <= band) & may_zero
    sum_neg = S + z * eS < -band
    # conserved volume: zero within its own error, and that error small (2 bands)
    sum_zero = (abs(S) + z * eS <= 2 * band) & may_zero
    ev = (f"T={T:g}, band={band:.2e}, exponents " + ", ".join(f"{v:+.4f}+-{e:.1e}" for v, e in zip(lam, err))
          + f", sum {S:+.4f}+-{eS:.1e}")
    if clear[0] and lam[0] > 0:
        # chaos: the largest exponent is clearly positive; the flavour is the sum's (the exponents
        # in between do not change the label)
        if sum_neg:
            return Decision("decided", "CH", "dissipative", f"positive exponent, volume contracts ({ev})")
        if sum_zero:
            return Decision("decided", "CH", "conservative", f"positive exponent, volume conserved ({ev})")
        if S - z * eS > band:
            # not an attractor: a forward orbit may pass near a repelling region for a while
            return Decision("continue", reason=f"volume expands on the forward orbit (transient?) ({ev})")
        return Decision("continue", reason=f"positive exponent, sum not decided ({ev})")
    # regular motion: zeros from the top down to the first clearly negative exponent
    n0 = 0
    for k in range(d):
        if inside[k]:
            n0 += 1
            continue
        if clear[k] and lam[k] < 0:
            break
        return Decision("continue", reason=f"exponent {k} not decided ({ev})")
    if n0 == d:
        return Decision("decided", "NEUTRAL", "conservative", f"all exponents zero: neutral family ({ev})")
    if n0 == 0:
        return Decision("continue", reason=f"all exponents negative but not at rest: slow approach ({ev})")
    if n0 == 1:
        return Decision("decided", "LC", "", f"one zero exponent ({ev})")
    if not sum_neg:
        return Decision("continue", reason=f"{n0} zero exponents, sum not clearly negative ({ev})")
    if callable(periodic):
        periodic = periodic()
    if periodic:
        # a periodic orbit with a second zero exponent: a family of cycles (neutral along the family,
        # attracting across it), or a cycle whose second direction contracts too slowly to resolve
        return Decision("decided", "LC", "family", f"{n0} exponents in the zero band and a periodic Poincare "
                                                   f"return: a family of cycles attracting as a whole ({ev})")
    return Decision("decided", "QP", "", f"{n0} zero exponents, volume contracts: attracting torus ({ev})")
