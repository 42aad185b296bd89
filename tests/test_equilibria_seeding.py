"""find_equilibria scaled to the model (issue 14): Lorenz's equilibria sit at z = rho - 1, far from
the unit box; closed form (0, 0, 0) and (+-sqrt(b (rho - 1)), +-sqrt(b (rho - 1)), rho - 1)."""
from __future__ import annotations

import numpy as np
import pytest

from bifurcate.equilibria import find_equilibria
from bifurcate.integrate import integrate
from bifurcate.models import LORENZ, PITCHFORK


def lorenz_equilibria(rho, b=8.0 / 3.0):
    c = np.sqrt(b * (rho - 1.0))
    return np.array([[0.0, 0.0, 0.0], [c, c, rho - 1.0], [-c, -c, rho - 1.0]])


def same_set(A, B, tol=1e-9):
    return A.shape == B.shape and all(np.min(np.max(np.abs(B - a), axis=1)) < tol for a in A)


@pytest.mark.parametrize("rho", [28.0, 200.0])
def test_lorenz_equilibria_found_at_the_models_own_size(rho):
    res = find_equilibria(LORENZ, {"rho": rho})
    assert res.status == 0, res.message
    assert same_set(res.states, lorenz_equilibria(rho))
    assert res.n_stable == 0  # rho = 28 and 200: all three unstable (rho > rho_H = 24.74)


def test_too_small_a_scale_is_reported_not_called_success():
    res = find_equilibria(LORENZ, {"rho": 28.0}, scale=2.0)
    # the probe at 10x the scale reaches the far equilibria: they are kept, and the status says
    # the given scale was too small
    assert res.status == 2 and "incomplete" in res.message
    assert same_set(res.states, lorenz_equilibria(28.0))


def test_trajectory_extents_seed_the_search():
    tr = integrate(LORENZ, [1.0, 1.0, 1.0], (0.0, 20.0), {"rho": 28.0})
    res = find_equilibria(LORENZ, {"rho": 28.0}, scale=0.01, seeds=tr.y[::50])
    assert same_set(res.states, lorenz_equilibria(28.0))
    assert res.status == 0, res.message


def test_bad_scale_raises():
    with pytest.raises(ValueError, match="scale"):
        find_equilibria(PITCHFORK, {"mu": 1.0}, scale=-1.0)
