"""The logarithmic period law fit of the homoclinic evidence: closed form, and the closed-form
regression against numpy's least squares (its twin)."""
from __future__ import annotations

import numpy as np

from bifurcate.cycles.limits import log_period_fit


def test_exact_log_law_recovered():
    # T = c - (1 / lambda) ln |p - p_hom| on points approaching p_hom = 0.8 from below
    p_hom, lam = 0.8, 1.7
    p = p_hom - np.geomspace(0.1, 1e-4, 7)
    T = 4.0 - np.log(np.abs(p - p_hom)) / lam
    q, b, rms = log_period_fit(p, T)
    assert abs(q - p_hom) < 1e-8 and abs(b - 1 / lam) < 1e-6 and rms < 1e-8
    # from above, moving down
    p2 = p_hom + np.geomspace(0.1, 1e-4, 7)
    q2, b2, _ = log_period_fit(p2, 4.0 - np.log(np.abs(p2 - p_hom)) / lam)
    assert abs(q2 - p_hom) < 1e-8 and abs(b2 - 1 / lam) < 1e-6


def test_regression_matches_lstsq_twin():
    """For the returned limit, slope and rms equal those of lstsq on [1, -ln|p - q|]."""
    rng = np.random.default_rng(3)
    for _ in range(30):
        n = int(rng.integers(4, 9))
        p = 0.5 - np.sort(rng.uniform(1e-5, 0.3, n))[::-1]
        T = np.sort(2.0 - np.log(0.5 - p) / rng.uniform(0.3, 3.0) + rng.normal(scale=0.05, size=n))
        q, b, rms = log_period_fit(p, T)
        assert np.isfinite(q) and q > p[-1]
        a = np.column_stack([np.ones(n), -np.log(np.abs(p - q))])
        coef, *_ = np.linalg.lstsq(a, T, rcond=None)
        r = T - a @ coef
        assert abs(coef[1] - b) < 1e-9 * max(1.0, abs(b))
        assert abs(np.sqrt(np.mean(r * r)) / np.ptp(T) - rms) < 1e-12


def test_no_fit_without_monotone_period():
    p = np.linspace(0.1, 0.5, 6)
    assert np.isnan(log_period_fit(p, np.array([1.0, 2.0, 1.5, 3.0, 4.0, 5.0]))[0])
    assert np.isnan(log_period_fit(p[:3], np.arange(3.0))[0])
