"""Two-parameter curves of the normal state: the BP curve is Eq. (12), the Hopf curve is the exact
curve (Eq. (13) to its order), they meet at the Bogdanov-Takens point; broken-state Hopf curves."""
from __future__ import annotations

import numpy as np
import pytest

from bifurcate.continuation import continue_equilibria
from bifurcate.continuation.codim2 import continue_codim2
from bifurcate.continuation.reference import bt_point, eq12_Jc, eq13_lam_c, hopf_J_exact, hopf_lam_exact
from bifurcate.equilibria import find_equilibria
from bifurcate.models import LMG_DIMER, NORMAL_STATE


@pytest.fixture(scope="module")
def bp_curve():
    b = continue_equilibria(LMG_DIMER, NORMAL_STATE, param="J", params=dict(lam=0.0), p_min=0, p_max=1.5)
    return continue_codim2(LMG_DIMER, b.special("BP")[0], "lam", p_min=0.0, p_max=1.5)


@pytest.fixture(scope="module")
def hopf_curve():
    b = continue_equilibria(LMG_DIMER, NORMAL_STATE, param="lam", params=dict(J=0.0), p_min=0, p_max=1.5)
    return continue_codim2(LMG_DIMER, b.special("HB")[0], "J", p_min=-1.5, p_max=1.5, bounds={"lam": (0.0, 1.5)})


def test_bp_curve_is_eq12(bp_curve):
    c = bp_curve
    assert c.success and c.kind == "BP"
    lam = c.columns["lam"]
    assert lam.min() == 0.0 and lam.max() == 1.5 and len(c) > 10
    assert np.max(np.abs(c.param_values - eq12_Jc(lam))) < 1e-8
    assert np.allclose(c.states, NORMAL_STATE, atol=1e-12)
    df = c.to_frame()
    assert {"J", "lam", "XA", "ZB"} <= set(df.columns) and df.lam.nunique() == len(c)


def test_bp_curve_meets_hopf_curve_at_bt(bp_curve):
    (bt,) = bp_curve.special("BT")
    J_bt, lam_bt = bt_point()
    assert bt.located
    assert abs(bt.params["J"] - J_bt) < 1e-8 and abs(bt.params["lam"] - lam_bt) < 1e-8
    assert np.sum(np.abs(bt.eigenvalues) < 1e-6) == 2       # double zero


def test_hopf_curve_exact_and_eq13(hopf_curve):
    c = hopf_curve
    assert c.success and c.kind == "HB"
    hb = c.columns["segment"] == "HB"
    lam, J = c.param_values, c.columns["J"]
    assert np.max(np.abs(lam[hb] - hopf_lam_exact(J[hb]))) < 1e-8
    # Eq. (13) holds to its order: the remainder is -J^4/5 (g = 1, gamma = 1/2)
    small = hb & (np.abs(J) < 0.3) & (np.abs(J) > 0.02)
    assert small.sum() > 3
    rem = lam[small] - eq13_lam_c(J[small])
    assert np.all(np.abs(rem) <= 0.25 * J[small] ** 4)
    assert np.allclose(rem / J[small] ** 4, -0.2, atol=0.1)
    # kappa = omega^2 > 0 on the Hopf segment, < 0 on the neutral-saddle continuation past BT
    assert np.all(c.columns["kappa"][hb] > 0) and np.any(~hb)
    # l1 vanishes at J = 0 (degenerate Hopf of the PT dimer) and is positive (subcritical) beside it
    l1 = c.columns["l1"]
    k0 = np.argmin(np.abs(J))
    assert abs(l1[k0]) < 1e-4
    assert np.all(l1[hb & (np.abs(J) > 0.2)] > 0)


def test_hopf_curve_bt_points(hopf_curve):
    bts = hopf_curve.special("BT")
    J_bt, lam_bt = bt_point()
    assert len(bts) == 2
    for bt in bts:
        assert bt.located and abs(abs(bt.params["J"]) - J_bt) < 1e-8 and abs(bt.params["lam"] - lam_bt) < 1e-8
    # the neutral saddle continuation is never labelled as a Hopf point
    assert not hopf_curve.special("HB")


def test_hopf_curve_of_broken_state_meets_bp_curve():
    res = find_equilibria(LMG_DIMER, J=1.0, lam=0.0)
    y = res.stable_states()[0]
    b = continue_equilibria(LMG_DIMER, y, param="lam", params=dict(J=1.0, lam=0.0), p_min=0, p_max=1.5)
    (hb,) = b.special("HB")
    c = continue_codim2(LMG_DIMER, hb, "J", p_min=0.0, p_max=1.6, bounds={"lam": (0.0, 1.5)})
    assert c.success
    # stops where the broken state becomes symmetric: on the BP curve, at the Z2 BT point
    meet = [p for p in c.points if p.data.get("meets") == "BP curve"]
    assert len(meet) == 1 and meet[0].kind == "BT"
    J_bt, lam_bt = bt_point()
    assert abs(meet[0].params["J"] - J_bt) < 5e-3 and abs(meet[0].params["lam"] - lam_bt) < 5e-3
    # every row is a Hopf point of an equilibrium: F = 0 and a pair +- i omega
    for k in range(0, len(c), 25):
        pars = dict(J=c.columns["J"][k], lam=c.param_values[k])
        assert np.max(np.abs(LMG_DIMER.f(c.states[k], pars))) < 1e-9
        ev = LMG_DIMER.tangent_eigenvalues(c.states[k], pars)
        assert np.min(np.abs(ev - 1j * c.columns["omega"][k])) < 1e-7
    # a generalised Hopf point where l1 changes sign
    (gh,) = c.special("GH")
    assert gh.located


def test_codim2_bad_input(bp_curve):
    b = continue_equilibria(LMG_DIMER, NORMAL_STATE, param="J", params=dict(lam=0.0), p_min=0, p_max=1.0)
    with pytest.raises(KeyError, match="unknown parameter"):
        continue_codim2(LMG_DIMER, b.special("BP")[0], "mu")
    with pytest.raises(ValueError, match="two different"):
        continue_codim2(LMG_DIMER, b.special("BP")[0], "J")
    with pytest.raises(ValueError, match="BP, LP or HB"):
        continue_codim2(LMG_DIMER, bp_curve.special("BT")[0], "lam", param="J")


def test_plots_return_axes(bp_curve, hopf_curve):
    import matplotlib.pyplot as plt

    from analysis.plots_bifurcation import plot_branch, plot_codim2

    b = continue_equilibria(LMG_DIMER, NORMAL_STATE, param="J", params=dict(lam=0.3), p_min=0, p_max=1.0)
    ax = plot_branch(b, y="XB")
    assert ax.get_xlabel() == "J" and len(ax.lines) >= 2   # stable solid + unstable dashed
    assert {ln.get_linestyle() for ln in ax.lines if len(ln.get_xdata()) > 1} == {"-", "--"}
    ax2 = plot_codim2([bp_curve, hopf_curve])
    assert ax2.get_xlabel() == "J" and ax2.get_ylabel() == "lam"
    assert any(t.get_text() == "Eq. (12)" for t in ax2.get_legend().get_texts())
    plt.close("all")


def test_codim2_bounds_are_checked():
    """A reversed, NaN or malformed bound is an error naming ``bounds`` (it used to return a
    three-point branch with status 0)."""
    b = continue_equilibria(LMG_DIMER, NORMAL_STATE, param="J", params=dict(lam=0.0), p_min=0, p_max=1.0)
    bp = b.special("BP")[0]
    with pytest.raises(ValueError, match=r"bounds\['lam'\] must satisfy low < high"):
        continue_codim2(LMG_DIMER, bp, "lam", bounds={"lam": (1.0, 0.0)})
    with pytest.raises(ValueError, match=r"bounds\['lam'\]\[0\] must be a finite number"):
        continue_codim2(LMG_DIMER, bp, "lam", bounds={"lam": (float("nan"), 1.0)})
    with pytest.raises(TypeError, match=r"bounds\['lam'\] must be a pair"):
        continue_codim2(LMG_DIMER, bp, "lam", bounds={"lam": 1.0})
    with pytest.raises(KeyError, match="unknown parameter"):
        continue_codim2(LMG_DIMER, bp, "lam", bounds={"mu": (0.0, 1.0)})
    with pytest.raises(ValueError, match="p_min"):
        continue_codim2(LMG_DIMER, bp, "lam", p_min=float("nan"))
