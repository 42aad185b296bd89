"""Test functions for bifurcations of cycles, and their localisation.

Along a cycle branch, with ``mu_i`` the nontrivial tangent-space Floquet multipliers and ``tau_p``
the parameter component of the unit tangent:

=====  ==============================================  ==========================================
label  test function (sign change = crossing)           meaning
=====  ==============================================  ==========================================
LPC    tau_p                                           fold of cycles (a multiplier passes +1)
BPC    prod_i (mu_i - 1) / (1 + |mu_i|)  (no LPC)      branch point of cycles (+1 without a fold)
PD     prod_i (mu_i + 1) / (1 + |mu_i|)                a real multiplier passes -1
NS     prod_{i<j} (mu_i mu_j - 1) / (1 + |mu_i mu_j|)  a complex pair crosses |mu| = 1
=====  ==============================================  ==========================================

The normalisation keeps the products bounded (and of the same sign) for strongly unstable
cycles. A sign change of the NS function caused by a real pair with ``mu_i mu_j = 1`` (a neutral
saddle of cycles) is checked at the located point and dropped. Localisation is the Illinois
variant of regula falsi on the arclength along the predictor direction (each probe a converged
cycle), until the parameter bracket is below ``locate_tol``.
"""
from __future__ import annotations

import numpy as np

__all__ = ["test_functions", "TEST_KINDS", "illinois", "classify_crossing"]

#: keys of :func:`test_functions` in detection order
TEST_KINDS = ("LPC", "BPC", "PD", "NS")


def test_functions(tau_p: float, mult: np.ndarray) -> dict:
    """The four test functions at one cycle (see the module docstring)."""
    mu = np.asarray(mult, dtype=complex)
    mu = np.where(np.isfinite(mu), mu, 1e300 + 0j)
    a = 1.0 + np.abs(mu)
    bpc = np.prod((mu - 1.0) / a).real if mu.size else 1.0
    pd_ = np.prod((mu + 1.0) / a).real if mu.size else 1.0
    ns = 1.0
    for i in range(mu.size):
        for j in range(i + 1, mu.size):
            q = mu[i] * mu[j]
            ns *= ((q - 1.0) / (1.0 + abs(q))).real if np.isfinite(q) else 1.0
    return {"LPC": float(tau_p), "BPC": float(bpc), "PD": float(pd_), "NS": float(ns)}


def classify_crossing(mult_before: np.ndarray, mult_after: np.ndarray) -> str:
    """Label of an unstable-count change no test function caught (used for bracketed points)."""
    a = np.asarray(mult_before)
    b = np.asarray(mult_after)
    k = min(a.size, b.size)
    if k == 0:
        return "LPC"
    i = int(np.argmax(np.abs(np.abs(a[:k]) - np.abs(b[:k]))))
    mu = b[i]
    if abs(mu.imag) > 1e-6 * abs(mu):
        return "NS"
    return "PD" if mu.real < 0 else "BPC"


def illinois(fun, s_lo: float, f_lo: float, s_hi: float, f_hi: float, param_of, tol: float, max_iter: int = 60):
    """Illinois (modified regula falsi) root bracketing on ``s``.

    ``fun(s) -> (value, payload)``; ``param_of(payload) -> parameter value``. Stops when the
    parameter bracket is below ``tol`` or the step bracket has collapsed.

    Returns
    -------
    (s, payload, located, precision, (payload_lo, payload_hi)) where payload is the probe nearer
    the root, or None if every probe failed.
    """
    side = 0
    best = None
    p_lo = p_hi = None
    pay_lo = pay_hi = None
    for _ in range(max_iter):
        if f_hi == f_lo:
            s = 0.5 * (s_lo + s_hi)
        else:
            s = s_hi - f_hi * (s_hi - s_lo) / (f_hi - f_lo)
        # keep probes well inside the bracket (regula falsi can stall at an end)
        w = s_hi - s_lo
        s = min(max(s, s_lo + 0.02 * w), s_hi - 0.02 * w)
        val, pay = fun(s)
        if pay is None or not np.isfinite(val):
            s = 0.5 * (s_lo + s_hi)
            val, pay = fun(s)
            if pay is None or not np.isfinite(val):
                return (s, best, False, np.inf, (pay_lo, pay_hi)) if best is not None else None
        best = pay
        if np.sign(val) == np.sign(f_hi):
            s_hi, f_hi, pay_hi = s, val, pay
            if side == 1:
                f_lo *= 0.5
            side = 1
        else:
            s_lo, f_lo, pay_lo = s, val, pay
            if side == -1:
                f_hi *= 0.5
            side = -1
        if pay_lo is not None and pay_hi is not None:
            p_lo, p_hi = param_of(pay_lo), param_of(pay_hi)
            if abs(p_hi - p_lo) < tol or abs(s_hi - s_lo) < 1e-14 * max(1.0, abs(s_hi)):
                return s, best, True, abs(p_hi - p_lo), (pay_lo, pay_hi)
        if val == 0.0:
            return s, pay, True, 0.0, (pay, pay)
    prec = abs(p_hi - p_lo) if (p_lo is not None and p_hi is not None) else np.inf
    return s, best, prec < tol, prec, (pay_lo, pay_hi)
