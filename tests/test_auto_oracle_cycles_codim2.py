"""Curves of cycle bifurcations and the homoclinic limit of the flagship against AUTO-07p (bifpy).

AUTO continues folds and flips of periodic orbits with its own extended boundary-value problems
(doubled dimension, ``ISW=2``); ours are minimally augmented collocation systems. Both are
superconvergent collocation (NCOL = 4; AUTO NTST = 60, ours 40, adapted meshes): the special
points agree far below the issue's 1e-6. AUTO locates its user points (UZ) in the second
parameter to about 1e-9, which bounds the comparison.
"""
from __future__ import annotations

import warnings

import numpy as np
import pytest

from bifurcate.backends import auto07p as A
from bifurcate.cycles import continue_cycle_codim2
from bifurcate.homoclinic import continue_homoclinic
from bifurcate.models import LMG_DIMER, NORMAL_STATE
from tests.test_cycles_codim2 import cycles_at

BASE = {"g": 1.0, "gamma": 0.5}
pytestmark = pytest.mark.auto


@pytest.fixture(scope="module")
def bifpy():
    return pytest.importorskip("bifpy", reason="the AUTO-07p oracle tier needs bifpy "
                                               "(apt-get install gfortran; pip install bifpy)")


def auto_broken_cycles(J, bounds, **kw):
    """AUTO's equilibria of the broken state at coupling J (seeded by the engine's equilibrium,
    corrected by AUTO's own Newton) and the cycles of its first Hopf point."""
    from bifurcate.equilibria import newton_equilibrium

    y0 = newton_equilibrium(LMG_DIMER, [0, 0, -1, -0.8155, -0.2185, 0.5359], {"J": 1.0, "lam": 0.0})
    for JJ in np.linspace(1.0, J, 11)[1:]:
        y0 = newton_equilibrium(LMG_DIMER, y0, {"J": JJ, "lam": 0.0})
    y0 = A.newton_equilibrium(A.LMG_DIMER_AUTO, y0, dict(BASE, J=J, lam=0.0))
    r = A.auto_equilibria(A.LMG_DIMER_AUTO, y0, dict(BASE, J=J, lam=0.0), "lam", bounds=(-0.01, 1.5))
    return A.auto_cycles_from_hopf(r, bounds=bounds, **kw)


def test_pd_curve_of_the_flagship_matches_auto(bifpy):
    cyc = auto_broken_cycles(1.0, (0.0, 0.7))
    auto = A.auto_cycle_codim2(cyc, "PD", "J", bounds=(0.0, 1.5), bounds2=(0.9, 1.6), uz={"J": [1.2, 1.5]},
                               direction=-1, settings={"nmx": 200})
    assert auto.success, auto.message
    uz_auto = auto.special("UZ")
    pd1 = cycles_at(1.0).special("PD")[0]
    ours = continue_cycle_codim2(LMG_DIMER, pd1, "J", stops={"J": [1.2, 1.5]}, bounds={"J": (0.95, 1.55)},
                                 bidirectional=False)
    uz = {round(p.params["J"], 9): p.param for p in ours.special("UZ")}
    for J in (1.2, 1.5):
        row = uz_auto.iloc[int(np.argmin(np.abs(uz_auto["J"].to_numpy() - J)))]
        assert abs(row["J"] - J) < 1e-8
        assert abs(uz[J] - row["lam"]) < 1e-6, (J, uz[J], row["lam"])


@pytest.mark.slow
def test_lpc_curve_from_the_generic_fold_matches_auto(bifpy):
    cyc = auto_broken_cycles(1.5, (0.3, 0.6), settings={"nmx": 80})
    lpc = cyc.special("LPC")
    assert len(lpc) and abs(lpc["lam"].iloc[0] - 0.4130126) < 1e-6
    auto = A.auto_cycle_codim2(cyc, "LPC", "J", bounds=(0.0, 1.5), bounds2=(1.3, 1.7), uz={"J": [1.4, 1.6]},
                               settings={"nmx": 200})
    auto2 = A.auto_cycle_codim2(cyc, "LPC", "J", bounds=(0.0, 1.5), bounds2=(1.3, 1.7), uz={"J": [1.4, 1.6]},
                                direction=-1, settings={"nmx": 200})
    uz_auto = {round(float(x["J"]), 6): float(x["lam"]) for run in (auto, auto2) for _, x in run.special("UZ").iterrows()}
    br = cycles_at(1.5, max_points=30)
    ours = continue_cycle_codim2(LMG_DIMER, br.special("LPC")[0], "J", stops={"J": [1.4, 1.6]},
                                 bounds={"J": (1.35, 1.65)})
    uz = {round(p.params["J"], 9): p.param for p in ours.special("UZ")}
    for J in (1.4, 1.6):
        assert J in uz_auto, uz_auto
        assert abs(uz[J] - uz_auto[J]) < 1e-6, (J, uz[J], uz_auto[J])


def test_homoclinic_curve_of_the_flagship_meets_autos_homoclinic_limit(bifpy):
    # AUTO's own cycle branch at J = 1 runs into the homoclinic orbit: its last point (period ~1e8)
    with warnings.catch_warnings():
        # AUTO drops a special point on the way (a fold of the snaking branch it cannot localise
        # within EPSS): the warning is the subject of test_tolerance_warning below
        warnings.simplefilter("ignore", A.AutoToleranceWarning)
        cyc = auto_broken_cycles(1.0, (0.0, 1.5), settings={"nmx": 400})
    df = cyc.to_frame()
    assert df["period"].iloc[-1] > 1e4
    lam_auto = float(df["lam"].iloc[-1])
    assert abs(lam_auto - 0.81711686) < 1e-8
    br = cycles_at(1.0, max_points=300)
    hom = continue_homoclinic(LMG_DIMER, br, "lam", "J", period=60.0, stops={"J": [1.0]}, bounds={"J": (0.98, 1.02)},
                              names={"normal state": NORMAL_STATE}, ds_max=0.05)
    uz = hom.special("UZ")[0]
    assert abs(uz.param - lam_auto) < 1e-6, (uz.param, lam_auto)
    assert uz.data["saddle"]["name"] == "normal state"


def test_tolerance_warning_when_auto_drops_a_point(bifpy):
    """With ITMX = 1 AUTO cannot localise the normal state's Hopf point at J = 0.2: it writes
    'Possible special point' to fort.9 and labels nothing. The backend says so."""
    with pytest.warns(A.AutoToleranceWarning, match="dropped 1 special point"):
        r = A.auto_equilibria(A.LMG_DIMER_AUTO, A.NORMAL, dict(BASE, J=0.2), "lam", bounds=(-0.01, 1.5),
                              settings={"epss": 1e-15, "itmx": 1})
    assert r.special("HB").empty and len(r.stats["dropped_special_points"]) == 1
    with warnings.catch_warnings():
        warnings.simplefilter("error", A.AutoToleranceWarning)
        r = A.auto_equilibria(A.LMG_DIMER_AUTO, A.NORMAL, dict(BASE, J=0.2), "lam", bounds=(-0.01, 1.5))
    assert len(r.special("HB")) == 1 and r.stats["dropped_special_points"] == []
