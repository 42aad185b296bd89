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
saddle of cycles) is checked at the located point and dropped. Localisation is the continuation
core's (:func:`bifurcate.continuation.pseudo_arclength.locate_event`: Illinois regula falsi on the
arclength, each probe a converged cycle, until the arclength bracket is below ``locate_tol``).

Every LPC, PD and NS point of a branch then carries its normal-form coefficient in ``data``
(``nf_coefficient``, also as ``b`` / ``c`` / ``d``, and ``criticality``: "supercritical" /
"subcritical" for PD and NS, "nondegenerate" for LPC), computed on the point's own collocation mesh
by :mod:`bifurcate.cycles.normal_forms` (for a bracketed point: at the bracket's end).
"""
from __future__ import annotations

import numpy as np

__all__ = ["test_functions", "TEST_KINDS", "classify_crossing"]

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
