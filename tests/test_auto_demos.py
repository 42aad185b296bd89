"""Classic problems of AUTO-07p's demo collection, ported from their equations
(``bifurcate.models.classic``), against AUTO-07p run through bifpy in the same test (issue 14).

Every LP, BP, HB of an equilibrium branch must agree with AUTO's to 1e-6, every LPC, PD, NS, BPC
of a cycle branch to 1e-4; the kinds must be the same (nothing missed, nothing spurious); a cycle
branch must not stop short of AUTO's, and a homoclinic end must be AUTO's limit (AUTO run up to a
large period). Our neutral saddles (NSad) are not bifurcations and AUTO does not label them: they
are left out of the comparison of kinds. The demos: ``ab`` (A -> B reactor, B = 14, beta = 2),
``pp2`` (predator-prey), ``enz`` (symmetric two-cell enzyme), ``cusp``, ``lrz`` (Lorenz).

Count: ``pytest -m "auto or slow" tests/test_auto_demos.py -rA`` lists every check (the flagship
check runs about a minute: marked slow too).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest

from bifurcate.continuation import continue_equilibria
from bifurcate.cycles import continue_cycles
from bifurcate.models import LORENZ
from bifurcate.models.classic import AB_REACTOR, CUSP, ENZYME, PREDATOR_PREY

pytestmark = pytest.mark.auto
TOL_EQ = 1e-6
TOL_CYC = 1e-4


def _quiet(fn, *args, **kwargs):
    """Run an AUTO call with the backend's AutoToleranceWarning (AUTO's own 'Possible special
    point' notes) recorded in the run's stats rather than raised: these tests compare the points
    themselves and check the drops where they matter."""
    import warnings

    from bifurcate.backends.auto07p import AutoToleranceWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", AutoToleranceWarning)
        return fn(*args, **kwargs)


@pytest.fixture(scope="module")
def auto07p():
    pytest.importorskip("bifpy", reason="the AUTO-07p oracle tier needs bifpy (apt-get install gfortran; "
                                        "pip install bifpy)")
    from bifurcate.backends import auto07p

    return auto07p


def _exp_problem(auto07p, **kw):
    """An AutoProblem whose equations may call exp (traced through numpy's ufunc by bifpy)."""

    @dataclass(frozen=True)
    class ExpProblem(auto07p.AutoProblem):
        def func(self):
            ns: dict = {}
            exec(compile(self.source(), f"<AUTO problem {self.name}>", "exec"),
                 {"__builtins__": {}, "exp": np.exp}, ns)
            return ns["func"]

    return ExpProblem(**kw)


def _problems(auto07p):
    return {
        "ab": _exp_problem(auto07p, name="ab_reactor", state_names=("u1", "u2"), param_names=("D", "B", "beta"),
                           equations=("-u1 + D*(1 - u1)*exp(u2)", "-u2 + D*B*(1 - u1)*exp(u2) - beta*u2"),
                           defaults={"D": 0.0, "B": 14.0, "beta": 2.0}),
        "pp2": _exp_problem(auto07p, name="predator_prey", state_names=("u1", "u2"),
                            param_names=("p1", "p2", "p3", "p4"),
                            equations=("p2*u1*(1 - u1) - u1*u2 - p1*(1 - exp(-p3*u1))", "-u2 + p4*u1*u2"),
                            defaults={"p1": 0.0, "p2": 3.0, "p3": 5.0, "p4": 3.0}),
        "enz": auto07p.AutoProblem(name="enzyme", state_names=("s1", "s2"), param_names=("s0", "rm", "rh", "rk"),
                                   equations=("(s0 - s1) + (s2 - s1) - rh*s1/(1 + s1 + rk*s1**2)",
                                              "(s0 + rm - s2) + (s1 - s2) - rh*s2/(1 + s2 + rk*s2**2)"),
                                   defaults={"s0": 0.0, "rm": 0.0, "rh": 100.0, "rk": 1.0}),
        "cusp": auto07p.AutoProblem(name="cusp", state_names=("x",), param_names=("a", "b"),
                                    equations=("a + b*x - x**3",), defaults={"a": 0.0, "b": 1.0}),
        "lrz": auto07p.AutoProblem(name="lorenz", state_names=("x", "y", "z"), param_names=("sigma", "rho", "beta"),
                                   equations=("sigma*(y - x)", "rho*x - x*z - y", "x*y - beta*z"),
                                   defaults={"sigma": 10.0, "rho": 28.0, "beta": 8.0 / 3.0}),
    }


#: (demo, model, start state, parameters, continuation parameter, bounds)
EQ_CASES = {
    "ab": (AB_REACTOR, [0.0, 0.0], {"D": 0.0, "B": 14.0, "beta": 2.0}, "D", (-0.01, 0.5)),
    "pp2": (PREDATOR_PREY, [1.0 / 3.0, 2.0], {"p1": 0.0}, "p1", (-0.01, 1.0)),
    "enz": (ENZYME, [0.0, 0.0], {"s0": 0.0}, "s0", (-1.0, 40.0)),
    "cusp": (CUSP, [-1.0], {"a": 0.0, "b": 1.0}, "a", (-1.0, 1.0)),
    "lrz": (LORENZ, [0.0, 0.0, 0.0], {"rho": 0.0}, "rho", (-1.0, 30.0)),
    "lrz_c": (LORENZ, [np.sqrt(8.0 / 3.0 * 29.0), np.sqrt(8.0 / 3.0 * 29.0), 29.0], {"rho": 30.0}, "rho", (2.0, 30.0)),
}


@pytest.fixture(scope="module")
def runs(auto07p):
    """Our branch and AUTO's for every demo (equilibria), computed once."""
    probs = _problems(auto07p)
    out = {}
    for name, (model, y0, params, prm, bnd) in EQ_CASES.items():
        sgn = 1 if params[prm] <= bnd[0] + 1e-9 or params[prm] < 0.5 * (bnd[0] + bnd[1]) else -1
        ours = continue_equilibria(model, y0, param=prm, params=params, ds=0.005 * sgn, ds_max=0.05, p_min=bnd[0],
                                   p_max=bnd[1], max_steps=5000)
        theirs = _quiet(auto07p.auto_equilibria, probs[name.split("_")[0]], y0, params, prm, bounds=bnd,
                        direction=sgn, settings={"nmx": 5000, "dsmax": 0.05})
        out[name] = (ours, theirs)
    return out


def _auto_points(run, kinds):
    pf = run.points_frame()
    return pf[pf["kind"].isin(kinds)]


@pytest.mark.parametrize("demo", [d for d in EQ_CASES if d != "enz"])
def test_equilibrium_special_points_agree_with_auto(runs, demo):
    ours, theirs = runs[demo]
    prm = EQ_CASES[demo][3]
    assert theirs.success, theirs.message
    assert ours.status == 0, ours.message
    a = _auto_points(theirs, ("LP", "BP", "HB"))
    mine = [p for p in ours.points if p.kind in ("LP", "BP", "HB")]
    assert [p.kind for p in mine] == list(a["kind"]), (
        f"{demo}: ours {[(p.kind, p.param) for p in mine]} vs AUTO {list(zip(a['kind'], a[prm]))}")
    for p, (_, row) in zip(mine, a.iterrows()):
        assert p.located
        assert abs(p.param - row[prm]) < TOL_EQ, (demo, p.kind, p.param, row[prm])
    # no branch stops short of AUTO's: ours ends exactly on the bound AUTO ends beyond (AUTO
    # stops at the first step past RL0/RL1), or where AUTO ends
    end = float(theirs.to_frame()[prm].iloc[-1])
    lo, hi = EQ_CASES[demo][4]
    if end >= hi:
        assert ours.param_values[-1] == hi
    elif end <= lo:
        assert ours.param_values[-1] == lo
    else:
        assert abs(ours.param_values[-1] - end) < 1e-6


#: (demo, index of the HB, max period for AUTO)
CYC_CASES = [("ab", 0, 200.0), ("pp2", 0, 200.0), ("lrz_c", 0, 60.0)]


@pytest.mark.parametrize("demo,hb_index,max_period", CYC_CASES, ids=[c[0] for c in CYC_CASES])
def test_cycle_branches_agree_with_auto(runs, auto07p, demo, hb_index, max_period):
    ours_eq, theirs_eq = runs[demo]
    model, _, params, prm, bnd = EQ_CASES[demo]
    hb = ours_eq.special("HB")[hb_index]
    br = continue_cycles(model, hb, param=prm, max_points=600, ntst=60, p_min=bnd[0], p_max=bnd[1])
    cyc = _quiet(auto07p.auto_cycles_from_hopf, theirs_eq, hb_index, bounds=bnd, max_period=max_period,
                 settings={"nmx": 4000, "dsmax": 0.05})
    f = cyc.to_frame()
    end_auto = float(f[prm].iloc[-1])
    if not cyc.success:
        # AUTO itself gave up (MX): ours must get at least as far, with AUTO's points on the way
        start = float(f[prm].iloc[0])
        lo, hi = sorted((start, end_auto))
        if end_auto > start:
            assert br.param_values.max() >= end_auto - 1e-6, br.message
        else:
            assert br.param_values.min() <= end_auto + 1e-6, br.message
        a = _auto_points(cyc, ("LPC", "PD", "NS", "BPC"))
        mine = [p for p in br.points if p.kind in ("LPC", "PD", "NS", "BPC") and lo <= p.param <= hi]
        assert [p.kind for p in mine] == list(a["kind"])
        for p, (_, row) in zip(mine, a.iterrows()):
            assert abs(p.param - row[prm]) < TOL_CYC
        return
    a = _auto_points(cyc, ("LPC", "PD", "NS", "BPC"))
    mine = [p for p in br.points if p.kind in ("LPC", "PD", "NS", "BPC")]
    assert [p.kind for p in mine] == list(a["kind"]), (
        f"{demo}: ours {[(p.kind, p.param) for p in mine]} vs AUTO {list(zip(a['kind'], a[prm]))}")
    for p, (_, row) in zip(mine, a.iterrows()):
        assert abs(p.param - row[prm]) < TOL_CYC, (demo, p.kind, p.param, row[prm])
    if f["period"].iloc[-1] >= 0.99 * max_period:
        # AUTO ran into a homoclinic limit (period -> infinity): ours must reach it and say so
        assert br.status == -3, br.message
        assert abs(br.stats["homoclinic"]["p_hom"] - end_auto) < TOL_CYC
        assert abs(br.param_values[-1] - end_auto) < TOL_CYC
    else:
        # no stop short of AUTO's end
        lo, hi = sorted((float(f[prm].iloc[0]), end_auto))
        assert br.param_values.min() <= lo + TOL_CYC and br.param_values.max() >= hi - TOL_CYC


def _enzyme_closed_forms(rh=100.0, rk=1.0):
    """On the symmetric branch s1 = s2 = s, s0 = s + rh R(s); the symmetric eigenvalue is
    -1 - rh R'(s) (fold where rh R' = -1), the antisymmetric one -3 - rh R'(s) (pitchfork where
    rh R' = -3), R'(s) = (1 - rk s^2) / (1 + s + rk s^2)^2."""
    from scipy.optimize import brentq

    R = lambda s: s / (1 + s + rk * s * s)  # noqa: E731
    dR = lambda s: (1 - rk * s * s) / (1 + s + rk * s * s) ** 2  # noqa: E731
    out = {}
    for kind, c in (("LP", -1.0), ("BP", -3.0)):
        g = lambda s: rh * dR(s) - c  # noqa: E731
        grid = np.linspace(1.0, 60.0, 6000)
        v = g(grid)
        roots = [brentq(g, grid[i], grid[i + 1], xtol=1e-15) for i in np.flatnonzero(v[:-1] * v[1:] < 0)]
        out[kind] = sorted(s + rh * R(s) for s in roots)
    return out


def test_enzyme_pitchforks_are_found_where_auto_drops_them(runs, auto07p):
    from bifurcate.continuation.oracle import OracleToleranceWarning, compare_points

    ours, theirs = runs["enz"]
    exact = _enzyme_closed_forms()
    for kind in ("LP", "BP"):
        got = sorted(p.param for p in ours.special(kind))
        assert len(got) == 2 and np.allclose(got, exact[kind], atol=1e-8), (kind, got, exact[kind])
        assert all(p.located for p in ours.special(kind))
    # AUTO at EPSS = 1e-10 reports the folds but drops both pitchforks: the comparison warns
    ref = list(zip(theirs.points_frame()["kind"], theirs.points_frame()["s0"]))
    with pytest.warns(OracleToleranceWarning, match="BP at 34.22"):
        df = compare_points(ours.points, ref, TOL_EQ, oracle_tol=1e-10)
    assert set(df.loc[df["kind"] == "LP", "status"]) == {"match"}
    assert list(df.loc[df["kind"] == "BP", "status"]) == ["only_ours", "only_ours"]
    # AUTO's own log says so too: two 'Possible special point' notes (the backend's warning)
    assert len(theirs.stats["dropped_special_points"]) == 2
    # with a looser EPSS AUTO sees them (localised only to about EPSS)
    loose = auto07p.auto_equilibria(_problems(auto07p)["enz"], [0.0, 0.0], {"s0": 0.0}, "s0", bounds=(-1.0, 40.0),
                                    settings={"nmx": 5000, "dsmax": 0.05, "epss": 1e-4})
    pf = loose.points_frame()
    bp_auto = sorted(pf.loc[pf["kind"] == "BP", "s0"])
    assert len(bp_auto) == 2 and np.allclose(bp_auto, exact["BP"], atol=1e-3)


@pytest.mark.slow
def test_flagship_j1_branch_reaches_autos_homoclinic_limit(auto07p):
    """The LMG dimer's J = 1 cycle branch (broken-state Hopf at lam = 0.4851): every LPC and the
    first PD AUTO-07p reports are ours to 1e-4, and ours reaches AUTO's homoclinic limit
    (AUTO run until its period exceeds 1e8) to 1e-4, naming the saddle (the normal state)."""
    from bifurcate.models import LMG_DIMER, NORMAL_STATE
    from tests.test_cycles import broken_state_hopf

    yh, lh, om = broken_state_hopf(1.0)
    br = continue_cycles(LMG_DIMER, (yh, {"J": 1.0, "lam": lh}, "lam", om))
    prob = auto07p.LMG_DIMER_AUTO
    base = {"g": 1.0, "gamma": 0.5, "J": 1.0, "lam": 0.0}
    yb = auto07p.newton_equilibrium(prob, yh, dict(base, lam=lh))
    eq = auto07p.auto_equilibria(prob, yb, dict(base, lam=lh - 0.02), "lam", bounds=(-0.01, 1.5))
    cyc = _quiet(auto07p.auto_cycles_from_hopf, eq, bounds=(0.0, 1.5), settings={"nmx": 3000})
    f = cyc.to_frame()
    lam_hom = float(f["lam"].iloc[-1])
    assert f["period"].iloc[-1] > 1e3 and abs(lam_hom - 0.81711686) < 1e-7
    assert br.status == -3
    assert abs(br.param_values[-1] - lam_hom) < TOL_CYC
    assert abs(br.stats["homoclinic"]["p_hom"] - lam_hom) < TOL_CYC
    assert np.allclose(br.stats["homoclinic"]["saddle"], NORMAL_STATE, atol=1e-8)
    mine = {k: [p.param for p in br.special(k)] for k in ("LPC", "PD")}
    a = cyc.points_frame()
    for kind, lam in zip(a["kind"], a["lam"]):
        if kind == "LPC" or (kind == "PD" and lam < 0.7):
            assert min(abs(np.array(mine[kind]) - lam)) < TOL_CYC, (kind, lam, mine[kind])
    # beyond period 8.5 AUTO reports the folds only; ours also has a PD next to each fold: not
    # spurious, a real multiplier crosses -1 between the two rows around each (trusted) one
    late_pd = [p for p in br.special("PD") if p.data["period"] > 9.0]
    assert len(late_pd) >= 5
    for p in late_pd:
        near = br.eigenvalues[[p.index, p.index + 1]]
        if not np.all(br.floquet_ok[[p.index, p.index + 1]]):
            continue
        below = [bool(np.any((np.abs(ev.imag) < 1e-9) & (ev.real < -1.0))) for ev in near]
        assert below[0] != below[1], (p.param, near)


@pytest.mark.slow
def test_flagship_pds_beside_the_folds_are_autos_at_small_steps(auto07p):
    """The PDs ours locates beside the folds of the J = 1 branch beyond period 8.5 are AUTO-07p's
    too: AUTO lists the first two (periods 8.45 and 10.46) to 1e-9 once DSMAX is 0.002, and drops
    them at its default step (DSMAX 0.1). Why: AUTO-07p classifies a change of its stability count
    by the nontrivial multiplier closest to |z| = 1 at the new point; when one step carries the
    real multiplier from inside the circle to beyond -2 (it moves fast near the homoclinic loop),
    the closest one is a multiplier near 0 and the change is classified as nothing, silently (no
    'Possible special point' note). Shown at the third such PD (period 12.54), which AUTO at
    DSMAX 0.002 still drops although its own multipliers cross -1 between two consecutive rows."""
    from bifurcate.models import LMG_DIMER
    from tests.test_cycles import broken_state_hopf

    yh, lh, om = broken_state_hopf(1.0)
    br = continue_cycles(LMG_DIMER, (yh, {"J": 1.0, "lam": lh}, "lam", om))
    late = [p for p in br.special("PD") if p.data["period"] > 8.0]
    prob = auto07p.LMG_DIMER_AUTO
    base = {"g": 1.0, "gamma": 0.5, "J": 1.0, "lam": 0.0}
    yb = auto07p.newton_equilibrium(prob, yh, dict(base, lam=lh))
    eq = auto07p.auto_equilibria(prob, yb, dict(base, lam=lh - 0.02), "lam", bounds=(-0.01, 1.5))
    tight = {"epss": 1e-11, "epsl": 1e-11, "epsu": 1e-11, "itmx": 20}
    small = _quiet(auto07p.auto_cycles_from_hopf, eq, bounds=(0.0, 1.5), max_period=12.6,
                   settings=dict(tight, nmx=3000, dsmax=0.002))
    default = _quiet(auto07p.auto_cycles_from_hopf, eq, bounds=(0.0, 1.5), max_period=12.6,
                     settings=dict(tight, nmx=3000))
    assert small.success and default.success
    pd_small = small.special("PD")
    pd_small = pd_small[pd_small["period"] > 8.0]
    assert len(pd_small) == 2, small.points_frame()[["kind", "lam", "period"]]
    for ours, (lam, T) in zip(late[:2], zip(pd_small["lam"], pd_small["period"])):
        assert abs(ours.param - lam) < 1e-8 and abs(ours.data["period"] - T) < 1e-5, (ours.param, lam)
    # at its default step AUTO reports the folds there but neither PD
    pdd = default.special("PD")
    assert not np.any(pdd["period"] > 8.0)
    assert np.any(default.special("LPC")["period"] > 8.0)
    # the third: AUTO's own rows bracket ours, a real multiplier inside the circle before it and
    # beyond -2 after it, no label in between
    third = late[2]
    f = small.to_frame()
    k = int(np.searchsorted(f["period"].to_numpy(), third.data["period"]))
    assert f["period"].iloc[k - 1] < third.data["period"] < f["period"].iloc[k]
    fm = [c[:-3] for c in f.columns if c.startswith("fm") and c.endswith("_re")]
    ev = [np.array([complex(f[c + "_re"].iloc[i], f[c + "_im"].iloc[i]) for c in fm]) for i in (k - 1, k)]
    real_neg = [z.real[(np.abs(z.imag) < 1e-9) & (z.real < -0.3)] for z in ev]
    assert len(real_neg[0]) == 1 and -1.0 < real_neg[0][0] and len(real_neg[1]) == 1 and real_neg[1][0] < -2.0
    assert not np.any(np.abs(small.special("PD")["period"] - third.data["period"]) < 0.1)
    # the comparison warns about exactly the PDs each AUTO run dropped (and says to shorten its step)
    from bifurcate.continuation.oracle import OracleToleranceWarning, compare_points

    ours = [p for p in br.points if p.data["period"] < 12.6]
    for run, dropped, kept in ((default, ("0.8512209", "0.7913581", "0.8236524", "0.8142436"), ()),
                               (small, ("0.8142436",), ("0.8512209", "0.7913581", "0.8236524"))):
        pf = run.points_frame()
        with pytest.warns(OracleToleranceWarning, match="smaller DSMAX") as rec:
            df = compare_points(ours, list(zip(pf["kind"], pf["lam"])), 1e-6)
        msg = " ".join(str(w.message) for w in rec)
        assert all(v in msg for v in dropped) and not any(v in msg for v in kept), msg
        pds = df[df["kind"] == "PD"]
        assert set(pds.loc[pds["status"] != "match", "status"]) == {"only_ours"}, pds
        assert len(pds[pds["status"] == "only_ours"]) == len(dropped), pds


@pytest.mark.slow
def test_torus_oscillator_cycles_against_auto(auto07p):
    """AUTO demo tor: the symmetric cycles born at the Hopf point rn = -0.5893 fold (LPC), break
    their symmetry (BPC) and snake into a homoclinic orbit of a saddle-focus at rn = -0.79752.
    AUTO with the demo's own constants (EPSS = 1e-5) reports the BPCs; at EPSS = 1e-9 it drops
    them (the comparison warns). The folds of the snake accumulate at the homoclinic limit; those
    of period up to 89 (where the corrector used to fail) are located and agree with AUTO at NTST
    100, and so do the branch points of cycles next to them (up to period 60 seen by the
    multipliers, beyond it found from the folds), each located by the augmented system."""
    from bifurcate.continuation.oracle import OracleToleranceWarning, compare_points
    from bifurcate.models.classic import TORUS_OSCILLATOR

    prob = auto07p.AutoProblem(
        name="tor", state_names=("x", "y", "z"), param_names=("rn", "be", "ga", "r", "a3", "b3"),
        equations=("(-(be + rn)*x + be*y - a3*x**3 + b3*(y - x)**3)/r", "be*x - (be + ga)*y - z - b3*(y - x)**3", "y"),
        defaults=dict(TORUS_OSCILLATOR.defaults))
    eq = continue_equilibria(TORUS_OSCILLATOR, [0.0, 0.0, 0.0], param="rn", params={}, ds=0.001, ds_max=0.01,
                             p_min=-0.9, p_max=-0.4)
    eq_auto = auto07p.auto_equilibria(prob, [0.0, 0.0, 0.0], {}, "rn", bounds=(-0.9, -0.4))
    pa = eq_auto.points_frame()
    ref = [(k, v) for k, v in zip(pa["kind"], pa["rn"]) if k in ("LP", "BP", "HB")]
    assert [(p.kind) for p in eq.points] == [k for k, _ in ref]
    assert all(abs(p.param - v) < TOL_EQ for p, (_, v) in zip(eq.points, ref))
    br = continue_cycles(TORUS_OSCILLATOR, eq.special("HB")[0], param="rn", ntst=25, max_points=600,
                         p_min=-0.9, p_max=-0.4)
    assert br.status == -3 and abs(br.stats["homoclinic"]["p_hom"] + 0.79752) < 2e-5
    demo = _quiet(auto07p.auto_cycles_from_hopf, eq_auto, 0, bounds=(-0.9, -0.4), settings={
        "nmx": 600, "ntst": 25, "epss": 1e-5, "epsl": 1e-7, "epsu": 1e-7, "ds": 0.001, "dsmax": 0.01})
    pf = demo.points_frame()
    lpc_auto = [v for k, v, T in zip(pf["kind"], pf["rn"], pf["period"]) if k == "LPC" and T < 40]
    mine = [p.param for p in br.special("LPC")]
    assert len(lpc_auto) == 4 and all(min(abs(np.array(mine) - v)) < 1e-4 for v in lpc_auto)
    bpc_auto = [v for k, v in zip(pf["kind"], pf["rn"]) if k == "BPC"]
    bpc_mine = [p.param for p in br.special("BPC") if p.data["period"] < 25]
    assert len(bpc_mine) == 2 and all(min(abs(np.array(bpc_auto) - v)) < 1e-4 for v in bpc_mine)
    # the long-period folds (periods 29 to 89; our mesh is refined to NTST 100 there): against AUTO
    # with NTST = 100 (at NTST = 25 AUTO's periods beyond 40 are off by several units), every fold
    # of period below 95 is ours, located, to 1e-6 in rn; so are the branch points of cycles next
    # to the folds (the symmetry-breaking one within 1e-5 of each symmetric fold) up to period 60
    fine = _quiet(auto07p.auto_cycles_from_hopf, eq_auto, 0, bounds=(-0.9, -0.4), settings={
        "nmx": 1500, "ntst": 100, "epss": 1e-5, "epsl": 1e-7, "epsu": 1e-7, "ds": 0.001, "dsmax": 0.01})
    ff = fine.points_frame()
    lpc_fine = [(v, T) for k, v, T in zip(ff["kind"], ff["rn"], ff["period"]) if k == "LPC" and T < 95]
    assert len(lpc_fine) == 9, lpc_fine
    lpcs = br.special("LPC")
    for v, T in lpc_fine:
        q = min(lpcs, key=lambda q: abs(q.param - v) + abs(q.data["period"] - T))
        assert q.located and abs(q.param - v) < 1e-6 and abs(q.data["period"] - T) < 0.05, (v, T, q.param)
    bpc_fine = [v for k, v, T in zip(ff["kind"], ff["rn"], ff["period"]) if k == "BPC" and T < 60]
    bpc_ours = [p for p in br.special("BPC") if p.data["period"] < 60]
    assert len(bpc_fine) == 5 and len(bpc_ours) >= len(bpc_fine)
    assert all(min(abs(np.array([p.param for p in bpc_ours]) - v)) < 1e-5 for v in bpc_fine)
    # ours has one more, at period 59.35 next to the fold at 59.346: AUTO at EPSS = 1e-9 reports it
    tight100 = _quiet(auto07p.auto_cycles_from_hopf, eq_auto, 0, bounds=(-0.9, -0.4),
                      settings={"nmx": 1500, "ntst": 100, "dsmax": 0.01})
    tf = tight100.points_frame()
    bpc_tight = [v for k, v, T in zip(tf["kind"], tf["rn"], tf["period"]) if k == "BPC" and T < 60]
    assert all(min(abs(p.param - np.array(bpc_fine + bpc_tight))) < 1e-5 for p in bpc_ours)
    # every BPC is located by the minimally augmented system (a converged point: the corrector on
    # the branch is singular at a branch point), its unfolding residual reported: 1e-15 where the
    # mesh keeps the Z2 symmetry, up to 2e-9 at NTST 25 (an odd mesh breaks it at the size of the
    # discretisation error)
    assert all(p.located and p.data["located_by"] == "minimally augmented system" and p.data["bpc_residual"] < 1e-8
               for p in br.special("BPC"))
    # against AUTO's most careful run (NTST 200, EPSS 1e-7, DSMAX 0.002; at EPSS 1e-5 its periods
    # beside the long-period folds are off by up to 0.03, at coarser steps it drops the BPCs of
    # periods 59 and 69): one to one up to period 70, to 1e-7 in rn and 1e-4 in the period (the
    # multiplier test's point was 1.8e-7 off in rn at period 29, where the multipliers are
    # inaccurate beside the fold; the BPC of period 69 is one found from its fold)
    ref = _quiet(auto07p.auto_cycles_from_hopf, eq_auto, 0, bounds=(-0.9, -0.4), max_period=72, settings={
        "nmx": 3000, "ntst": 200, "epss": 1e-7, "epsl": 1e-7, "epsu": 1e-7, "ds": 0.001, "dsmax": 0.002}).special("BPC")
    mine70 = [p for p in br.special("BPC") if p.data["period"] < 70]
    assert len(ref) == len(mine70) == 7, (list(ref["period"]), [p.data["period"] for p in mine70])
    for p, v, T in zip(mine70, ref["rn"], ref["period"]):
        assert abs(p.param - v) < 1e-7 and abs(p.data["period"] - T) < 1e-4, (p.param, v, p.data["period"], T)
    # beyond period 60 the multipliers reach 1e5 and the multiplier test is blind; AUTO at NTST 100
    # to 300 (EPSS 1e-5) lists a BPC beside each fold, at rn equal across those meshes to 1e-9: ours,
    # found from the folds by the augmented system, are exact branch points of the discretisation
    # (unfolding residual at rounding) and equal AUTO's rn to 1e-8. The periods agree to 0.03 only:
    # rn is flat there (1e-9 over 0.02 in the period) and AUTO's EPSS = 1e-5 periods are that loose
    # (its BPC of period 69.3525 is at 69.3365 in its careful run above, ours at 69.3365)
    bpc_long = [(v, T) for k, v, T in zip(ff["kind"], ff["rn"], ff["period"]) if k == "BPC" and 60 < T < 95]
    ours_long = [p for p in br.special("BPC") if 60 < p.data["period"] < 95]
    assert len(bpc_long) == 3 and len(ours_long) == 3, (bpc_long, [(p.param, p.data["period"]) for p in ours_long])
    for p, (v, T) in zip(ours_long, bpc_long):
        assert p.data["found_at_fold"] and p.data["bpc_residual"] < 1e-12
        assert abs(p.param - v) < 1e-8 and abs(p.data["period"] - T) < 0.03, (p.param, v, p.data["period"], T)
    # and they are branch points: switching at the one of period 69 gives cycles that break the
    # symmetry u(t + T/2) = -u(t) of the branch (off by 1e-5 of the amplitude on it), linearly in
    # the arclength from the branch point
    from bifurcate.cycles.collocation import Collocation
    from bifurcate.cycles.switching import switch_at_bpc

    def asymmetry(mesh, U):
        c = Collocation(TORUS_OSCILLATOR, TORUS_OSCILLATOR.pack_params(br.params), 0, mesh, br.ncol, use_numba=False)
        s = np.linspace(0.0, 1.0, 400, endpoint=False)
        return float(np.max(np.abs(c.sample(U, s) + c.sample(U, s + 0.5))) / np.max(np.abs(c.sample(U, s))))

    assert max(asymmetry(br.meshes[i], br.orbits[i][1]) for i in range(len(br))) < 1e-4
    sb = switch_at_bpc(TORUS_OSCILLATOR, ours_long[0], param="rn", max_points=4,
                       ntst=len(ours_long[0].data["mesh"]) - 1, p_min=-0.9, p_max=-0.4)
    a = np.array([asymmetry(sb.meshes[i], sb.orbits[i][1]) for i in range(len(sb))])
    assert len(sb) == 4 and a[0] > 0.05 and np.all(np.diff(a) > 0.1) and a[-1] > 0.3, a
    # AUTO's folds at long periods accumulate at our extrapolated homoclinic limit
    late = [v for k, v, T in zip(pf["kind"], pf["rn"], pf["period"]) if k == "LPC" and 80 < T < 300]
    assert len(late) >= 5 and abs(np.median(late) - br.stats["homoclinic"]["p_hom"]) < 1e-5
    tight = _quiet(auto07p.auto_cycles_from_hopf, eq_auto, 0, bounds=(-0.9, -0.4), settings={"nmx": 600, "ntst": 25})
    pt = tight.points_frame()
    assert "BPC" not in set(pt["kind"])
    with pytest.warns(OracleToleranceWarning, match="BPC"):
        compare_points(br.points, list(zip(pt["kind"], pt["rn"])), 1e-4, oracle_tol=1e-9)


@pytest.mark.slow
def test_torus_oscillator_asymmetric_cycles_from_the_bpc_against_auto(auto07p):
    """AUTO demo tor, its third run: the asymmetric cycles through the first branch point of
    cycles (rn = -0.58703), with the demo's torus bifurcation (NS) and a period doubling, then
    folds snaking into the homoclinic orbit of a saddle-focus at rn = -0.72894. Ours switches at
    its own BPC; AUTO restarts at its BPC with ISW = -1. The NS, the PD and every fold below
    period 40 agree to 1e-6. Ours also reports a PD next to each fold, which AUTO does not at the
    demo's step: a real multiplier goes from below -20 through -1 into a complex pair inside the
    unit circle and back out through +1 at the fold, so these PD are genuine (checked on the rows
    around each), and AUTO lists the first (period 13.89) at DSMAX = 2e-4, equal to ours to 1e-6
    (at DSMAX 1e-3 its multipliers go from -2.89 to +0.80 in one step, and it drops it silently)."""
    from bifurcate.cycles.switching import switch_at_bpc
    from bifurcate.models.classic import TORUS_OSCILLATOR

    prob = auto07p.AutoProblem(
        name="tor", state_names=("x", "y", "z"), param_names=("rn", "be", "ga", "r", "a3", "b3"),
        equations=("(-(be + rn)*x + be*y - a3*x**3 + b3*(y - x)**3)/r", "be*x - (be + ga)*y - z - b3*(y - x)**3", "y"),
        defaults=dict(TORUS_OSCILLATOR.defaults))
    eq = continue_equilibria(TORUS_OSCILLATOR, [0.0, 0.0, 0.0], param="rn", params={}, ds=0.001, ds_max=0.01,
                             p_min=-0.9, p_max=-0.4)
    br = continue_cycles(TORUS_OSCILLATOR, eq.special("HB")[0], param="rn", ntst=25, max_points=100, p_min=-0.9,
                         p_max=-0.4)
    sb = switch_at_bpc(TORUS_OSCILLATOR, br.special("BPC")[0], param="rn", max_points=300, ntst=25, p_min=-0.9,
                       p_max=-0.4)
    assert sb.status == -3 and abs(sb.stats["homoclinic"]["p_hom"] + 0.72894) < 1e-4, sb.message
    eq_auto = auto07p.auto_equilibria(prob, [0.0, 0.0, 0.0], {}, "rn", bounds=(-0.9, -0.4))
    demo = _quiet(auto07p.auto_cycles_from_hopf, eq_auto, 0, bounds=(-0.9, -0.4), settings={
        "nmx": 600, "ntst": 25, "epss": 1e-5, "epsl": 1e-7, "epsu": 1e-7, "ds": 0.001, "dsmax": 0.01})
    asym = _quiet(auto07p.auto_switch_branch, demo, "BPC", 0, bounds=(-0.9, -0.4))
    pf = asym.points_frame()
    ref = [(k, v) for k, v, T in zip(pf["kind"], pf["rn"], pf["period"]) if k in ("NS", "PD", "LPC", "BPC") and T < 40]
    assert [k for k, _ in ref] == ["NS", "PD"] + ["LPC"] * 6, ref
    mine = [p for p in sb.points if p.data["period"] < 40]
    for kind, v in ref:
        assert min(abs(p.param - v) for p in mine if p.kind == kind) < 1e-6, (kind, v)
    # no BPC: AUTO has none on these cycles (below period 88 at NTST 25 and 100), and the search
    # for branch points beside folds where the multipliers are blind finds none either
    assert not sb.special("BPC")
    extra = [p for p in mine if p.kind == "PD" and abs(p.param - ref[1][1]) > 1e-6]
    assert sum(p.kind == "LPC" for p in mine) == len(extra) == 6
    for p in extra:
        # the two rows around it: a real multiplier below -1 on one side only
        near = sb.eigenvalues[[p.index, p.index + 1]]
        below = [bool(np.any((np.abs(ev.imag) < 1e-9) & (ev.real < -1.0))) for ev in near]
        assert below[0] != below[1], (p.param, near)
    # AUTO with steps small enough to separate it from the fold lists the first of them
    fine = _quiet(auto07p.auto_switch_branch, demo, "BPC", 0, bounds=(-0.9, -0.4), stop=["LP1"],
                  settings={"dsmax": 2e-4, "nmx": 20000, "epss": 1e-7})
    ff = fine.points_frame()
    got = [(k, v) for k, v in zip(ff["kind"], ff["rn"]) if k in ("NS", "PD", "LPC")]
    assert [k for k, _ in got] == ["NS", "PD", "PD", "LPC"], got
    assert abs(got[2][1] - extra[0].param) < 1e-6 and abs(got[3][1] - ref[2][1]) < 1e-6, (got, extra[0].param)


def test_cusp_point_agrees_with_auto(auto07p):
    """AUTO demo cusp: the fold curve of dx = a + b x - x^3 continued in (a, b) through its cusp
    point; AUTO's CP and ours are both (0, 0) to 1e-6."""
    from bifurcate.continuation import continue_codim2

    ours_eq = continue_equilibria(CUSP, [-1.0], param="a", params={"a": 0.0, "b": 1.0}, ds=0.01, p_min=-1, p_max=1)
    curve = continue_codim2(CUSP, ours_eq.special("LP")[0], "b", bounds={"a": (-2, 2), "b": (-2, 2)})
    theirs_eq = auto07p.auto_equilibria(_problems(auto07p)["cusp"], [-1.0], {"a": 0.0, "b": 1.0}, "a",
                                        bounds=(-1, 1))
    cp_auto = auto07p.auto_codim2(theirs_eq, "LP", "b", 0, bounds=(-2, 2), bounds2=(-2, 2), direction=-1).special("CP")
    mine = [p for p in curve.points if p.kind == "CP"]
    assert len(cp_auto) == 1 and len(mine) == 1
    assert abs(mine[0].params["a"] - cp_auto["a"].iloc[0]) < TOL_EQ
    assert abs(mine[0].params["b"] - cp_auto["b"].iloc[0]) < TOL_EQ
