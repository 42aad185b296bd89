"""Mean-field equations of an :class:`~bifurcate.spec.OpenSystem`, derived symbolically.

For every observable O (S^x, S^y, S^z of each spin, a of each boson) the adjoint master equation
gives the Heisenberg-Langevin equation of its expectation ::

    d<O>/dt = i <[H, O]> + sum_k rate_k < L_k^dag O L_k - 1/2 {L_k^dag L_k, O} >.

The right-hand side is normal ordered exactly (:func:`bifurcate.spec.operators.canonical`), then
every ordered product is factorised at first order (cumulant expansion): a spin word
``S^+^a S^z^b S^-^c`` -> S^(a+b+c) (X + iY)^a Z^b (X - iY)^c and a boson word ``dag^a a^b`` ->
scale^(a+b) conj(alpha)^a alpha^b, with X = <S^x>/S, ... on the unit sphere and
alpha = <a>/scale (scale = sqrt(S) unless the boson says otherwise). Products of operators of one
spin keep their leading order, e.g. <S^x S^y + S^y S^x>/S^2 -> 2 X Y. The equation of O is divided by
its own scale (S, or the boson's scale) and the limit S -> infinity is taken: terms that vanish
are dropped, and a term that grows with S (a Hamiltonian or rate missing its 1/S) is an error.

Finally each spin's polynomials are reduced modulo X^2 + Y^2 + Z^2 - 1 (X^2 is eliminated: the
remainder of a division in X, unique on the sphere), so the derived field is a canonical
polynomial representative of the flow on the product of spheres (for the LMG dimer it is Eqs.
(6)-(11) of Kothe & Kirton letter for letter).
"""
from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

from bifurcate.spec.operators import S, Operator, canonical

__all__ = ["MeanField", "derive", "state_symbols"]

_T = sp.Symbol("_t", positive=True)   # S = t^2 (bosons scale with sqrt(S))


def state_symbols(modes) -> list:
    """[(mode, [(name, Symbol), ...]), ...] in declaration order."""
    out = []
    for m in modes:
        if m.kind == "spin":
            names = [f"X{m.name}", f"Y{m.name}", f"Z{m.name}"]
        else:
            names = [f"{m.name}_re", f"{m.name}_im"]
        out.append((m, [(n, sp.Symbol(n, real=True)) for n in names]))
    return out


@dataclass
class MeanField:
    """The derived field.

    Attributes
    ----------
    state_names : list of str; states : list of sympy Symbols (same order)
    field : list of sympy expressions, d state / dt on the phase space (no radial damping)
    spheres : list of (i, i+1, i+2) index triples, one per spin
    radial : list of sympy expressions h_s with r_s . field_s = (|r_s|^2 - 1) h_s
    kappa : list of sympy expressions, the radial damping rate of each sphere
    """

    state_names: list
    states: list
    field: list
    spheres: list
    radial: list
    kappa: list


def _classical(word_key, values) -> sp.Expr:
    out = sp.Integer(1)
    for m, word in word_key:
        for letter in word:
            out = out * values[m][letter]
    return out


def _leading(expr: sp.Expr, what: str, reduce) -> sp.Expr:
    """The S -> infinity limit of ``expr`` (a Laurent polynomial in sqrt(S))."""
    e = sp.expand(expr.subs(S, _T ** 2))
    by_power: dict = {}
    for term in sp.Add.make_args(e):
        c, k = term.as_coeff_exponent(_T)
        if _T in c.free_symbols or not k.is_Rational:
            raise ValueError(f"{what}: a coefficient is not a power of S times a constant ({term.subs(_T, sp.sqrt(S))}); "
                             f"write the S dependence of H and the rates as powers of S")
        by_power[k] = by_power.get(k, 0) + c
    for k in sorted(by_power, reverse=True):
        if k <= 0:
            break
        rest = reduce(by_power[k])
        if rest != 0:
            raise ValueError(f"{what}: the mean-field limit diverges: a term of order S^{k / 2} remains "
                             f"({rest}); scale the Hamiltonian and rates so that the equations are of order 1 "
                             f"(e.g. nonlinear spin terms by 1/S, collective rates by 1/S)")
    return by_power.get(0, sp.Integer(0))


def derive(system) -> MeanField:
    """Mean-field equations of ``system`` (an OpenSystem)."""
    groups = state_symbols(system.modes)
    values: dict = {}
    states, names, spheres = [], [], []
    for m, syms in groups:
        idx = len(states)
        names += [n for n, _ in syms]
        states += [s for _, s in syms]
        if m.kind == "spin":
            X, Y, Z = (s for _, s in syms)
            values[m] = {"p": S * (X + sp.I * Y), "z": S * Z, "m": S * (X - sp.I * Y)}
            spheres.append((idx, idx + 1, idx + 2))
        else:
            re, im = (s for _, s in syms)
            values[m] = {"a": m.scale * (re + sp.I * im), "dag": m.scale * (re - sp.I * im)}

    sphere_syms = [(states[i], states[j], states[k]) for i, j, k in spheres]

    def reduce(expr):
        expr = sp.expand(expr)
        for X, Y, Z in sphere_syms:
            if expr.has(X):
                expr = sp.expand(sp.rem(expr, X ** 2 + Y ** 2 + Z ** 2 - 1, X))
        return expr

    H = system.H
    jumps = [(rate, L, L.dagger()) for rate, L in system.jumps]

    def heisenberg(O: Operator) -> sp.Expr:
        gen = (H * O - O * H) * sp.I
        for rate, L, Ld in jumps:
            LdL = Ld * L
            gen = gen + (Ld * O * L - LdL * O * sp.Rational(1, 2) - O * LdL * sp.Rational(1, 2)) * rate
        total = sp.Integer(0)
        for key, c in canonical(gen).items():
            total += c * _classical(key, values)
        return total

    field = []
    for m, syms in groups:
        if m.kind == "spin":
            for letter, (n, _) in zip("xyz", syms):
                expr = _leading(heisenberg(m._op(letter)) / S, f"equation of {n}", reduce)
                re, im = (sp.expand(v) for v in expr.as_real_imag())
                im = reduce(im)
                if im != 0:
                    raise ValueError(f"equation of {n}: imaginary part {im} (is the Hamiltonian Hermitian?)")
                field.append(reduce(re))
        else:
            expr = _leading(heisenberg(m._op("a")) / m.scale, f"equation of {m.name}", reduce)
            re, im = (sp.expand(v) for v in expr.as_real_imag())
            field += [reduce(re), reduce(im)]

    radial, kappa = [], []
    spin_vals = {s: 1 for trip in sphere_syms for s in trip}
    for (i, j, k), (X, Y, Z) in zip(spheres, sphere_syms):
        q = sp.expand(X * field[i] + Y * field[j] + Z * field[k])
        h, r = sp.div(q, X ** 2 + Y ** 2 + Z ** 2 - 1, X)
        r = reduce(r)
        if r != 0:
            raise ValueError(f"the derived field is not tangent to the sphere of spin {names[i][1:]!r}: "
                             f"r . f = {q} (a bug in the derivation; please report)")
        h = sp.expand(h)
        radial.append(h)
        bound = sum((sp.Abs(t.subs(spin_vals)) for t in sp.Add.make_args(h) if t != 0), sp.Integer(0))
        kappa.append(1 + 2 * bound)
    return MeanField(names, states, field, spheres, radial, kappa)
