"""AUTO-07p (through bifpy) as an independent oracle.

Tests marked ``auto`` run AUTO-07p: they skip only when bifpy is not installed (CI installs
gfortran and bifpy, so they run there). The two unmarked tests need neither.

Tolerances: AUTO locates special points to EPSS (1e-10 for equilibria, 1e-9 for cycles, see
``EQUILIBRIUM_SETTINGS``/``CYCLE_SETTINGS``) and writes fort.7 with 11 significant digits;
eigenvalues and Floquet multipliers come with 6 significant digits only.
"""
from __future__ import annotations

import json
import math
import pathlib
import subprocess
import sys

import numpy as np
import pytest

from bifurcate.backends import auto07p as A

REF = json.loads((pathlib.Path(__file__).parent / "data" / "auto_reference.json").read_text())
BASE = {"g": 1.0, "gamma": 0.5}


@pytest.fixture(scope="module")
def bifpy():
    return pytest.importorskip("bifpy", reason="the AUTO-07p oracle tier needs bifpy "
                                               "(apt-get install gfortran; pip install bifpy)")


# --------------------------------------------------------------------------------------------
# no AUTO needed
# --------------------------------------------------------------------------------------------
def test_import_is_lazy_and_calls_say_what_to_install():
    code = (
        "import sys; sys.modules['bifpy'] = None\n"
        "from bifurcate.backends import auto07p as A\n"
        "assert not A.available()\n"
        "try:\n"
        "    A.auto_equilibria('brusselator', [1.0, 1.0], {'a': 1.0, 'b': 1.0}, 'b')\n"
        "except RuntimeError as e:\n"
        "    assert 'pip install bifpy' in str(e) and 'gfortran' in str(e), e\n"
        "else:\n"
        "    raise SystemExit('expected RuntimeError')\n"
    )
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=pathlib.Path(__file__).parents[1])
    assert res.returncode == 0, res.stderr


def test_auto_equations_are_the_engine_models(rng):
    """The text AUTO compiles is the same vector field as the engine's kernels (on and off
    the spheres: the radial damping term is part of both)."""
    from bifurcate.models import BRUSSELATOR, LMG_DIMER, STUART_LANDAU

    cases = [(A.LMG_DIMER_AUTO, LMG_DIMER, {"g": 0.9, "gamma": 0.45, "J": 0.7, "lam": 0.33}),
             (A.LMG_DIMER_AUTO, LMG_DIMER, {"g": 1.0, "gamma": -0.3, "J": -1.2, "lam": 1.1}),
             (A.BRUSSELATOR_AUTO, BRUSSELATOR, {"a": 1.3, "b": 2.7}),
             (A.STUART_LANDAU_AUTO, STUART_LANDAU, {"mu": 0.4, "omega": 1.3, "beta": -0.7})]
    for prob, model, params in cases:
        for _ in range(5):
            y = rng.normal(size=model.n)
            np.testing.assert_allclose(prob.rhs(y, params), model.f(y, params), rtol=1e-13, atol=1e-13)
    assert A.LMG_DIMER_AUTO.params({"gamma": -0.3})["kappa"] == pytest.approx(1.6)
    with pytest.raises(KeyError, match="unknown parameter"):
        A.LMG_DIMER_AUTO.params({"lambda": 0.1})
    with pytest.raises(ValueError, match="expected 2 equations"):
        A.AutoProblem("bad", ("x", "y"), ("a",), ("x",), {"a": 1.0})


# --------------------------------------------------------------------------------------------
# closed forms
# --------------------------------------------------------------------------------------------
@pytest.mark.auto
def test_brusselator_hopf_at_b_equals_1_plus_a2(bifpy):
    a = 1.5
    r = A.auto_equilibria("brusselator", [a, 1.0 / a], {"a": a, "b": 1.0}, "b", bounds=(0.0, 5.0))
    assert r.success, r.message
    hb = r.special("HB")
    assert len(hb) == 1
    assert hb["b"].iloc[0] == pytest.approx(1 + a**2, abs=1e-8)
    assert hb["omega"].iloc[0] == pytest.approx(a, abs=1e-8)
    # cycles are born at the Hopf point with period 2 pi / a, and are stable (supercritical)
    c = A.auto_cycles_from_hopf(r, bounds=(0.0, 5.0), uz={"b": [3.3]}, settings={"nmx": 60})
    assert c.success, c.message
    first = c.to_frame().iloc[1]
    assert first["period"] == pytest.approx(2 * math.pi / a, abs=1e-3)
    uz = c.special("UZ").iloc[0]
    assert uz["b"] == pytest.approx(3.3, abs=1e-8) and bool(uz["stable"])
    # time average of x over a cycle is exactly a (d(x + y)/dt = a - x); trapezoid on AUTO's mesh
    assert uz["x_mean"] == pytest.approx(a, abs=1e-4)


@pytest.mark.auto
def test_stuart_landau_cycle_radius_period_and_multiplier(bifpy):
    om, be = 1.0, 0.5
    r = A.auto_equilibria("stuart_landau", [0.0, 0.0], {"mu": -0.5, "omega": om, "beta": be}, "mu",
                          bounds=(-1.0, 1.0))
    hb = r.special("HB")
    assert len(hb) == 1 and abs(hb["mu"].iloc[0]) < 1e-9
    assert hb["period"].iloc[0] == pytest.approx(2 * math.pi / om, abs=1e-8)
    mus = [0.1, 0.25, 0.5]
    c = A.auto_cycles_from_hopf(r, bounds=(-1.0, 0.6), uz={"mu": mus}, settings={"nmx": 200})
    assert c.success, c.message
    uz = c.special("UZ")
    assert list(np.round(uz["mu"], 8)) == mus
    for _, row in uz.iterrows():
        mu = row["mu"]
        period = 2 * math.pi / (om - be * mu)
        assert row["period"] == pytest.approx(period, abs=1e-8)
        orbit = c.orbit(int(row["auto_label"]))
        np.testing.assert_allclose(np.hypot(orbit["x"], orbit["y"]), math.sqrt(mu), atol=1e-8)
        assert orbit["t"].iloc[-1] == pytest.approx(period, abs=1e-8)
        # extrema over AUTO's mesh points (not the exact peak): within (pi / n_mesh)^2 / 2
        assert row["x_max"] == pytest.approx(math.sqrt(mu), rel=(math.pi / (len(orbit) - 1)) ** 2 / 2)
        fm = sorted(abs(complex(row[f"fm{j}_re"], row[f"fm{j}_im"])) for j in range(2))
        assert fm[1] == pytest.approx(1.0, abs=1e-5)
        assert fm[0] == pytest.approx(math.exp(-2 * mu * period), rel=1e-4)  # 6 printed digits
        assert bool(row["stable"]) and row["n_unstable"] == 0


@pytest.mark.auto
@pytest.mark.parametrize("lam", [0.0, 0.2, 0.4])
def test_lmg_normal_state_pitchfork_is_eq12(bifpy, lam):
    r = A.auto_equilibria(A.LMG_DIMER_AUTO, A.NORMAL, dict(BASE, lam=lam), "J", bounds=(-0.01, 1.5))
    bp = r.special("BP")
    assert len(bp) == 1, r.points_frame()
    assert bp["J"].iloc[0] == pytest.approx(float(A.eq12_J(lam)), abs=1e-8)
    # no Hopf point of the normal state below the pitchfork at these lam
    assert r.special("HB").empty
    # stability flips at the BP and nowhere else
    f = r.to_frame()
    before, after = f[f["J"] < bp["J"].iloc[0] - 1e-6], f[f["J"] > bp["J"].iloc[0] + 1e-6]
    assert before["n_unstable"].eq(0).all() and after["n_unstable"].eq(1).all()


@pytest.mark.auto
def test_lmg_codim2_curves_are_the_closed_forms(bifpy):
    r0 = A.auto_equilibria(A.LMG_DIMER_AUTO, A.NORMAL, dict(BASE, lam=0.0), "J", bounds=(-0.01, 1.5))
    bpc = A.auto_codim2(r0, "BP", "lam", bounds=(0.0, 3.0), bounds2=(-0.001, 1.5), direction=-1)
    assert bpc.success, bpc.message
    f = bpc.to_frame()
    assert f["lam"].max() == pytest.approx(1.5, abs=1e-8)
    np.testing.assert_allclose(f["J"], A.eq12_J(f["lam"]), atol=1e-8)
    # the BP curve turns in J where d(J_c^2)/d(lam^2) = 0: lam^2 = sqrt(17)/4 - 1
    turn = bpc.points_frame().query("auto_type == 'LP'")
    assert len(turn) == 1
    assert turn["lam"].iloc[0] == pytest.approx(math.sqrt(math.sqrt(17) / 4 - 1), abs=1e-7)

    rh = A.auto_equilibria(A.LMG_DIMER_AUTO, A.NORMAL, dict(BASE, J=0.2), "lam", bounds=(-0.01, 1.5))
    # at EPSS = 1e-10 AUTO sees test functions change sign on the neutral-saddle part of this
    # curve but cannot localise them within ITMX: it drops them silently; the backend warns
    with pytest.warns(A.AutoToleranceWarning, match="dropped"):
        hbc = A.auto_codim2(rh, "HB", "J", bounds=(-0.01, 1.5), bounds2=(-0.001, 1.0), direction=1)
    assert hbc.success, hbc.message
    assert hbc.stats["dropped_special_points"]
    h = hbc.to_frame()
    hopf = h[~h["neutral_saddle"].astype(bool)]
    np.testing.assert_allclose(hopf["J"], A.hopf_curve_J(hopf["lam"]), atol=1e-8)
    np.testing.assert_allclose(2 * np.pi / hopf["period"], np.sqrt(1.25 - hopf["lam"] ** 2), atol=1e-7)
    # the Hopf curve ends on the BP curve at a (Z2-symmetric) Bogdanov-Takens point, which AUTO
    # labels BP (code 31: a branch point of its Hopf-curve system, omega -> 0 there)
    bt = hbc.points_frame().query("auto_code == 31").iloc[0]
    assert bt["lam"] == pytest.approx(math.sqrt(5) / 2, abs=1e-8)
    assert bt["J"] == pytest.approx(math.sqrt(5) / 3, abs=1e-8)
    assert h[h["lam"] > bt["lam"] + 1e-6]["neutral_saddle"].all()
    # subcritical all along J in (0, sqrt(5)/3): AUTO's GH test function is positive
    gh = hopf["gh_function"].dropna()
    assert (gh[hopf.loc[gh.index, "J"] > 0.05] > 0).all()


# --------------------------------------------------------------------------------------------
# the stored reference numbers (what the engine's continuation core is compared with)
# --------------------------------------------------------------------------------------------
@pytest.mark.auto
def test_reference_json_is_reproduced(bifpy):
    """Re-run the equilibrium, Hopf, codim-2 and J = 1 cycle numbers (``full=False``: a few seconds)."""
    new = A.reference_numbers(full=False)
    for old_pt, new_pt in zip(REF["normal_bp_in_J"]["points"], new["normal_bp_in_J"]["points"]):
        assert new_pt["J"] == pytest.approx(old_pt["J"], abs=1e-9)
    for key in ("lam", "period"):
        assert new["normal_hopf_in_lam"][key] == pytest.approx(REF["normal_hopf_in_lam"][key], abs=1e-9)
        assert new["broken_J1"]["hopf"][key] == pytest.approx(REF["broken_J1"]["hopf"][key], abs=1e-9)
        assert new["broken_J1"]["cycles"]["pd"][key] == pytest.approx(REF["broken_J1"]["cycles"]["pd"][key], abs=1e-7)
    assert new["normal_hopf_in_lam"]["criticality"] == REF["normal_hopf_in_lam"]["criticality"] == "subcritical"
    assert new["broken_J1"]["hopf"]["gh_function"] < 0  # supercritical: stable cycles grow from it
    assert new["broken_J1"]["cycles"]["stable_before_pd"]
    for o, n in zip(REF["broken_J1"]["cycles"]["uz"], new["broken_J1"]["cycles"]["uz"]):
        assert n["lam"] == pytest.approx(o["lam"], abs=1e-9)
        assert n["period"] == pytest.approx(o["period"], abs=1e-7)
        assert n["XB_max"] == pytest.approx(o["XB_max"], abs=1e-7)
    for o, n in zip(REF["bp_curve"]["points"], new["bp_curve"]["points"]):
        assert (n["lam"], n["J"]) == pytest.approx((o["lam"], o["J"]), abs=1e-9)
    assert len(new["hopf_curve"]["points"]) == len(REF["hopf_curve"]["points"]) == 4
    for o, n in zip(REF["hopf_curve"]["points"], new["hopf_curve"]["points"]):
        assert (n["J"], n["lam"], n["period"]) == pytest.approx((o["J"], o["lam"], o["period"]), abs=1e-8)
    # the stored numbers themselves against the closed forms
    for pt in REF["normal_bp_in_J"]["points"]:
        assert pt["J"] == pytest.approx(pt["eq12"], abs=1e-8)
    # J^2 (1 + lam^2) = 1.25 (lam^2 - 1/4) at J = 0.2 (see hopf_curve_J)
    assert REF["normal_hopf_in_lam"]["lam"] == pytest.approx(math.sqrt((0.04 + 1.25 * 0.25) / (1.25 - 0.04)), abs=1e-8)


@pytest.mark.auto
def test_cycles_of_the_normal_state_at_J02_turn_at_a_fold(bifpy):
    """Subcritical Hopf at J = 0.2: unstable cycles towards smaller lam, turning at an LPC.

    The family joins the Hopf point of the normal state to that of its PT image (ZA = +1,
    ZB = -1) at the same lam; the fold is the PT-symmetric cycle, where every tangent Floquet
    multiplier sits on the unit circle (a reversible system's symmetric cycle). AUTO also
    prints LP/BP at the zero-amplitude ends: :func:`_lpc_summary` drops them.
    """
    ref = REF["normal_cycles_J0.2"]
    r = A.auto_equilibria(A.LMG_DIMER_AUTO, A.NORMAL, dict(BASE, J=0.2), "lam", bounds=(-0.01, 1.5))
    # the family is not generic (four multipliers at 1 at its fold, a reversible family): AUTO's
    # test functions change sign again and again without converging and it drops the points
    # silently; the backend warns (and says where)
    with pytest.warns(A.AutoToleranceWarning, match="dropped"):
        c = A.auto_cycles_from_hopf(r, bounds=(0.0, 1.5), settings={"nmx": 600})
    assert c.success, c.message
    assert len(c.stats["dropped_special_points"]) > 1
    got = A._lpc_summary(c, float(r.special("HB")["lam"].iloc[0]))
    assert got["lpc"], got
    lpc, lpc_ref = got["lpc"][0], ref["lpc"][0]
    assert lpc["lam"] == pytest.approx(lpc_ref["lam"], abs=1e-8)
    assert lpc["period"] == pytest.approx(lpc_ref["period"], abs=1e-6)
    assert lpc["lam"] < got["hopf_lam"]  # subcritical: the cycles lie where the normal state is stable
    assert got["lam_min_on_branch"] == pytest.approx(lpc["lam"], abs=1e-8)
    assert lpc["ZA_range"] == pytest.approx(lpc["ZB_range"], abs=1e-3)  # PT-symmetric cycle
    assert sorted(lpc["abs_multipliers"])[-4:] == pytest.approx([1, 1, 1, 1], abs=1e-3)


@pytest.mark.auto
def test_bad_input_raises_at_once(bifpy):
    with pytest.raises(KeyError, match="unknown parameter"):
        A.auto_equilibria("brusselator", [1.0, 1.0], {"a": 1.0}, "c")
    with pytest.raises(ValueError, match="expected dsmin <= dsmax"):
        A.auto_equilibria("brusselator", [1.0, 1.0], {"a": 1.0}, "b", settings={"dsmin": 0.5, "dsmax": 0.1})
    with pytest.raises(KeyError, match="unknown or reserved AUTO constant"):
        A.auto_equilibria("brusselator", [1.0, 1.0], {"a": 1.0}, "b", settings={"ips": 2})
    with pytest.raises(ValueError, match=r"shape \(2,\)"):
        A.auto_equilibria("brusselator", [1.0, 1.0, 1.0], {"a": 1.0}, "b")
    r = A.auto_equilibria("brusselator", [1.0, 1.0], {"a": 1.0, "b": 1.0}, "b", bounds=(0.0, 1.5))
    assert r.success and r.special("HB").empty
    with pytest.raises(IndexError, match="expected index"):
        A.auto_cycles_from_hopf(r)
