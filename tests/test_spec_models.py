"""Models built from specifications: the paper's equations, the hand-written twins, the generated
derivatives, the disk cache, AUTO problems and the new models against closed forms."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest
import sympy as sp

from bifurcate import check_model, find_equilibria, integrate
from bifurcate.models import BTC, DICKE, LMG, LMG_DIMER, LMG_RING, PT_DIMER
from bifurcate.models.dicke import NORMAL_STATE as DICKE_NORMAL, lam_critical
from bifurcate.models.lmg_dimer import LMG_DIMER_SYSTEM
from bifurcate.models.lmg_ring import normal_state_eigenvalues
from bifurcate.spec import OpenSystem, S, auto_problem, derivatives, parameters, spin, system_of
from bifurcate.spec.meanfield import state_symbols
from tests.twins.lmg import LMG_TWIN
from tests.twins.lmg_dimer import LMG_DIMER_TWIN


# ------------------------------------------------------------------------------------------------
# the LMG dimer: Eqs. (6)-(11) and today's kernels
# ------------------------------------------------------------------------------------------------
def test_lmg_dimer_reproduces_eqs_6_to_11_on_the_spheres():
    eqs = LMG_DIMER_SYSTEM.equations()
    assert list(eqs) == ["XA", "YA", "ZA", "XB", "YB", "ZB"]
    g, gamma, J, lam = (LMG_DIMER_SYSTEM.param_symbols[k] for k in ("g", "gamma", "J", "lam"))
    XA, YA, ZA, XB, YB, ZB = (s for _, syms in state_symbols(LMG_DIMER_SYSTEM.modes) for _, s in syms)
    paper = {  # Kothe & Kirton, Eqs. (6)-(11)
        "XA": g * YA + lam * ZA * YB + gamma * XA * ZA,
        "YA": -g * XA + 2 * J * ZA * XA - lam * ZA * XB + gamma * YA * ZA,
        "ZA": -2 * J * YA * XA - lam * (XA * YB - YA * XB) - gamma * (1 - ZA ** 2),
        "XB": g * YB + lam * ZB * YA - gamma * XB * ZB,
        "YB": -g * XB + 2 * J * ZB * XB - lam * ZB * XA - gamma * YB * ZB,
        "ZB": -2 * J * YB * XB + lam * (XA * YB - YA * XB) + gamma * (1 - ZB ** 2),
    }
    for k, expr in paper.items():
        diff = sp.expand(eqs[k] - expr)
        # a symbolic identity on S^2 x S^2: the difference lies in the ideal of the two spheres
        for X, Y, Z in ((XA, YA, ZA), (XB, YB, ZB)):
            diff = sp.expand(sp.rem(diff, X ** 2 + Y ** 2 + Z ** 2 - 1, X))
        assert diff == 0, (k, diff)
        assert sp.expand(eqs[k] - expr) == 0   # here even letter for letter


@pytest.mark.parametrize("model, twin", [(LMG_DIMER, LMG_DIMER_TWIN), (LMG, LMG_TWIN)])
def test_generated_kernels_equal_the_hand_written_twin(model, twin):
    assert model.state_names == twin.state_names and model.param_names == twin.param_names
    assert dict(model.defaults) == dict(twin.defaults)
    rng = np.random.default_rng(3)
    for k in range(20):
        y = rng.normal(size=model.n) * (1.0 if k % 2 else 1.7)   # on and off the spheres
        if k % 2:
            y = model.geometry.project(y)
        p = {name: rng.normal() for name in model.param_names}
        f, ft = model.f(y, p), twin.f(y, p)
        J, Jt = model.jacobian(y, p), twin.jacobian(y, p)
        assert np.max(np.abs(f - ft)) <= 1e-13 * max(1.0, np.max(np.abs(ft)))
        assert np.max(np.abs(J - Jt)) <= 1e-13 * max(1.0, np.max(np.abs(Jt)))


def test_pt_dimer_is_the_lmg_dimer_at_J0():
    assert PT_DIMER.fixed == {"J": 0.0} and PT_DIMER.rhs is LMG_DIMER.rhs
    y = LMG_DIMER.random_states(1, seed=1)[0]
    assert np.allclose(PT_DIMER.f(y, {"lam": 0.3}), LMG_DIMER_TWIN.f(y, {"lam": 0.3, "J": 0.0}), atol=1e-14)


# ------------------------------------------------------------------------------------------------
# generated derivatives
# ------------------------------------------------------------------------------------------------
def _fd_checks(model, seed):
    mod = derivatives(model)
    assert mod is not None
    rng = np.random.default_rng(seed)
    n = model.n
    for _ in range(4):
        y = rng.normal(size=n)
        pd = {k: v + 0.3 * rng.normal() for k, v in model.defaults.items()}
        p = model.pack_params(pd)
        u, v, w = rng.normal(size=(3, n))
        h = 1e-5
        # parameter derivatives
        dp = np.empty((n, len(p)))
        mod.dparams(y, p, dp)
        for j in range(len(p)):
            e = np.zeros(len(p))
            e[j] = h
            fd = np.empty(n), np.empty(n)
            model.rhs(y, p + e, fd[0])
            model.rhs(y, p - e, fd[1])
            assert np.allclose(dp[:, j], (fd[0] - fd[1]) / (2 * h), rtol=1e-6, atol=1e-7)
        # second form: derivative of J u along v
        d2 = np.empty(n)
        mod.d2(y, p, u, v, d2)
        Jp, Jm = model.jacobian(y + h * v, pd), model.jacobian(y - h * v, pd)
        assert np.allclose(d2, (Jp - Jm) @ u / (2 * h), rtol=1e-6, atol=1e-7)
        d2s = np.empty(n)
        mod.d2(y, p, v, u, d2s)
        assert np.allclose(d2, d2s, rtol=1e-12, atol=1e-12)   # symmetric
        # third form: derivative of d2(u, v) along w
        a, b = np.empty(n), np.empty(n)
        mod.d2(y + h * w, p, u, v, a)
        mod.d2(y - h * w, p, u, v, b)
        d3 = np.empty(n)
        mod.d3(y, p, u, v, w, d3)
        assert np.allclose(d3, (a - b) / (2 * h), rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("model", [LMG_DIMER, DICKE, BTC])
def test_generated_derivative_forms_against_finite_differences(model):
    _fd_checks(model, 7)
    assert check_model(model).success


def test_hand_written_models_have_no_generated_derivatives():
    assert derivatives(LMG_DIMER_TWIN) is None and system_of(LMG_DIMER_TWIN) is None


def test_first_lyapunov_coefficient_exact_forms_agree_with_finite_differences():
    from bifurcate.continuation.hopf import first_lyapunov_coefficient
    from bifurcate.continuation import continue_equilibria
    from bifurcate.models import NORMAL_STATE
    from tests.twins.lmg_dimer import LMG_DIMER_TWIN as twin

    b = continue_equilibria(LMG_DIMER, NORMAL_STATE, param="J", params=dict(lam=0.8), p_min=0.0, p_max=1.5)
    (hb,) = b.special("HB")
    p = LMG_DIMER.pack_params(hb.params)
    l1_exact, om = first_lyapunov_coefficient(LMG_DIMER, hb.state, p)
    l1_fd, om2 = first_lyapunov_coefficient(twin, hb.state, p)
    assert abs(om - om2) < 1e-12
    assert abs(l1_exact - l1_fd) < 1e-6 * max(1.0, abs(l1_fd))
    assert abs(l1_exact - hb.data["l1"]) < 1e-12


# ------------------------------------------------------------------------------------------------
# disk cache: a new process neither derives nor compiles
# ------------------------------------------------------------------------------------------------
def test_generated_kernels_are_served_from_the_disk_cache_in_a_new_process():
    y = LMG_DIMER.random_states(1, seed=0)[0]
    p = LMG_DIMER.pack_params()
    mod = derivatives(LMG_DIMER)
    out, jout, dpout = np.empty(6), np.empty((6, 6)), np.empty((6, 4))
    LMG_DIMER.rhs(y, p, out)
    LMG_DIMER.jac(y, p, jout)
    mod.dparams(y, p, dpout)
    mod.d2(y, p, y, y, out)
    mod.d3(y, p, y, y, y, out)
    code = (
        "import json, sys, numpy as np\n"
        "from bifurcate.models import LMG_DIMER\n"
        "from bifurcate.spec import derivatives\n"
        "m = derivatives(LMG_DIMER)\n"
        "y = np.array([0.6, 0.0, -0.8, 0.0, 0.6, 0.8]); p = LMG_DIMER.pack_params()\n"
        "o, J, D = np.empty(6), np.empty((6, 6)), np.empty((6, 4))\n"
        "LMG_DIMER.rhs(y, p, o); LMG_DIMER.jac(y, p, J); m.dparams(y, p, D); m.d2(y, p, y, y, o);"
        " m.d3(y, p, y, y, y, o)\n"
        "ks = [LMG_DIMER.rhs, LMG_DIMER.jac, m.dparams, m.d2, m.d3]\n"
        "print(json.dumps({'derived': 'bifurcate.spec.meanfield' in sys.modules,\n"
        "  'misses': sum(sum(k.stats.cache_misses.values()) for k in ks),\n"
        "  'hits': sum(sum(k.stats.cache_hits.values()) for k in ks)}))\n"
    )
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([os.getcwd()] + [q for q in [env.get("PYTHONPATH")] if q])
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=300)
    assert res.returncode == 0, res.stderr
    info = json.loads(res.stdout.strip().splitlines()[-1])
    assert info == {"derived": False, "misses": 0, "hits": 5}


# ------------------------------------------------------------------------------------------------
# AUTO-07p problems derived from the specification
# ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("model", [LMG_DIMER, DICKE, LMG_RING])
def test_auto_problem_matches_the_kernels(model):
    from bifurcate.backends.auto07p import AUTO_PROBLEMS, get_problem

    prob = auto_problem(model)
    assert prob.state_names == model.state_names
    if model.name not in AUTO_PROBLEMS:   # the LMG dimer keeps its hand-written reference problem
        assert get_problem(model).equations == prob.equations
    rng = np.random.default_rng(5)
    for _ in range(5):
        y = rng.normal(size=model.n)
        pd = {k: v + 0.2 * rng.normal() for k, v in model.defaults.items()}
        assert np.allclose(prob.rhs(y, pd), model.f(y, pd), rtol=1e-12, atol=1e-12)


def test_derived_auto_problem_matches_the_hand_written_one():
    from bifurcate.backends.auto07p import LMG_DIMER_AUTO

    prob = auto_problem(LMG_DIMER)
    rng = np.random.default_rng(9)
    for _ in range(5):
        y = rng.normal(size=6)
        pd = {"g": 1.0, "gamma": rng.normal(), "J": rng.normal(), "lam": rng.normal()}
        assert np.allclose(prob.rhs(y, pd), LMG_DIMER_AUTO.rhs(y, pd), rtol=1e-12, atol=1e-12)


# ------------------------------------------------------------------------------------------------
# symmetries are verified when a model is built
# ------------------------------------------------------------------------------------------------
def test_a_false_symmetry_is_rejected():
    from bifurcate.model import Symmetry

    omega, kappa = parameters(omega=0.5, kappa=1.0)
    A = spin("A")
    btc = OpenSystem(omega * A.x, jumps=[(kappa / S, A.m)], name="btc_false_sym")
    with pytest.raises(ValueError, match="declared symmetry does not hold: .*'flipX'"):
        btc.mean_field(symmetries=(Symmetry("flipX", np.diag([-1.0, 1.0, 1.0]), True),))
    with pytest.raises(ValueError, match=r"expected an \(3, 3\) matrix"):
        btc.mean_field(symmetries=(Symmetry("bad", np.eye(2), False),))
    m = btc.mean_field(symmetries=(Symmetry("flipX", np.diag([-1.0, 1.0, 1.0]), False),))
    assert m.state_names == ("XA", "YA", "ZA") and m.param_names == ("omega", "kappa")


def test_divergent_scaling_is_an_error():
    J = parameters(J=1.0)
    A = spin("A")
    with pytest.raises(ValueError, match="diverges"):
        OpenSystem(J * A.x ** 2, name="unscaled").equations()


# ------------------------------------------------------------------------------------------------
# the boundary time crystal
# ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("omega", [0.3, 0.7, 0.95])
def test_btc_stable_fixed_point_below_the_transition(omega):
    es = find_equilibria(BTC, omega=omega, kappa=1.0)
    assert es.n_stable == 1
    y = es.stable_states()[0]
    assert np.allclose(y, [0.0, omega, -np.sqrt(1 - omega ** 2)], atol=1e-10)
    assert list(es.stability).count("stable") == 1 and es.n_non_hyperbolic == 0


def test_btc_transition_at_omega_equal_kappa():
    def leading(omega):
        y = np.array([0.0, omega, -np.sqrt(1 - omega ** 2)])
        return BTC.tangent_eigenvalues(y, {"omega": omega, "kappa": 1.0})[0].real

    # the stable fixed point's decay rate closes like sqrt(kappa^2 - omega^2)
    for d in (1e-2, 1e-4):
        assert leading(1 - d) < 0 and abs(leading(1 - d)) < 2 * np.sqrt(2 * d)
    assert find_equilibria(BTC, omega=1.0 + 1e-3).n_stable == 0


def test_btc_neutral_orbits_above_the_transition():
    omega = 1.5
    es = find_equilibria(BTC, omega=omega, kappa=1.0)
    assert es.n_stable == 0 and len(es) == 2
    assert all(s == "non-hyperbolic" for s in es.stability) and not es.hyperbolic.any()
    for y in es.states:   # the centres (+-sqrt(1 - (kappa/omega)^2), kappa/omega, 0)
        assert np.allclose(np.abs(y), [np.sqrt(1 - 1 / omega ** 2), 1 / omega, 0.0], atol=1e-9)
    y0 = np.array([0.3, 0.5, -0.2])
    y0 /= np.linalg.norm(y0)
    tr = integrate(BTC, y0, (0.0, 200.0), {"omega": omega}, t_eval=np.linspace(0, 200, 20001), rtol=1e-11, atol=1e-12)
    Z = tr.y[:, 2]
    first, last = Z[: 5000], Z[-5000:]
    # a neutral orbit: neither converges nor grows; its range of Z is conserved
    assert np.ptp(first) > 0.1
    assert abs(np.ptp(first) - np.ptp(last)) < 1e-4   # sampling error of the extremes ~ 1e-5
    assert np.min(np.linalg.norm(tr.y[5000:] - y0, axis=1)) < 2e-2   # it comes back


# ------------------------------------------------------------------------------------------------
# the open Dicke model
# ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("omega, omega0, kappa", [(1.0, 1.0, 1.0), (2.0, 0.5, 0.3)])
def test_dicke_superradiant_threshold(omega, omega0, kappa):
    from scipy.optimize import brentq

    pars = dict(omega=omega, omega0=omega0, kappa=kappa)
    lc = lam_critical(omega, omega0, kappa)

    def lead(lam):
        return DICKE.tangent_eigenvalues(DICKE_NORMAL, dict(pars, lam=lam))[0].real

    assert lead(0.9 * lc) < 0 < lead(1.1 * lc)
    assert abs(brentq(lead, 0.5 * lc, 1.5 * lc, xtol=1e-14) - lc) < 1e-9 * lc
    below = find_equilibria(DICKE, dict(pars, lam=0.8 * lc))
    assert below.n_stable == 1 and np.allclose(below.stable_states()[0], DICKE_NORMAL, atol=1e-10)
    above = find_equilibria(DICKE, dict(pars, lam=1.3 * lc))
    assert above.n_stable == 2
    s1, s2 = above.stable_states()
    assert np.allclose(s1, np.diag([-1, -1, -1, -1, 1]) @ s2, atol=1e-9)   # Z2 partners
    for s in (s1, s2):
        assert abs(s[4] + (lc / (1.3 * lc)) ** 2) < 1e-9                   # Z = -(lam_c/lam)^2
        assert abs(s[0]) > 1e-3                                            # a field in the cavity


# ------------------------------------------------------------------------------------------------
# three sites: a ring of LMG spins
# ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("g, gamma, J, lam", [(1.0, 0.5, 0.0, 0.2), (1.0, 0.3, -0.4, 0.35), (0.7, 0.2, 0.5, -0.3)])
def test_lmg_ring_normal_state_spectrum_closed_form(g, gamma, J, lam):
    y = np.array([0, 0, -1.0] * 3)
    pars = dict(g=g, gamma=gamma, J=J, lam=lam)
    assert np.max(np.abs(LMG_RING.f(y, pars))) < 1e-14
    ev = LMG_RING.tangent_eigenvalues(y, pars)
    exact = normal_state_eigenvalues(g, gamma, J, lam)
    key = lambda z: (round(z.real, 9), round(z.imag, 9))   # noqa: E731
    assert np.allclose(sorted(ev, key=key), sorted(exact, key=key), atol=1e-10)
    assert LMG_RING.n == 9 and len(LMG_RING.symmetries) == 2
    assert check_model(LMG_RING, pars).success


@pytest.mark.auto
def test_auto_finds_the_dicke_threshold_from_the_derived_problem():
    pytest.importorskip("bifpy", reason="the AUTO-07p oracle tier needs bifpy")
    from bifurcate.backends import auto07p as A

    pars = dict(omega=1.0, omega0=1.0, kappa=1.0, lam=0.1)
    r = A.auto_equilibria(DICKE, DICKE_NORMAL, pars, "lam", bounds=(0.0, 1.5))
    assert r.success, r.message
    bp = r.special("BP")
    assert len(bp) == 1
    assert bp["lam"].iloc[0] == pytest.approx(lam_critical(1.0, 1.0, 1.0), abs=1e-8)
