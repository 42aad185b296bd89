"""Specifications (bifurcate.spec): the operator algebra, validation, the term lists the exact
engine reads, and the mean-field derivation against the paper's equations and hand-written twins."""
from __future__ import annotations

import numpy as np
import pytest
import sympy as sp

from bifurcate.spec import OpenSystem, S, boson, parameters, spin
from bifurcate.spec.operators import canonical


def _dimer():
    g, gamma, J, lam = parameters(g=1.0, gamma=0.5, J=0.0, lam=0.0)
    A, B = spin("A"), spin("B")
    H = -J * A.x ** 2 / S - g * A.z - J * B.x ** 2 / S - g * B.z + lam * (A.p * B.m + A.m * B.p) / (2 * S)
    return OpenSystem(H, jumps=[(gamma / S, A.m), (gamma / S, B.p)], name="dimer"), (g, gamma, J, lam)


# ------------------------------------------------------------------------------------------------
# algebra
# ------------------------------------------------------------------------------------------------
def test_spin_commutators_and_casimir_ordering():
    A = spin("A")
    assert canonical(A.x * A.y - A.y * A.x - sp.I * A.z) == {}
    assert canonical(A.y * A.z - A.z * A.y - sp.I * A.x) == {}
    assert canonical(A.z * A.x - A.x * A.z - sp.I * A.y) == {}
    assert canonical(A.p * A.m - A.m * A.p - 2 * A.z) == {}
    assert canonical(A.z * A.p - A.p * A.z - A.p) == {}
    # S+ S- = Sx^2 + Sy^2 + Sz
    assert canonical(A.p * A.m - A.x ** 2 - A.y ** 2 - A.z) == {}


def test_boson_commutator_and_modes_commute():
    a = boson("a")
    A = spin("A")
    assert canonical(a.a * a.dag - a.dag * a.a - 1) == {}
    assert canonical(a.a * A.p - A.p * a.a) == {}
    assert canonical((a.a * a.dag) ** 2 - (a.dag * a.a + 1) ** 2) == {}


def test_operator_arithmetic_with_numbers_and_parameters():
    k = parameters(k=2.0)
    A = spin("A")
    op = 3 * A.x - A.x * k / 2 + 1
    assert canonical(op - (3 - k / 2) * A.x - 1) == {}
    assert canonical((A.z + 1) ** 2 - (A.z * A.z + 2 * A.z + 1)) == {}
    with pytest.raises(ValueError, match="non-negative integer power"):
        A.x ** -1
    with pytest.raises(TypeError, match="division by an operator"):
        A.x / A.z
    with pytest.raises(TypeError, match="expected an operator, a number or a parameter"):
        A.x + "z"


# ------------------------------------------------------------------------------------------------
# the interface of the exact engine
# ------------------------------------------------------------------------------------------------
def test_term_lists_of_the_dimer():
    sysm, (g, gamma, J, lam) = _dimer()
    assert [(m.name, m.kind) for m in sysm.modes] == [("A", "spin"), ("B", "spin")]
    assert dict(sysm.parameters) == {"g": 1.0, "gamma": 0.5, "J": 0.0, "lam": 0.0}
    assert list(sysm.parameters) == ["g", "gamma", "J", "lam"]
    assert sysm.param_symbols["lam"] is lam or sysm.param_symbols["lam"] == lam
    terms = dict((ops, c) for c, ops in sysm.hamiltonian_terms())
    assert terms[(("A", "x"), ("A", "x"))] == -J / S
    assert terms[(("B", "z"),)] == -g
    assert terms[(("A", "p"), ("B", "m"))] == lam / (2 * S)
    assert terms[(("A", "m"), ("B", "p"))] == lam / (2 * S)
    assert len(terms) == 6
    jumps = sysm.jump_terms()
    assert jumps == [(gamma / S, [(1, (("A", "m"),))]), (gamma / S, [(1, (("B", "p"),))])]


def test_term_lists_rebuild_the_operators():
    """Summing the term lists gives back H and L (checked in the normal-ordered algebra)."""
    omega, omega0, lam, kappa = parameters(omega=1.0, omega0=0.5, lam=0.3, kappa=0.2)
    a, A = boson("a"), spin("A")
    H = omega * a.dag * a.a + omega0 * A.z + 2 * lam / sp.sqrt(2 * S) * (a.a + a.dag) * A.x
    sysm = OpenSystem(H, jumps=[(2 * kappa, a.a), (kappa, A.m + 0.5 * A.z)], name="dicke")
    assert [(m.name, m.kind) for m in sysm.modes] == [("a", "boson"), ("A", "spin")]
    modes = {m.name: m for m in sysm.modes}

    def rebuild(terms):
        op = 0
        for c, ops in terms:
            w = 1
            for name, letter in ops:
                w = w * modes[name]._op(letter)
            op = op + c * w
        return op

    assert canonical(rebuild(sysm.hamiltonian_terms()) - H) == {}
    for (rate, terms), (rate0, L) in zip(sysm.jump_terms(), sysm.jumps):
        assert rate == rate0
        assert canonical(rebuild(terms) - L) == {}
    ident = OpenSystem(A.z + 2.0, jumps=[], name="shift").hamiltonian_terms()
    assert [float(c) for c, ops in ident if ops == ()] == [2.0]


def test_parameters_declared_together_all_belong_to_the_system():
    g, J, unused = parameters(g=1.0, J=0.5, unused=2.0)
    A = spin("A")
    sysm = OpenSystem(g * A.z, name="partial")
    assert dict(sysm.parameters) == {"g": 1.0, "J": 0.5, "unused": 2.0}
    assert sysm.mean_field().param_names == ("g", "J", "unused")


def test_explicit_mode_order():
    A, B = spin("A"), spin("B")
    sysm = OpenSystem(A.z + B.z, modes=[B, A], name="two")
    assert [m.name for m in sysm.modes] == ["B", "A"]
    assert sysm.state_names() == ("XB", "YB", "ZB", "XA", "YA", "ZA")


# ------------------------------------------------------------------------------------------------
# bad specifications
# ------------------------------------------------------------------------------------------------
def test_error_undeclared_mode():
    A, B = spin("A"), spin("B")
    with pytest.raises(ValueError, match=r"undeclared mode\(s\) \['B'\]"):
        OpenSystem(A.z + B.z, modes=[A], name="bad")


def test_error_non_hermitian_hamiltonian():
    A = spin("A")
    g = parameters(g=1.0)
    with pytest.raises(ValueError, match="not Hermitian"):
        OpenSystem(g * A.p, name="bad")
    with pytest.raises(ValueError, match="not Hermitian"):
        OpenSystem(sp.I * A.z, name="bad")
    with pytest.raises(ValueError, match="not Hermitian"):
        OpenSystem(A.x * A.y, name="bad")
    OpenSystem(A.x * A.y + A.y * A.x, name="fine")   # Hermitian


def test_error_negative_rate_at_defaults():
    A = spin("A")
    gamma = parameters(gamma=-0.5)
    with pytest.raises(ValueError, match=r"jumps\[0\] rate .* is negative"):
        OpenSystem(A.z, jumps=[(gamma / S, A.m)], name="bad")
    with pytest.raises(ValueError, match="negative"):
        OpenSystem(A.z, jumps=[(-1, A.m)], name="bad")


def test_error_unknown_parameter():
    A = spin("A")
    x = sp.Symbol("x")
    with pytest.raises(ValueError, match=r"unknown parameter\(s\) \['x'\]"):
        OpenSystem(x * A.z, name="bad")
    with pytest.raises(ValueError, match=r"unknown parameter\(s\) \['y'\]"):
        OpenSystem(A.z, jumps=[(sp.Symbol("y"), A.m)], name="bad")


def test_error_other_bad_input():
    A = spin("A")
    with pytest.raises(TypeError, match="pair"):
        OpenSystem(A.z, jumps=[A.m], name="bad")
    with pytest.raises(TypeError, match="the rate must be"):
        OpenSystem(A.z, jumps=[(A.m, 1.0)], name="bad")
    with pytest.raises(TypeError, match="H must be an operator"):
        OpenSystem("A.z", name="bad")
    with pytest.raises(ValueError, match="reserved"):
        parameters(S=1.0)
    with pytest.raises(ValueError, match="share the name"):
        OpenSystem(A.z + spin("A").z, name="bad")
    g1 = parameters(g=1.0)
    g2 = parameters(g=2.0)
    with pytest.raises(ValueError, match="declared twice"):
        OpenSystem(g1 * A.z + g2 * A.x, name="bad")


def test_steady_state_delegates_to_the_quantum_engine(monkeypatch):
    import sys
    import types

    sysm, _ = _dimer()
    calls = []
    fake = types.ModuleType("bifurcate.quantum")
    fake.steady_state_system = lambda system, S, params, **kw: calls.append((system, S, params, kw)) or "ok"
    monkeypatch.setitem(sys.modules, "bifurcate.quantum", fake)
    assert sysm.steady_state(4, {"lam": 0.1}, tol=1e-12) == "ok"
    assert calls == [(sysm, 4, {"lam": 0.1}, {"tol": 1e-12})]


# ------------------------------------------------------------------------------------------------
# mean-field conventions
# ------------------------------------------------------------------------------------------------
def test_driven_cavity_unscaled_boson_closed_form():
    """H = Delta a^+ a + F (a + a^+), jump kappa D[a], boson not scaled with S:
    d alpha/dt = -(i Delta + kappa/2) alpha - i F, steady state alpha = -i F / (i Delta + kappa/2)."""
    Delta, F, kappa = parameters(Delta=0.7, F=0.4, kappa=0.6)
    c = boson("c", scale=1)
    sysm = OpenSystem(Delta * c.dag * c.a + F * (c.a + c.dag), jumps=[(kappa, c.a)], name="cavity")
    eqs = sysm.equations()
    assert list(eqs) == ["c_re", "c_im"]
    re, im = sp.Symbol("c_re", real=True), sp.Symbol("c_im", real=True)
    alpha = re + sp.I * im
    expected = sp.expand(-(sp.I * Delta + kappa / 2) * alpha - sp.I * F)
    assert sp.expand(eqs["c_re"] - sp.re(expected)) == 0
    assert sp.expand(eqs["c_im"] - sp.im(expected)) == 0
    model = sysm.mean_field()
    a_ss = -1j * 0.4 / (1j * 0.7 + 0.3)
    assert np.allclose(model.f([a_ss.real, a_ss.imag]), 0.0, atol=1e-14)


def test_same_spin_products_keep_the_leading_order():
    """<Sx Sy + Sy Sx>/S^2 -> 2 X Y: H = chi (Sx Sy + Sy Sx)/S acting on Sz gives
    [Sx Sy + Sy Sx, Sz] = 2i (Sx^2 - Sy^2), so dZ/dt = i chi <[...]>/S^2 = -2 chi (X^2 - Y^2)."""
    chi = parameters(chi=1.0)
    A = spin("A")
    eqs = OpenSystem(chi * (A.x * A.y + A.y * A.x) / S, name="twist").equations()
    X, Y, Z = (sp.Symbol(n, real=True) for n in ("XA", "YA", "ZA"))
    diff = sp.expand(eqs["ZA"] + 2 * chi * (X ** 2 - Y ** 2))
    assert sp.expand(sp.rem(diff, X ** 2 + Y ** 2 + Z ** 2 - 1, X)) == 0


_w, _k = parameters(w=0.8, k=1.0)
_P = spin("P")
#: a module-level specification: models built from it pickle by reference
PICKLED_SYSTEM = OpenSystem(_w * _P.x, jumps=[(_k / S, _P.m)], name="pickled_btc")


def test_model_from_a_module_level_system_pickles_by_reference():
    import pickle

    model = PICKLED_SYSTEM.mean_field()
    assert (model.module, model.attr) == (__name__, "PICKLED_SYSTEM")
    back = pickle.loads(pickle.dumps(model))
    y = np.array([0.6, 0.0, -0.8])
    assert back.state_names == model.state_names and np.allclose(back.f(y), model.f(y))
    anon = OpenSystem(_w * _P.z, name="local").mean_field()   # not at module level: this process only
    assert anon.module.startswith("_bk_spec_") and anon.attr == "MODEL"
