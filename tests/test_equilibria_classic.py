"""Equilibrium continuation on classic problems with closed forms (issue 14): the cusp point on
the fold curve of the cusp normal form, and the pitchforks of the symmetric two-cell enzyme
(AUTO demo enz) where its asymmetric loop folds exactly at the branch point."""
from __future__ import annotations

import numpy as np
import pytest
from scipy.optimize import brentq

from bifurcate.continuation import continue_codim2, continue_equilibria, switch_branch
from bifurcate.models.classic import CUSP, ENZYME


def test_cusp_point_on_the_fold_curve():
    br = continue_equilibria(CUSP, [-1.0], param="a", params={"a": 0.0, "b": 1.0}, ds=0.01, p_min=-1, p_max=1)
    lps = br.special("LP")
    # folds of dx = a + b x - x^3 at b = 1: a = -+2 / (3 sqrt 3)
    assert sorted(p.param for p in lps) == pytest.approx([-2 / (3 * np.sqrt(3)), 2 / (3 * np.sqrt(3))], abs=1e-10)
    curve = continue_codim2(CUSP, lps[0], "b", bounds={"a": (-2, 2), "b": (-2, 2)})
    cps = [p for p in curve.points if p.kind == "CP"]
    assert len(cps) == 1 and cps[0].located
    assert abs(cps[0].params["a"]) < 1e-10 and abs(cps[0].params["b"]) < 1e-10
    assert abs(cps[0].state[0]) < 1e-6
    assert cps[0].data["c"] == pytest.approx(-6.0, rel=1e-4)  # d^3 f / dx^3
    # the fold curve itself is 27 a^2 = 4 b^3
    a, b = curve.param_values, curve.columns["b"]
    assert np.max(np.abs(27 * a ** 2 - 4 * b ** 3)) < 1e-8
    # no CP elsewhere, and nothing else on this curve
    assert [p.kind for p in curve.points] == ["CP"]


def enzyme_pitchforks(rh=100.0, rk=1.0):
    """s0 of the symmetric pitchforks: s0 = s + rh R(s) where rh R'(s) = -3."""
    R = lambda s: s / (1 + s + rk * s * s)  # noqa: E731
    g = lambda s: rh * (1 - rk * s * s) / (1 + s + rk * s * s) ** 2 + 3.0  # noqa: E731
    grid = np.linspace(1.0, 60.0, 6000)
    v = g(grid)
    roots = [brentq(g, grid[i], grid[i + 1], xtol=1e-15) for i in np.flatnonzero(v[:-1] * v[1:] < 0)]
    return sorted(s + rh * R(s) for s in roots)


@pytest.fixture(scope="module")
def enzyme_branch():
    return continue_equilibria(ENZYME, [0.0, 0.0], param="s0", params={"s0": 0.0}, ds=0.005, ds_max=0.05,
                               p_min=-1, p_max=40, max_steps=5000)


@pytest.mark.parametrize("which", [0, 1])
def test_pitchfork_on_the_asymmetric_loop_is_located(enzyme_branch, which):
    exact = enzyme_pitchforks()
    bps = enzyme_branch.special("BP")
    assert sorted(p.param for p in bps) == pytest.approx(exact, abs=1e-8)
    loop = switch_branch(enzyme_branch, bps[which], ds_max=0.05, p_min=-1, p_max=40, max_steps=3000)[0]
    assert loop.status == 0 and "closed curve" in loop.message
    # the loop passes through the other pitchfork, where it folds: one BP, located, exact, and
    # no LP there (the fold of the side branch is the pitchfork itself)
    other = exact[1 - exact.index(min(exact, key=lambda v: abs(v - bps[which].param)))]
    on_loop = loop.special("BP")
    assert len(on_loop) == 1 and on_loop[0].located
    assert abs(on_loop[0].param - other) < 1e-8
    assert abs(on_loop[0].state[0] - on_loop[0].state[1]) < 1e-8  # on the symmetric branch
    assert not [p for p in loop.special("LP") if abs(p.param - other) < 1e-3]
