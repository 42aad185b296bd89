"""Degenerate cases said, not miscounted: non-hyperbolic equilibria, continua of equilibria, no Hopf
point from rounding noise; and :func:`bifurcate.check_model` on broken hand-written models."""
from __future__ import annotations

import numpy as np
import pytest

from bifurcate import Model, SphereProduct, Symmetry, check_model, continue_equilibria, find_equilibria
from bifurcate.equilibria import stability_labels
from bifurcate.models import BTC, LMG, LMG_DIMER


# ------------------------------------------------------------------------------------------------
# classification of spectra
# ------------------------------------------------------------------------------------------------
def test_stability_labels():
    ev = np.array([[-1.0, -2.0], [1e-3, -1.0], [1e-14 + 2j, 1e-14 - 2j], [0.0, -1.0], [1.0, 0.0]])
    lab = stability_labels(ev, 1e-9)
    assert list(lab["stability"]) == ["stable", "unstable", "non-hyperbolic", "non-hyperbolic", "unstable"]
    assert list(lab["hyperbolic"]) == [True, True, False, False, False]
    assert list(lab["n_unstable"]) == [0, 1, 0, 0, 1]
    # the tolerance scales with the spectrum: Re = 1e-8 next to |ev| = 1e3 is rounding level
    big = stability_labels(np.array([[1e-8 + 1e3j, 1e-8 - 1e3j]]), 1e-9)
    assert big["stability"][0] == "non-hyperbolic"


def test_hyperbolic_equilibria_keep_their_labels():
    es = find_equilibria(LMG_DIMER, J=-1.5, lam=0.3)
    assert es.n_stable == 2 and es.hyperbolic.all() and es.n_families == 0
    assert list(es.stability[:2]) == ["stable", "stable"]
    assert all(s == "unstable" for s in es.stability[2:])
    df = es.to_frame()
    assert {"stability", "hyperbolic", "family", "family_size"} <= set(df.columns)


def test_btc_centres_are_non_hyperbolic_neither_stable_nor_unstable():
    es = find_equilibria(BTC, omega=2.0, kappa=1.0)
    assert len(es) == 2 and es.n_stable == 0 and np.all(es.n_unstable == 0)
    assert list(es.stability) == ["non-hyperbolic"] * 2
    ev = es.eigenvalues
    assert np.allclose(np.abs(ev.real), 0.0, atol=1e-9) and np.all(np.abs(ev.imag) > 0.5)


# ------------------------------------------------------------------------------------------------
# continua of equilibria
# ------------------------------------------------------------------------------------------------
def test_a_circle_of_equilibria_is_one_family():
    # LMG at g = gamma = 0: dX/dt = 0, dY/dt = 2J Z X, dZ/dt = -2J X Y; equilibria: the great circle
    # X = 0 (a continuum) and the two centres (+-1, 0, 0)
    es = find_equilibria(LMG, g=0.0, gamma=0.0, J=1.0, n_seeds=100)
    assert es.n_families == 1 and len(es) == 3
    (pts,) = es.family_points
    assert len(pts) > 20 and np.allclose(pts[:, 0], 0.0, atol=1e-9)
    assert np.allclose(np.linalg.norm(pts, axis=1), 1.0)
    fam_rows = es.family >= 0
    assert fam_rows.sum() == 1 and es.stability[fam_rows][0] == "non-hyperbolic"
    iso = es.states[~fam_rows]
    assert np.allclose(np.sort(iso[:, 0]), [-1.0, 1.0], atol=1e-9)
    assert list(es.to_frame()["family_size"][fam_rows]) == [len(pts)]


def test_isolated_degenerate_points_are_not_a_family():
    # the fold of the saddle-node normal form at mu = 0 is one degenerate point, not a continuum
    from bifurcate.models import SADDLE_NODE

    es = find_equilibria(SADDLE_NODE, mu=0.0)
    assert es.n_families == 0


# ------------------------------------------------------------------------------------------------
# no Hopf point from rounding noise along a branch of centres
# ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("ds", [0.01, 0.02, 0.05])
def test_btc_centre_branch_has_no_hopf_points(ds):
    w = 1.2
    y0 = np.array([np.sqrt(1 - 1 / w ** 2), 1 / w, 0.0])
    b = continue_equilibria(BTC, y0, "omega", {"omega": w}, ds=ds, p_max=4.0)
    assert b.status == 0 and b.param_values[-1] >= 4.0 - 1e-9
    assert b.points == () or all(p.kind not in ("HB", "NSad") for p in b.points)
    ev = b.eigenvalues
    assert np.max(np.abs(ev.real)) < 1e-9           # centres all along
    assert not b.stable.any() and not b.n_unstable.any()


def test_genuine_hopf_points_are_still_found():
    # the LMG dimer's normal state: a genuine Hopf crossing at lam = gamma (J = 0)
    from bifurcate.models import NORMAL_STATE

    b = continue_equilibria(LMG_DIMER, NORMAL_STATE, param="lam", params=dict(J=0.0), p_min=0.0, p_max=1.5)
    (hb,) = b.special("HB")
    assert abs(hb.param - 0.5) < 1e-10


# ------------------------------------------------------------------------------------------------
# check_model on hand-written models
# ------------------------------------------------------------------------------------------------
def _rotation_model(jac_error=0.0, leak=0.0, name="rot"):
    # dX/dt = -w Y, dY/dt = w X, dZ/dt = 0 (rotation about z); ``leak`` pushes off the sphere
    def rhs(y, p, out):
        w = p[0]
        out[0] = -w * y[1] + leak * y[0]
        out[1] = w * y[0]
        out[2] = 0.0
        return 0

    def jac(y, p, out):
        w = p[0]
        out[:] = 0.0
        out[0, 1] = -w + jac_error
        out[0, 0] = leak
        out[1, 0] = w
        return 0

    return Model(name=name, state_names=("X", "Y", "Z"), param_names=("w",), defaults={"w": 1.0},
                 rhs=rhs, jac=jac, geometry=SphereProduct(((0, 1, 2),)), module=__name__, attr="none",
                 symmetries=(Symmetry("Zflip", np.diag([1.0, 1.0, -1.0]), False),))


def test_check_model_passes_a_correct_model():
    rep = check_model(_rotation_model(name="rot_ok"))
    assert rep.status == "success" and rep.success
    assert rep.checks == {"finite": True, "jacobian": True, "phase_space": True, "symmetry_Zflip": True}


def test_check_model_finds_a_wrong_jacobian_entry():
    rep = check_model(_rotation_model(jac_error=1e-3, name="rot_badjac"))
    assert rep.status == "failure" and not rep.checks["jacobian"]
    assert any("dX/dY" in m for m in rep.messages)
    assert rep.checks["phase_space"]


def test_check_model_finds_a_field_leaving_the_sphere():
    rep = check_model(_rotation_model(leak=0.1, name="rot_leak"))
    assert rep.status == "failure" and not rep.checks["phase_space"] and rep.checks["jacobian"]


def test_check_model_finds_a_false_symmetry():
    from dataclasses import replace

    m = replace(_rotation_model(name="rot_sym"), symmetries=(Symmetry("Xflip", np.diag([-1.0, 1.0, 1.0]), False),))
    rep = check_model(m)
    assert rep.status == "failure" and not rep.checks["symmetry_Xflip"]
    assert "Xflip" in str(rep)


def test_check_model_bad_input():
    with pytest.raises(TypeError, match="expects a bifurcate.Model"):
        check_model("lmg_dimer")
    with pytest.raises(ValueError, match="n_points"):
        check_model(LMG, n_points=0)
    with pytest.raises(KeyError, match="unknown parameter"):
        check_model(LMG, {"nope": 1.0})
