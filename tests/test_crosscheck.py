"""Rosenstein's largest exponent on one continuous run (analysis.attractors.crosscheck), against
exponents known independently of this code base.

Lorenz (sigma, rho, beta) = (10, 28, 8/3): lambda_1 = 0.9056 (Sprott, Chaos and Time-Series
Analysis, 2003, Table A.1). The settings are in units of 1 / lambda_scale; the tolerance, 15 %, is
the method's own systematic error on a scalar delay embedding (measured here -3 % and -10 % from two
starting points), not a fit to this code.
"""
from __future__ import annotations

import numpy as np
import pytest

from analysis.attractors.crosscheck import rosenstein_largest
from bifurcate import integrate
from bifurcate.models import LORENZ, STUART_LANDAU

LORENZ_L1 = 0.9056


def test_lorenz_largest_exponent_within_15_percent():
    y = integrate(LORENZ, [1.0, 1.0, 20.0], (0.0, 100.0)).y[-1]   # onto the attractor
    r = rosenstein_largest(LORENZ, y, None, LORENZ_L1)
    assert r.success, r.message
    assert abs(r.value - LORENZ_L1) < 0.15 * LORENZ_L1, r.per_component
    # every component was used, each one a positive exponent of the right size
    assert set(r.per_component) == {"x", "y", "z"}
    assert all(0.5 < v < 1.4 for v in r.per_component.values())
    s = r.settings
    # the settings are in Lyapunov times: step 1/(20 lambda), lag 0.2/lambda, fit 1/lambda
    assert s["dt"] == pytest.approx(1 / (20 * LORENZ_L1)) and s["lag"] == 4 and s["trajectory_len"] == 20
    assert s["fit_time"] == pytest.approx(1 / LORENZ_L1)


def test_a_limit_cycle_has_no_positive_exponent():
    # Stuart-Landau at mu = 1: a stable cycle (lambda_1 = 0); with the time scale of the Lorenz
    # exponent the check finds no growth (a chaotic answer here would be a false positive)
    y = integrate(STUART_LANDAU, [0.3, 0.0], (0.0, 50.0), {"mu": 1.0}).y[-1]
    r = rosenstein_largest(STUART_LANDAU, y, {"mu": 1.0}, 0.5, n_samples=2000)
    assert r.success and abs(r.value) < 0.1, r.per_component


def test_bad_input_and_no_time_scale():
    with pytest.raises(TypeError, match="bifurcate Model"):
        rosenstein_largest("lorenz", [1, 1, 1], None, 1.0)
    with pytest.raises(ValueError, match="n_samples must be an int >= 200"):
        rosenstein_largest(LORENZ, [1, 1, 1], None, 1.0, n_samples=10)
    with pytest.raises(ValueError, match="lag_time must be a finite number > 0"):
        rosenstein_largest(LORENZ, [1, 1, 1], None, 1.0, lag_time=0.0)
    r = rosenstein_largest(LORENZ, [1, 1, 1], None, 0.0)
    assert r.status == -3 and np.isnan(r.value) and "time scale" in r.message
