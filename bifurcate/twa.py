"""Truncated Wigner approximation (TWA) for collective spins and bosons: between the exact mechanics and the mean field.

An open system ``d rho/dt = -i[H, rho] + sum_k G_k D[L_k] rho`` (a :class:`bifurcate.spec.OpenSystem`)
is replaced by stochastic classical trajectories of the spin vectors ``s`` (one per spin mode) and the
boson amplitudes ``alpha`` (one per boson mode), whose ensemble reproduces the evolution of the Wigner
distribution to leading order in 1/S.

Derivation (written here, checked by the tests against exact results)
-----------------------------------------------------------------------
Symbols: the Weyl symbol of a commutator with an operator ``A`` linear in the spin components is
exact for spin Wigner functions, ``[A, rho] -> i {A, W}`` (rotations act covariantly), with the
spin Poisson bracket ``{s_i, s_j} = eps_ijk s_k``; a Hamiltonian flow of ``A(s)`` is
``ds/dt = grad_s A x s``. Anticommutators ``{A, rho} -> 2 A W + O(d^2 W)``; the truncation keeps the
first two orders of the resulting Kramers-Moyal expansion (drift and diffusion), dropping the third
(relatively O(1/S^2) in the normalised variables below).

* Hamiltonian: ``dW/dt = {H, W}`` with the classical symbol ``H(s)`` obtained by replacing
  ``S^x, S^y, S^z, S^+, S^- -> s_x, s_y, s_z, s_x + i s_y, s_x - i s_y`` in each word (same-spin
  ordering corrections of nonlinear words, relatively O(1/S), are dropped: standard TWA).
* A jump linear in one spin, ``L = l . S`` with complex ``l = l_r + i l_i``: write ``L = L1 + i L2``
  with Hermitian ``L1 = l_r . S``, ``L2 = l_i . S``. Then exactly ::

      D[L] rho = D[L1] rho + D[L2] rho - (i/2) ([L1, {L2, rho}] - [L2, {L1, rho}]),

  and ``D[A] rho = -1/2 [A, [A, rho]]``. With the symbol rules, ``D[A] -> 1/2 {A, {A, W}}``: the
  Fokker-Planck operator of a Stratonovich random rotation ``ds = v_A o dW`` with
  ``v_A = grad A x s = a x s``; and the cross term ``-> {L1, L2 W} - {L2, L1 W}
  = -div((L2 v_{L1} - L1 v_{L2}) W)`` (Hamiltonian fields are divergence-free): a drift.

So each spin obeys the Stratonovich SDE ::

    ds = [grad_s H x s] dt + sum_k G_k [ (l_i.s)(l_r x s) - (l_r.s)(l_i x s) ] dt
         + sum_k sqrt(G_k) [ (l_r x s) o dW_k1 + (l_i x s) o dW_k2 ],

every term tangent to the sphere ``|s| = const`` (the length is conserved exactly). In normalised
variables ``x = s / S`` and with the model's 1/S scaling ``G = kappa / S``::

    dx = [ (1/S) grad_x H x x + kappa ((l_i.x)(l_r x x) - (l_r.x)(l_i x x)) ] dt
         + sqrt(kappa / S) [ (l_r x x) o dW_1 + (l_i x x) o dW_2 ].

The drift is the mean-field field (for ``L = S^-``: ``kappa (X Z, Y Z, -(X^2 + Y^2))``) and the noise
has amplitude ``sqrt(kappa/S)``. In Ito form the drift gains the Ito-Stratonovich correction
``(G/2) sum_j (v_j . grad) v_j = -(G/2)(|l_r|^2 x_perp + ...)``, of order ``kappa / S``: this is the 1/S
correction of the drift; integrating the Stratonovich form with a Stratonovich scheme (stochastic
Heun, weak order 1 here) includes it automatically.

Initial states: a spin coherent state along ``n`` has a Wigner function concentrated near the sphere
of radius ``sqrt(S (S + 1))``; it is sampled as ``x = R (n + u e1 + v e2) / |n + u e1 + v e2|`` with
``R = sqrt(1 + 1/S)`` and ``u, v`` independent normal with variance ``1 / (2S)`` (``e1, e2`` a
tangent basis at ``n``); then ``<x> = n (1 + O(1/S^2))`` and ``<x_perp^2> = 1/(2S)`` per direction,
the coherent state's moments. Each step is followed by a projection back onto radius ``R`` (the
exact flow conserves it).

Where it is validated, and where it cannot be trusted
-----------------------------------------------------
Checked against the exact steady state (``tests/test_twa.py``): the boundary time crystal below and
above omega = kappa (S = 8, 16) and the LMG dimer at the normal point (J, lam) = (0, 0.3) and the LMG
point (1.5, 0) (S = 8; S = 16 in the slow tier), within 4 standard errors, with the TWA carrying more
than 80 % of the finite-S correction to the mean field. Measured with 300 trajectories, t_end = 200
(seeds 4 and 5; exact Z_B certified to 1e-9): normal point S = 8: exact 0.96487, TWA 0.96411(109) and
0.96194(116); S = 16: exact 0.98243, TWA 0.98248(54), 0.98140(57); LMG point S = 8: exact 0.40002, TWA
0.40166(140), 0.40299(147); S = 16: exact 0.36773, TWA 0.36807(50), 0.36852(52). Pooled over the two
seeds the S = 8 residuals are 2.3 errors (about 0.002, 5 % of the finite-S correction: the
truncation's own O(1/S^2)), the S = 16 ones 1.2 and 1.6 errors. The time averages assume that the ensemble
forgets its initial ensemble within ``t_burn``: where the mean field has several attractors (e.g.
stable fixed points coexisting with cycles) and noise-induced switching is slower than ``t_end``,
the TWA average weights the attractors by the basins of the initial ensemble, not as the unique
exact steady state does; the status detects a relaxation that is still visible inside the averaging
window (paired half-window test, "not_stationary", below) but not an ensemble frozen in its initial
basins (no drift to see). Per-trajectory time averages that keep the memory of a neutral orbit (BTC above
the transition) show up as large ``err_traj``.

Bosons
------
A boson's Wigner function lives on the plane of ``alpha``; the coordinates are ``alpha / c`` (``re``,
``im``; ``c`` the mode's scale, sqrt(S) by default, as in the mean field), so that photon numbers grow
like ``c^2``. Symbols: the Hamiltonian's boson words are replaced by their Weyl symbols, computed
exactly from the ordered words with the Bopp rules ``a B -> (alpha + 1/2 d/d alpha*) B_W``,
``a^+ B -> (alpha* - 1/2 d/d alpha) B_W`` (so ``a^+ a -> |alpha|^2 - 1/2``,
``a^+2 a^2 -> |alpha|^4 - 2|alpha|^2 + 1/2``); the flow is ``d alpha/dt = -i dH_W/d alpha*``, i.e. the
Moyal bracket truncated at first order: exact for quadratic Hamiltonians (drives, detunings, beam
splitters, squeezing), and for Kerr terms ``K/S a^+2 a^2`` the dropped third-order terms are relatively
O(1/S) (the driven Kerr oscillator converges to the exact solver as the scale grows: ``tests/test_twa.py``).
Spin-boson words (Dicke ``(a + a^+) S^x / sqrt(S)``) are products of each mode's symbol (different
modes commute). Initial states: a boson coherent state ``|beta>`` is the Gaussian Wigner function of
variance 1/4 per quadrature of ``alpha`` around ``beta`` (the vacuum for ``beta = 0``), sampled exactly.

Jumps linear in the modes' letters (``S^x, S^y, S^z, S^+, S^-`` of any spins, ``a, a^+`` of any bosons
and a constant, e.g. ``a + beta``): the decomposition above, ``L = L1 + i L2`` with Hermitian linear
``L1, L2`` (for a boson, ``a = x + i p`` with ``x = (a + a^+)/2``, ``p = (a - a^+)/(2i)``), holds
verbatim: for a boson generator the flow is constant (``x`` moves ``im`` by ``-1/(2c)``, ``p`` moves
``re`` by ``+1/(2c)``), so the noise is additive and the whole Fokker-Planck equation of a linear
system (``D[a]``: drift ``-G alpha / 2``, diffusion ``G/4`` per quadrature; ``D[a^+]``: drift
``+G alpha / 2``, the same diffusion) is exact: a damped driven linear oscillator has exactly the
coherent steady state's ``<n>`` and ``var(n)`` at any S (tests). Observables: ``n_<b>`` = ``<a^+ a>``
= ``<|alpha|^2>_W - 1/2`` and ``var_n_<b>`` from ``n^2 -> |alpha|^4 - |alpha|^2`` (unnormalised,
the exact engine's ``n_<b>``); ``<b>_re, <b>_im`` are ``<alpha>/c``.

What is outside the method (refused): a jump with a word of two or more letters (``a^2``, ``S^- a``,
``S^z S^z``, ...). For ``D[a^2]`` the Wigner equation has third-order derivatives and a diffusion
``(2 |alpha|^2 - 1) G`` that is negative near the vacuum, so no stochastic equation represents its
truncation everywhere (the "positive-P" or a regime restriction would be needed); ``truncated_wigner``
raises ``NotImplementedError`` naming the words and the reason. Spin Hamiltonians keep the classical
symbol (the same-spin ordering corrections of nonlinear words are relatively O(1/S): standard TWA).

Relaxation and the status: the time averages assume the ensemble forgets its initial ensemble within
``t_burn``. The status tests it (:func:`stationarity_contrast`): per trajectory, the mean over the second
half of the averaging window minus that over the first half; the trajectories are independent, so the
ensemble mean of these differences has an honest standard error (spread / sqrt(n_traj)) whatever the
correlation time, and beyond ``STATIONARY_Z`` = 4 errors in any observable the status is
"not_stationary" with the differences in the message (``stats["half_difference"]``, ``..._err``,
``..._z``). Measured: in the open Dicke model the spin is damped only through the cavity (weakly below
threshold); from the default random initial ensemble, lam = 0.3, S = 16, t_end = 60, 500 trajectories,
Z_A is 2.6-2.8 error bars from the exact steady state (-0.9811) and n_a 2.9-3.1; the paired test gives
z = -7.7 / -7.2 for Z_A (seeds 3, 4): "not_stationary". (The test used before compared the first and
last windows of the ensemble mean against the windows' scatter, which contains the drift itself: it
called this run "ok".) The ensemble started at the normal state (``initial=[0, 0, 0, 0, -1]``) agrees
with the exact steady state. A relaxation slower than the window by far (no drift inside it) is not
detected.

Numerics: the compiled kernel runs the trajectories in parallel (``prange``) with the stochastic Heun
scheme at a fixed step ``dt``; the noise is drawn inside the kernel from numba's generator seeded
per trajectory (seeds drawn by the wrapper from ``seed``), so results do not depend on the number of
threads. A plain numpy twin (:func:`twa_numpy`) runs the same scheme with noise drawn in Python.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Mapping

import numpy as np
import pandas as pd
import sympy as sp

from bifurcate._numba import njit, numba, prange
from bifurcate.validation import check_mapping, check_memory

__all__ = ["truncated_wigner", "TruncatedWigner", "TWAProblem", "twa_problem", "twa_numpy", "sample_initial",
           "stationarity_contrast", "TWA_MAX_STEPS", "STATIONARY_Z"]

#: steps allowed per trajectory (t_end / dt): one trajectory runs in one compiled call
TWA_MAX_STEPS = 10 ** 8
#: |z| of the paired half-window difference (:func:`stationarity_contrast`) beyond which an ensemble is
#: "not_stationary": 4 keeps false alarms below about 1e-3 per run over a handful of observables
STATIONARY_Z = 4.0
#: steps (trajectories x steps) of one compiled call, at least one trajectory per thread
_CHUNK_STEPS = 2 * 10 ** 7

_LETTER_VEC = {"x": (1, 0, 0), "y": (0, 1, 0), "z": (0, 0, 1), "p": (1, 1j, 0), "m": (1, -1j, 0)}


# ------------------------------------------------------------------------------------------------
# the problem: polynomial Hamiltonian tables and linear jumps
# ------------------------------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class TWAProblem:
    """The numeric TWA problem of a system at one (S, params).

    Attributes
    ----------
    spins : tuple of str
        Spin mode names.
    bosons : tuple of str
        Boson mode names.
    state_names : tuple of str
        The coordinates in order: ``X<s>, Y<s>, Z<s>`` (spin components / S) for a spin,
        ``<b>_re, <b>_im`` (``alpha / c``, ``c`` the boson's scale) for a boson, modes in declaration order.
    h_coef : ndarray (m,)
        Coefficients of the Hamiltonian's symbol in the coordinates, divided by S
        (``H_W / S = sum_m h_coef[m] prod_j x_j^h_exp[m, j]``; Weyl symbol for bosons, classical symbol
        for spins).
    h_exp : ndarray (m, n) of int64
    blocks : ndarray (n_modes, 3) of int64
        Per mode: kind (0 spin, 1 boson), first coordinate, number of coordinates (3 or 2).
    hfac : ndarray (n_modes,)
        Boson: ``S / (2 c^2)`` (the Hamiltonian flow is ``d(re)/dt = hfac dh/d(im)``,
        ``d(im)/dt = -hfac dh/d(re)``); spin: 1.
    vfac : ndarray (n_modes,)
        Boson: ``1 / (2 c)`` (flow of the quadrature generators); spin: 1.
    sig : ndarray (n,)
        Scale of each coordinate in the jump symbols: S for spin coordinates, c for boson coordinates.
    jump_lr, jump_li : ndarray (k, n)
        Real and imaginary parts of each jump's coefficients on the Hermitian generators
        (``S^x, S^y, S^z`` per spin, ``x = (a + a^+)/2``, ``p = (a - a^+)/(2i)`` per boson).
    jump_c : ndarray (k, 2)
        Real and imaginary part of the jump's constant term (a displaced jump ``a + beta``).
    jump_rate : ndarray (k,)
        ``G_k S`` (the rate times S: kappa for a ``kappa/S`` jump).
    S : float
    """

    spins: tuple
    h_coef: np.ndarray
    h_exp: np.ndarray
    jump_lr: np.ndarray
    jump_li: np.ndarray
    jump_rate: np.ndarray
    S: float
    bosons: tuple = ()
    state_names: tuple = ()
    blocks: np.ndarray = None
    hfac: np.ndarray = None
    vfac: np.ndarray = None
    sig: np.ndarray = None
    jump_c: np.ndarray = None
    boson_scale: np.ndarray = None

    @property
    def n(self) -> int:
        return int(self.sig.shape[0])

    def kernel_args(self) -> tuple:
        """The arrays the drift and noise kernels take, in order."""
        return (self.h_coef, self.h_exp, self.blocks, self.hfac, self.vfac, self.sig, self.jump_lr, self.jump_li,
                self.jump_c, self.jump_rate / self.S)


def _num(expr, values: dict, S: float, what: str) -> complex:
    from bifurcate.spec import S as S_sym

    e = sp.sympify(expr).subs(values).subs(S_sym, S)
    try:
        return complex(e)
    except TypeError:
        raise ValueError(f"{what}: {expr} is not a number at the given parameters (free symbols "
                         f"{sorted(map(str, e.free_symbols))})") from None


def _weyl_boson(letters, al, alc):
    """Weyl symbol of an ordered product of ``a`` / ``dag`` letters (exact for polynomials): the
    Bopp rules ``a B -> (alpha + 1/2 d/d alpha*) B_W``, ``a^+ B -> (alpha* - 1/2 d/d alpha) B_W``,
    applied from the right."""
    out = sp.Integer(1)
    for letter in reversed(letters):
        if letter == "a":
            out = sp.expand(al * out + sp.Rational(1, 2) * sp.diff(out, alc))
        else:
            out = sp.expand(alc * out - sp.Rational(1, 2) * sp.diff(out, al))
    return out


#: the spin letters as complex vectors on (S^x, S^y, S^z); the boson letters on (x, p): a = x + i p
_BOSON_VEC = {"a": (1, 1j), "dag": (1, -1j)}


def twa_problem(system, S: float, params: Mapping[str, float] | None = None) -> TWAProblem:
    """Build the :class:`TWAProblem` of ``system`` (spins and bosons; jumps linear in the modes' letters).

    Raises
    ------
    NotImplementedError
        A jump with a word of two or more letters (``a^2``, ``S^- a``, ``S^z S^z``, ...): see the module
        docstring for why the TWA refuses it.
    """
    p = dict(system.parameters)
    unknown = set(params or {}) - set(p)
    if unknown:
        raise KeyError(f"unknown parameter(s) {sorted(unknown)} for system {system.name!r}; "
                       f"expected some of {list(p)}")
    p.update({k: float(v) for k, v in (params or {}).items()})
    values = {system.param_symbols[k]: v for k, v in p.items()}
    modes = list(system.modes)
    names, blocks, hfac, vfac, sig, letter, cvec = [], [], [], [], [], {}, []
    off = 0
    for m in modes:
        if m.kind == "spin":
            X = sp.symbols(f"x{off}:{off + 3}", real=True)
            x, y, z = X
            letter[m.name] = ("spin", {"x": x, "y": y, "z": z, "p": x + sp.I * y, "m": x - sp.I * y})
            names += [f"X{m.name}", f"Y{m.name}", f"Z{m.name}"]
            blocks.append((0, off, 3))
            hfac.append(1.0)
            vfac.append(1.0)
            sig += [float(S)] * 3
            cvec += list(X)
            off += 3
        elif m.kind == "boson":
            c = _num(m.scale, {}, S, f"boson {m.name!r} scale").real
            if not (math.isfinite(c) and c > 0):
                raise ValueError(f"boson {m.name!r}: expected a positive scale at S = {S}, got {c}")
            U = sp.symbols(f"x{off}:{off + 2}", real=True)
            letter[m.name] = ("boson", (c * (U[0] + sp.I * U[1]), c * (U[0] - sp.I * U[1]), c))
            names += [f"{m.name}_re", f"{m.name}_im"]
            blocks.append((1, off, 2))
            hfac.append(float(S) / (2 * c * c))
            vfac.append(1.0 / (2 * c))
            sig += [c, c]
            cvec += list(U)
            off += 2
        else:
            raise NotImplementedError(f"truncated_wigner: mode {m.name!r} of kind {m.kind!r} is neither a spin "
                                      f"nor a boson")
    idx = {m.name: i for i, m in enumerate(modes)}
    n = off
    al, alc = sp.symbols("_al _alc")
    H = sp.Integer(0)
    for coeff, ops in system.hamiltonian_terms():
        c = _num(coeff, values, S, "a Hamiltonian coefficient")
        term = sp.Float(c.real) + sp.I * sp.Float(c.imag) if c.imag else sp.Float(c.real)
        per_mode: dict = {}
        for mode, op in ops:                      # letters of different modes commute: keep each mode's order
            per_mode.setdefault(mode, []).append(op)
        for mode, lets in per_mode.items():
            kind, tab = letter[mode]
            if kind == "spin":
                for op in lets:
                    term = term * S * tab[op]
            else:
                a_sym, ac_sym, _ = tab
                term = term * _weyl_boson(lets, al, alc).subs({al: a_sym, alc: ac_sym}, simultaneous=True)
        H += term
    H = sp.expand(H / S)
    coefs, exps = [], []
    if H != 0:
        poly = sp.Poly(H, *cvec)
        for mon, c in poly.terms():
            c = complex(c)
            if abs(c.imag) > 1e-10 * max(1.0, abs(c)):
                raise ValueError(f"system {system.name!r}: the Hamiltonian's symbol is not real (term {c} "
                                 f"x^{mon}); is H Hermitian?")
            if mon == (0,) * n:
                continue
            coefs.append(c.real)
            exps.append(mon)
    h_coef = np.array(coefs, float)
    h_exp = np.array(exps, np.int64).reshape(len(coefs), n)
    lr, li, lc, rate = [], [], [], []
    for k, (r, terms) in enumerate(system.jump_terms()):
        g = _num(r, values, S, f"jumps[{k}] rate")
        if any(len(ops) > 1 for _, ops in terms):
            raise NotImplementedError(
                f"truncated_wigner supports jumps linear in the modes' letters (S^x, S^y, S^z, S^+, S^- of a spin, "
                f"a, a^+ of a boson, and constants); system {system.name!r} jumps[{k}] has the word(s) "
                f"{[ops for _, ops in terms if len(ops) > 1]}: for a nonlinear jump (a^2, S^- a, ...) the Wigner "
                f"equation has third-order derivatives and a diffusion that is not positive semi-definite "
                f"everywhere (for D[a^2]: 2 |alpha|^2 - 1 < 0 near the vacuum), so no truncated stochastic "
                f"equation represents it; use the exact solver")
        l = np.zeros(n, complex)
        const = 0j
        for coeff, ops in terms:
            cc = _num(coeff, values, S, f"jumps[{k}] coefficient")
            if not ops:
                const += cc
                continue
            (mode, op), = ops
            kind, o, _ = blocks[idx[mode]]
            if kind == 0:
                l[o:o + 3] += cc * np.array(_LETTER_VEC[op], complex)
            else:
                l[o:o + 2] += cc * np.array(_BOSON_VEC[op], complex)
        lr.append(l.real)
        li.append(l.imag)
        lc.append((const.real, const.imag))
        rate.append(g.real * S)
    spins = tuple(m.name for m in modes if m.kind == "spin")
    bosons = tuple(m.name for m in modes if m.kind == "boson")
    return TWAProblem(spins=spins, bosons=bosons, state_names=tuple(names), h_coef=h_coef, h_exp=h_exp,
                      blocks=np.array(blocks, np.int64).reshape(-1, 3), hfac=np.array(hfac, float),
                      vfac=np.array(vfac, float), sig=np.array(sig, float),
                      jump_lr=np.array(lr, float).reshape(-1, n), jump_li=np.array(li, float).reshape(-1, n),
                      jump_c=np.array(lc, float).reshape(-1, 2), jump_rate=np.array(rate, float), S=float(S),
                      boson_scale=np.array([sig[blocks[idx[b]][1]] for b in bosons], float))


# ------------------------------------------------------------------------------------------------
# kernels
# ------------------------------------------------------------------------------------------------
@njit
def _flow(l, blocks, vfac, x, out, w):
    """out += w * (Hamiltonian flow of the generator combination ``l``): per spin ``l_b x x_b``, per
    boson ``(l_p, -l_x) / (2c)``."""
    for b in range(blocks.shape[0]):
        o = blocks[b, 1]
        if blocks[b, 0] == 0:
            out[o] += w * (l[o + 1] * x[o + 2] - l[o + 2] * x[o + 1])
            out[o + 1] += w * (l[o + 2] * x[o] - l[o] * x[o + 2])
            out[o + 2] += w * (l[o] * x[o + 1] - l[o + 1] * x[o])
        else:
            out[o] += w * vfac[b] * l[o + 1]
            out[o + 1] -= w * vfac[b] * l[o]


@njit
def _drift(x, h_coef, h_exp, blocks, hfac, vfac, sig, jlr, jli, jc, jG, grad, out):
    n = x.shape[0]
    for i in range(n):
        grad[i] = 0.0
        out[i] = 0.0
    for m in range(h_coef.shape[0]):
        for j in range(n):
            e = h_exp[m, j]
            if e == 0:
                continue
            v = h_coef[m] * e
            for i in range(n):
                ei = h_exp[m, i] - (1 if i == j else 0)
                if ei > 0:
                    v *= x[i] ** ei
            grad[j] += v
    for b in range(blocks.shape[0]):
        o = blocks[b, 1]
        if blocks[b, 0] == 0:
            out[o] += grad[o + 1] * x[o + 2] - grad[o + 2] * x[o + 1]
            out[o + 1] += grad[o + 2] * x[o] - grad[o] * x[o + 2]
            out[o + 2] += grad[o] * x[o + 1] - grad[o + 1] * x[o]
        else:
            out[o] += hfac[b] * grad[o + 1]
            out[o + 1] -= hfac[b] * grad[o]
    for k in range(jG.shape[0]):
        s1 = jc[k, 0]
        s2 = jc[k, 1]
        for i in range(n):
            s1 += jlr[k, i] * sig[i] * x[i]
            s2 += jli[k, i] * sig[i] * x[i]
        # G [sigma(L2) v(L1) - sigma(L1) v(L2)]
        _flow(jlr[k], blocks, vfac, x, out, jG[k] * s2)
        _flow(jli[k], blocks, vfac, x, out, -jG[k] * s1)


@njit
def _noise(x, blocks, vfac, jlr, jli, amp, dW, out):
    """out = sum_k amp_k [v(L1_k) dW_k1 + v(L2_k) dW_k2]."""
    for i in range(x.shape[0]):
        out[i] = 0.0
    for k in range(amp.shape[0]):
        _flow(jlr[k], blocks, vfac, x, out, amp[k] * dW[2 * k])
        _flow(jli[k], blocks, vfac, x, out, amp[k] * dW[2 * k + 1])


@njit
def _project(x, blocks, R):
    for b in range(blocks.shape[0]):
        if blocks[b, 0] != 0:
            continue
        o = blocks[b, 1]
        r = math.sqrt(x[o] ** 2 + x[o + 1] ** 2 + x[o + 2] ** 2)
        for i in range(3):
            x[o + i] *= R / r


@njit
def _heun_step(x, dt, sq, h_coef, h_exp, blocks, hfac, vfac, sig, jlr, jli, jc, jG, amp, dW, R,
               f0, f1, g0, g1, xt, grad):
    _drift(x, h_coef, h_exp, blocks, hfac, vfac, sig, jlr, jli, jc, jG, grad, f0)
    _noise(x, blocks, vfac, jlr, jli, amp, dW, g0)
    for i in range(x.shape[0]):
        xt[i] = x[i] + f0[i] * dt + g0[i] * sq
    _drift(xt, h_coef, h_exp, blocks, hfac, vfac, sig, jlr, jli, jc, jG, grad, f1)
    _noise(xt, blocks, vfac, jlr, jli, amp, dW, g1)
    for i in range(x.shape[0]):
        x[i] += 0.5 * (f0[i] + f1[i]) * dt + 0.5 * (g0[i] + g1[i]) * sq
    _project(x, blocks, R)


@njit
def _features(x, blocks, feat):
    """The averaged quantities: the coordinates, then per boson ``r2 = re^2 + im^2`` and ``r2^2``."""
    n = x.shape[0]
    for i in range(n):
        feat[i] = x[i]
    j = n
    for b in range(blocks.shape[0]):
        if blocks[b, 0] == 1:
            o = blocks[b, 1]
            r2 = x[o] * x[o] + x[o + 1] * x[o + 1]
            feat[j] = r2
            feat[j + 1] = r2 * r2
            j += 2


@njit(parallel=True)
def _twa_kernel(x0, seeds, n_steps, n_burn, n_windows, dt, h_coef, h_exp, blocks, hfac, vfac, sig, jlr, jli, jc,
                jG, amp, R, out):
    """Integrate each row of ``x0`` (n_traj, n); ``out[r, w, :]`` = mean of the features (coordinates,
    then per boson r2 and r2^2) over window w of the steps after ``n_burn`` (split into ``n_windows``
    equal windows). Returns nothing."""
    n_traj, n = x0.shape
    nf = out.shape[2]
    nk = jG.shape[0]
    per = (n_steps - n_burn) // n_windows
    sq = math.sqrt(dt)
    for r in prange(n_traj):
        np.random.seed(seeds[r])
        x = x0[r].copy()
        f0 = np.empty(n)
        f1 = np.empty(n)
        g0 = np.empty(n)
        g1 = np.empty(n)
        xt = np.empty(n)
        grad = np.empty(n)
        feat = np.empty(nf)
        dW = np.empty(2 * nk)
        for w in range(n_windows):
            for i in range(nf):
                out[r, w, i] = 0.0
        for s in range(n_burn + per * n_windows):
            for j in range(2 * nk):
                dW[j] = np.random.standard_normal()
            _heun_step(x, dt, sq, h_coef, h_exp, blocks, hfac, vfac, sig, jlr, jli, jc, jG, amp, dW, R,
                       f0, f1, g0, g1, xt, grad)
            if s >= n_burn:
                w = (s - n_burn) // per
                _features(x, blocks, feat)
                for i in range(nf):
                    out[r, w, i] += feat[i] / per


def twa_numpy(problem: TWAProblem, x0: np.ndarray, dW: np.ndarray, dt: float) -> np.ndarray:
    """The numpy twin of the kernel's scheme: ``x0`` (m, n), ``dW`` (n_steps, m, 2k) standard normals.

    Returns the path (n_steps + 1, m, n)."""
    P = problem
    x = np.array(x0, float)
    R = math.sqrt(1.0 + 1.0 / P.S)
    G = P.jump_rate / P.S
    amp = np.sqrt(G)

    def flow(l, x):
        """(m, n) Hamiltonian flow of the generator combination l (n,) at the states x (m, n)."""
        v = np.zeros_like(x)
        for (kind, o, size), vf in zip(P.blocks, P.vfac):
            if kind == 0:
                v[:, o:o + 3] = np.cross(l[o:o + 3], x[:, o:o + 3])
            else:
                v[:, o] = vf * l[o + 1]
                v[:, o + 1] = -vf * l[o]
        return v

    def drift(x):
        out = np.zeros_like(x)
        grad = np.zeros_like(x)
        for c, e in zip(P.h_coef, P.h_exp):
            for j in range(x.shape[1]):
                if e[j]:
                    ee = e.copy()
                    ee[j] -= 1
                    grad[:, j] += c * e[j] * np.prod(x ** ee, axis=1)
        for (kind, o, size), hf in zip(P.blocks, P.hfac):
            if kind == 0:
                out[:, o:o + 3] += np.cross(grad[:, o:o + 3], x[:, o:o + 3])
            else:
                out[:, o] += hf * grad[:, o + 1]
                out[:, o + 1] -= hf * grad[:, o]
        for k in range(len(G)):
            s1 = P.jump_c[k, 0] + (x * P.sig) @ P.jump_lr[k]
            s2 = P.jump_c[k, 1] + (x * P.sig) @ P.jump_li[k]
            out += G[k] * (s2[:, None] * flow(P.jump_lr[k], x) - s1[:, None] * flow(P.jump_li[k], x))
        return out

    def noise(x, d):
        out = np.zeros_like(x)
        for k in range(len(G)):
            out += amp[k] * (flow(P.jump_lr[k], x) * d[:, 2 * k, None] + flow(P.jump_li[k], x) * d[:, 2 * k + 1, None])
        return out

    path = [x.copy()]
    for d in dW:
        d = d * math.sqrt(dt)
        f0, g0 = drift(x), noise(x, d)
        xt = x + f0 * dt + g0
        x = x + 0.5 * (f0 + drift(xt)) * dt + 0.5 * (g0 + noise(xt, d))
        for kind, o, size in P.blocks:
            if kind == 0:
                x[:, o:o + 3] *= R / np.linalg.norm(x[:, o:o + 3], axis=1, keepdims=True)
        path.append(x.copy())
    return np.array(path)


# ------------------------------------------------------------------------------------------------
# sampling
# ------------------------------------------------------------------------------------------------
def sample_coherent(directions: np.ndarray, S: float, rng: np.random.Generator) -> np.ndarray:
    """Wigner samples of spin coherent states: ``directions`` (m, 3 n_spins) unit vectors per spin."""
    d = np.array(directions, float)
    m, n = d.shape
    R = math.sqrt(1.0 + 1.0 / S)
    out = np.empty_like(d)
    for b in range(n // 3):
        nv = d[:, 3 * b:3 * b + 3]
        nv = nv / np.linalg.norm(nv, axis=1, keepdims=True)
        helper = np.where(np.abs(nv[:, [0]]) < 0.9, np.array([[1.0, 0, 0]]), np.array([[0, 1.0, 0]]))
        e1 = np.cross(nv, helper)
        e1 /= np.linalg.norm(e1, axis=1, keepdims=True)
        e2 = np.cross(nv, e1)
        u, v = rng.normal(0.0, math.sqrt(1.0 / (2 * S)), size=(2, m, 1))
        y = nv + u * e1 + v * e2
        out[:, 3 * b:3 * b + 3] = R * y / np.linalg.norm(y, axis=1, keepdims=True)
    return out


def sample_initial(problem: TWAProblem, centres: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Wigner samples of product coherent states: ``centres`` (m, n) holds per spin a direction, per boson
    the coherent amplitude ``alpha / c`` (re, im). A boson coherent state's Wigner function is a Gaussian
    of variance 1/4 per quadrature of ``alpha``, i.e. ``1 / (4 c^2)`` in the coordinates."""
    c = np.array(centres, float)
    out = np.empty_like(c)
    for (kind, o, size) in problem.blocks:
        if kind == 0:
            out[:, o:o + 3] = sample_coherent(c[:, o:o + 3], problem.S, rng)
        else:
            scale = problem.sig[o]
            out[:, o:o + 2] = c[:, o:o + 2] + rng.normal(0.0, 0.5 / scale, size=(c.shape[0], 2))
    return out


# ------------------------------------------------------------------------------------------------
# the result and the entry point
# ------------------------------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class TruncatedWigner:
    """Time-averaged TWA observables with errors.

    Attributes
    ----------
    name : str; S : float; params : dict
    state_names : tuple of str
        The observables: ``XA, YA, ZA, ...`` (normalised by S, the exact engine's ``observables`` names),
        ``<b>_re, <b>_im`` (``<alpha>/c``) per boson, then ``n_<b>``, ``var_n_<b>`` per boson.
    mean : dict
        ``{name: ensemble and time average over the window [t_burn, t_end]}``.
    error : dict
        ``{name: max(err_traj, err_time)}``: ``err_traj`` the standard error over trajectories of the
        per-trajectory time averages, ``err_time`` the standard error of the ensemble mean over the
        ``n_windows`` time windows (catches slow drifts the trajectory error misses).
    err_traj, err_time, drift : dict
        ``drift``: last window minus first window of the ensemble mean.
    windows : ndarray (n_traj, n_windows, n_observables)
        Per-trajectory window means of the observables (``var_n`` linearised about the ensemble mean).
    status : str
        "ok"; "not_stationary" (for some observable the second half of the averaging window minus the first,
        paired per trajectory, is more than ``STATIONARY_Z`` standard errors from zero: the ensemble is still
        relaxing; lengthen ``t_end`` / ``t_burn``); "diverged" (non-finite values).
    message : str; options : dict
    stats : dict
        ``time_s``, ``n_steps``; ``half_difference``, ``half_difference_err``, ``half_difference_z``
        (per observable: the stationarity test's evidence, :func:`stationarity_contrast`).
    """

    name: str
    S: float
    params: dict
    state_names: tuple
    mean: dict
    error: dict
    err_traj: dict
    err_time: dict
    drift: dict
    windows: np.ndarray
    status: str
    message: str
    options: dict = field(default_factory=dict)
    stats: dict = field(default_factory=dict)

    @property
    def success(self) -> bool:
        return self.status == "ok"

    def to_frame(self) -> pd.DataFrame:
        """One row per observable: ``observable``, ``mean``, ``error``, ``err_traj``, ``err_time``,
        ``drift``, S, the parameters, ``n_traj``, ``status``."""
        rows = [{"system": self.name, "S": self.S, **self.params, "observable": k, "mean": self.mean[k],
                 "error": self.error[k], "err_traj": self.err_traj[k], "err_time": self.err_time[k],
                 "drift": self.drift[k], "n_traj": self.windows.shape[0], "status": self.status}
                for k in self.state_names]
        return pd.DataFrame(rows)


def truncated_wigner(system, S: float, params: Mapping[str, float] | None = None, n_traj: int = 500,
                     t_end: float = 200.0, seed: int | None = 0, *, dt: float = 0.01, t_burn: float | None = None,
                     n_windows: int = 8, initial=None) -> TruncatedWigner:
    """Semiclassical (TWA) ensemble of ``system`` at spin length ``S``: time-averaged observables.

    Parameters
    ----------
    system : bifurcate.spec.OpenSystem
        Spins and bosons; each jump linear in the modes' letters (see the module docstring).
    S : float
        Spin length (any positive number; the TWA is cheap at any S).
    params : mapping, optional
    n_traj : int
        Trajectories (>= 2).
    t_end : float
        Integration time; the averages are over ``[t_burn, t_end]`` (``t_burn`` default ``t_end / 2``).
    seed : int or None
        Seeds the initial samples and the per-trajectory noise.
    dt : float
        Fixed step of the stochastic Heun scheme.
    n_windows : int
        The averaging window is split into this many equal windows (time-window errors).
    initial : None, "random", or array (n,) or (n_traj, n)
        Centres of the initial coherent states, per spin a direction (normalised here), per boson the
        amplitude ``alpha / c`` (re, im): one for all trajectories or one per trajectory. Default (None
        or "random"): uniformly random directions per trajectory (every basin is visited in proportion
        to its volume) and standard-normal boson amplitudes.

    Returns
    -------
    TruncatedWigner
    """
    t0 = time.perf_counter()
    for name, v in (("S", S), ("t_end", t_end), ("dt", dt)):
        if isinstance(v, bool) or not isinstance(v, (int, float, np.integer, np.floating)) or not (
                math.isfinite(v) and v > 0):
            raise ValueError(f"expected {name} a positive finite number, got {v!r}")
    for name, v, lo in (("n_traj", n_traj, 2), ("n_windows", n_windows, 2)):
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < lo:
            raise ValueError(f"expected {name} an integer >= {lo}, got {v!r}")
    if t_burn is None:
        t_burn = 0.5 * t_end
    if not (0 <= t_burn < t_end):
        raise ValueError(f"expected 0 <= t_burn < t_end = {t_end}, got t_burn = {t_burn!r}")
    if seed is not None and (isinstance(seed, (bool, np.bool_)) or not isinstance(seed, (int, np.integer))
                             or seed < 0):
        raise ValueError(f"expected seed None or a non-negative integer, got {seed!r}")
    if t_end / dt > TWA_MAX_STEPS:
        raise ValueError(f"expected at most {TWA_MAX_STEPS:.0e} steps per trajectory (t_end / dt; one trajectory runs "
                         f"in one compiled call, which Ctrl-C cannot stop), got t_end / dt = {t_end / dt:.3g} "
                         f"(t_end = {t_end}, dt = {dt}): a larger dt or a shorter t_end")
    n_steps = int(round(t_end / dt))
    n_burn = int(round(t_burn / dt))
    if (n_steps - n_burn) < n_windows:
        raise ValueError(f"expected at least n_windows = {n_windows} steps after t_burn, got {n_steps - n_burn} "
                         f"(t_end = {t_end}, t_burn = {t_burn}, dt = {dt})")
    P = twa_problem(system, float(S), check_mapping("params", params))   # "J=1" is not a mapping
    n = P.n
    nb = len(P.bosons)
    nf = n + 2 * nb
    # initial directions and samples, seeds, window means and the reductions over them
    check_memory(f"truncated_wigner (n_traj={n_traj} x n_windows={n_windows})",
                 8 * n_traj * ((n + 4 * nb) * (3 * n_windows + 6) + 2), fix="fewer n_traj or n_windows")
    rng = np.random.default_rng(seed)
    if initial is None or (isinstance(initial, str) and initial == "random"):
        dirs = rng.normal(size=(n_traj, n))
    elif isinstance(initial, str):
        raise ValueError(f"expected initial None, 'random' or an array of {n} numbers, got {initial!r}")
    else:
        dirs = np.asarray(initial, float)
        if dirs.shape == (n,):
            dirs = np.tile(dirs, (n_traj, 1))
        if dirs.shape != (n_traj, n) or not np.all(np.isfinite(dirs)):
            raise ValueError(f"expected initial of shape ({n},) or ({n_traj}, {n}), finite, got shape {dirs.shape}")
        for kind, o, size in P.blocks:
            if kind == 0 and np.any(np.linalg.norm(dirs[:, o:o + 3], axis=1) == 0):
                raise ValueError(f"initial: spin {P.state_names[o][1:]} has a zero direction")
    x0 = sample_initial(P, dirs, rng)
    seeds = rng.integers(0, 2 ** 31 - 1, size=n_traj).astype(np.int64)
    out = np.zeros((n_traj, n_windows, nf))
    R = math.sqrt(1.0 + 1.0 / float(S))
    amp = np.sqrt(P.jump_rate / float(S))
    args = P.kernel_args()
    # trajectories in chunks of about 2e7 steps (at least one per thread): Ctrl-C reaches Python between
    # calls; every trajectory has its own seed, so the result does not depend on the chunking
    chunk = max(numba.get_num_threads(), _CHUNK_STEPS // max(1, n_steps))
    for i in range(0, n_traj, chunk):
        _twa_kernel(x0[i:i + chunk], seeds[i:i + chunk], n_steps, n_burn, n_windows, float(dt), *args, amp, R,
                    out[i:i + chunk])
    obs, names = _boson_observables(P, out)
    nobs = obs.shape[2]
    traj = obs.mean(axis=1)                        # (n_traj, nobs)
    ens = obs.mean(axis=0)                         # (n_windows, nobs)
    mean = traj.mean(axis=0)
    e_traj = traj.std(axis=0, ddof=1) / math.sqrt(n_traj)
    e_time = ens.std(axis=0, ddof=1) / math.sqrt(n_windows)
    err = np.maximum(e_traj, e_time)
    drift = ens[-1] - ens[0]
    half, half_err, half_z = stationarity_contrast(obs)
    status, msg = "ok", f"{n_traj} trajectories, t in [{t_burn:g}, {t_end:g}], dt = {dt:g}"
    if not np.all(np.isfinite(out)):
        status, msg = "diverged", msg + "; non-finite values"
    else:
        bad = [i for i in range(nobs) if abs(half_z[i]) > STATIONARY_Z]
        if bad:
            status = "not_stationary"
            ev = ", ".join(f"{names[i]} {half[i]:+.3g} +- {half_err[i]:.2g} (z = {half_z[i]:+.1f})" for i in bad)
            msg += (f"; the second half of the averaging window minus the first (paired per trajectory) differs "
                    f"from zero by more than {STATIONARY_Z:g} errors: {ev}; the ensemble is still relaxing "
                    f"(lengthen t_end / t_burn, or start nearer the steady state)")
    p_all = dict(system.parameters)
    p_all.update({k: float(v) for k, v in (params or {}).items()})
    return TruncatedWigner(name=system.name, S=float(S), params=p_all, state_names=names,
                           mean=dict(zip(names, mean.tolist())), error=dict(zip(names, err.tolist())),
                           err_traj=dict(zip(names, e_traj.tolist())), err_time=dict(zip(names, e_time.tolist())),
                           drift=dict(zip(names, drift.tolist())), windows=obs, status=status, message=msg,
                           options={"n_traj": n_traj, "t_end": t_end, "t_burn": t_burn, "dt": dt,
                                    "n_windows": n_windows, "seed": seed},
                           stats={"time_s": time.perf_counter() - t0, "n_steps": n_steps,
                                  "half_difference": dict(zip(names, half.tolist())),
                                  "half_difference_err": dict(zip(names, half_err.tolist())),
                                  "half_difference_z": dict(zip(names, half_z.tolist()))})


def stationarity_contrast(windows: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Paired test of stationarity over the averaging window.

    ``windows`` (n_traj, n_windows, n_obs): per-trajectory window means. Per trajectory the mean of
    the last ``n_windows // 2`` windows minus the mean of the first ``n_windows // 2`` (the middle
    window is left out when ``n_windows`` is odd); the trajectories are independent, so the standard
    error of the ensemble mean of these differences is their spread over trajectories / sqrt(n_traj),
    whatever the correlation time within a trajectory (the pairing removes each trajectory's own
    offset, which a comparison of the ensemble's window means against their scatter cannot).

    Returns ``(difference, error, z)``, each (n_obs,); ``z = difference / error``, 0 where the
    difference is at the rounding level (an observable conserved on every trajectory).
    """
    w = np.asarray(windows, float)
    n_traj, nw = w.shape[:2]
    h = nw // 2
    d = w[:, nw - h:].mean(axis=1) - w[:, :h].mean(axis=1)          # (n_traj, n_obs)
    diff = d.mean(axis=0)
    err = d.std(axis=0, ddof=1) / math.sqrt(n_traj)
    scale = np.abs(w).mean(axis=(0, 1))
    tiny = np.abs(diff) <= 1e-9 * np.maximum(scale, 1.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(tiny, 0.0, diff / err)
    z = np.where(np.isnan(z), 0.0, z)                             # 0 / 0 only when tiny
    return diff, err, z


def _boson_observables(P: TWAProblem, out: np.ndarray) -> tuple[np.ndarray, tuple]:
    """The reported observables per (trajectory, window) from the kernel's features: the coordinates,
    then per boson ``n_<b>`` (photons, Weyl: ``<a^+ a> = <|alpha|^2>_W - 1/2``) and ``var_n_<b>``
    (``<n^2> - <n>^2`` with ``n^2 -> |alpha|^4 - |alpha|^2``), the latter linearised about the
    ensemble mean so that its spread over trajectories and windows gives the delta-method error."""
    n = P.n
    cols = [out[:, :, :n]]
    names = list(P.state_names)
    for j, b in enumerate(P.bosons):
        c2 = P.boson_scale[j] ** 2
        r2, r4 = out[:, :, n + 2 * j], out[:, :, n + 2 * j + 1]
        nn = c2 * r2 - 0.5
        n2 = c2 * c2 * r4 - c2 * r2
        nbar = nn.mean()
        cols += [nn[:, :, None], (n2 - 2 * nbar * nn + nbar ** 2)[:, :, None]]
        names += [f"n_{b}", f"var_n_{b}"]
    return np.concatenate(cols, axis=2), tuple(names)


# ------------------------------------------------------------------------------------------------
# time series of ensemble means (relaxation of <x(t)>: the Liouvillian's slow modes at large S)
# ------------------------------------------------------------------------------------------------
@njit(parallel=True)
def _twa_series_kernel(x0, seeds, n_steps, stride, dt, h_coef, h_exp, blocks, hfac, vfac, sig, jlr, jli, jc, jG,
                       amp, R, out):
    """Integrate each row of ``x0`` (n_traj, n); ``out[r, i, :]`` = the coordinates after ``i * stride``
    steps (``out.shape[1] = n_steps // stride + 1``). Returns nothing."""
    n_traj, n = x0.shape
    nk = jG.shape[0]
    sq = math.sqrt(dt)
    for r in prange(n_traj):
        np.random.seed(seeds[r])
        x = x0[r].copy()
        f0 = np.empty(n)
        f1 = np.empty(n)
        g0 = np.empty(n)
        g1 = np.empty(n)
        xt = np.empty(n)
        grad = np.empty(n)
        dW = np.empty(2 * nk)
        for i in range(n):
            out[r, 0, i] = x[i]
        for s in range(n_steps):
            for j in range(2 * nk):
                dW[j] = np.random.standard_normal()
            _heun_step(x, dt, sq, h_coef, h_exp, blocks, hfac, vfac, sig, jlr, jli, jc, jG, amp, dW, R,
                       f0, f1, g0, g1, xt, grad)
            if (s + 1) % stride == 0:
                for i in range(n):
                    out[r, (s + 1) // stride, i] = x[i]


@dataclass(frozen=True, eq=False)
class TWASeries:
    """Ensemble means of the TWA coordinates as functions of time (the relaxation of ``<x(t)>``).

    Attributes
    ----------
    t : ndarray (n_t,)
    state_names : tuple of str
        The coordinates (``XA, YA, ZA, ...``: spin components / S; ``<b>_re, <b>_im`` per boson).
    mean : ndarray (n_t, n)
        Ensemble means.
    error : ndarray (n_t, n)
        Standard errors of the means over trajectories (pointwise; the errors at different times are
        correlated, use ``batch_means`` for the error of anything fitted to the whole curve).
    batch_means : ndarray (n_batches, n_t, n)
        Means over ``n_batches`` disjoint groups of trajectories (independent estimates of ``mean``).
    S : float; params : dict; options : dict; stats : dict
    """

    t: np.ndarray
    state_names: tuple
    mean: np.ndarray
    error: np.ndarray
    batch_means: np.ndarray
    S: float
    params: dict
    options: dict = field(default_factory=dict)
    stats: dict = field(default_factory=dict)

    def to_frame(self) -> pd.DataFrame:
        """Long table: ``t``, ``observable``, ``mean``, ``error``, S and the parameters."""
        n_t, n = self.mean.shape
        return pd.DataFrame({"t": np.repeat(self.t, n), "observable": np.tile(self.state_names, n_t),
                             "mean": self.mean.ravel(), "error": self.error.ravel(), "S": self.S, **self.params})


def twa_mean_series(system, S: float, params: Mapping[str, float] | None = None, n_traj: int = 1000,
                    t_end: float = 50.0, seed: int | None = 0, *, initial, dt: float = 0.01, sample_dt: float = 0.1,
                    n_batches: int = 8) -> TWASeries:
    """The TWA ensemble started from one product coherent state: ``<x(t)>`` on a grid of step ``sample_dt``.

    Same stochastic scheme and per-trajectory seeding as :func:`truncated_wigner` (results do not depend on
    the number of threads); ``initial`` (n,) is the coherent state's centre (per spin a direction, per boson
    ``alpha / c``). Trajectories run in chunks; only the sums are kept (memory ``n_t x n`` per chunk row).
    """
    t0 = time.perf_counter()
    for name, v in (("S", S), ("t_end", t_end), ("dt", dt), ("sample_dt", sample_dt)):
        if isinstance(v, bool) or not isinstance(v, (int, float, np.integer, np.floating)) or not (
                math.isfinite(v) and v > 0):
            raise ValueError(f"expected {name} a positive finite number, got {v!r}")
    for name, v, lo in (("n_traj", n_traj, 2), ("n_batches", n_batches, 2)):
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < lo:
            raise ValueError(f"expected {name} an integer >= {lo}, got {v!r}")
    if n_traj < n_batches:
        raise ValueError(f"expected n_traj >= n_batches = {n_batches}, got n_traj = {n_traj}")
    stride = int(round(sample_dt / dt))
    if stride < 1 or abs(stride * dt - sample_dt) > 1e-9 * sample_dt:
        raise ValueError(f"expected sample_dt a positive multiple of dt = {dt}, got sample_dt = {sample_dt!r}")
    if t_end / dt > TWA_MAX_STEPS:
        raise ValueError(f"expected at most {TWA_MAX_STEPS:.0e} steps per trajectory, got t_end / dt = {t_end / dt:.3g}")
    if seed is not None and (isinstance(seed, (bool, np.bool_)) or not isinstance(seed, (int, np.integer))
                             or seed < 0):
        raise ValueError(f"expected seed None or a non-negative integer, got {seed!r}")
    n_samples = int(t_end / sample_dt + 1e-9)
    n_steps = n_samples * stride
    P = twa_problem(system, float(S), check_mapping("params", params))
    n = P.n
    c = np.asarray(initial, float)
    if c.shape != (n,) or not np.all(np.isfinite(c)):
        raise ValueError(f"expected initial a finite array of shape ({n},), got {np.shape(initial)}")
    check_memory(f"twa_mean_series (n_t={n_samples + 1} x n={n} per trajectory)",
                 8 * (n_samples + 1) * n * (n_batches * 2 + 2 * numba.get_num_threads() + 64),
                 fix="a larger sample_dt or a shorter t_end")
    rng = np.random.default_rng(seed)
    x0 = sample_initial(P, np.tile(c, (n_traj, 1)), rng)
    seeds = rng.integers(0, 2 ** 31 - 1, size=n_traj).astype(np.int64)
    R = math.sqrt(1.0 + 1.0 / float(S))
    amp = np.sqrt(P.jump_rate / float(S))
    args = P.kernel_args()
    batch = np.arange(n_traj) * n_batches // n_traj                  # trajectory -> batch, contiguous groups
    sums = np.zeros((n_batches, n_samples + 1, n))
    sq = np.zeros((n_samples + 1, n))
    chunk = max(numba.get_num_threads(), min(64, _CHUNK_STEPS // max(1, n_steps)))
    buf = np.empty((chunk, n_samples + 1, n))
    for i in range(0, n_traj, chunk):
        m = min(chunk, n_traj - i)
        _twa_series_kernel(x0[i:i + m], seeds[i:i + m], n_steps, stride, float(dt), *args, amp, R, buf[:m])
        for b in np.unique(batch[i:i + m]):
            sums[b] += buf[:m][batch[i:i + m] == b].sum(axis=0)
        sq += np.einsum("rtn,rtn->tn", buf[:m], buf[:m])
    counts = np.bincount(batch, minlength=n_batches).astype(float)
    mean = sums.sum(axis=0) / n_traj
    var = np.maximum(sq / n_traj - mean ** 2, 0.0) * n_traj / (n_traj - 1)
    p_all = dict(system.parameters)
    p_all.update({k: float(v) for k, v in (params or {}).items()})
    return TWASeries(t=np.arange(n_samples + 1) * stride * dt, state_names=P.state_names, mean=mean,
                     error=np.sqrt(var / n_traj), batch_means=sums / counts[:, None, None], S=float(S), params=p_all,
                     options={"n_traj": n_traj, "t_end": t_end, "dt": dt, "sample_dt": sample_dt,
                              "n_batches": n_batches, "seed": seed, "initial": c.tolist()},
                     stats={"time_s": time.perf_counter() - t0, "n_steps": n_steps})
