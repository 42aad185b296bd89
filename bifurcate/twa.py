"""Truncated Wigner approximation (TWA) for collective spins: between the exact mechanics and the mean field.

An open system ``d rho/dt = -i[H, rho] + sum_k G_k D[L_k] rho`` (a :class:`bifurcate.spec.OpenSystem`)
is replaced by stochastic classical trajectories of the spin vectors ``s`` (one per spin mode), whose
ensemble reproduces the evolution of the Wigner distribution to leading order in 1/S.

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
than 80 % of the finite-S correction to the mean field. The time averages assume that the ensemble
forgets its initial ensemble within ``t_burn``: where the mean field has several attractors (e.g.
stable fixed points coexisting with cycles) and noise-induced switching is slower than ``t_end``,
the TWA average weights the attractors by the basins of the initial ensemble, not as the unique
exact steady state does; the status does not detect this (only a drift between the time windows,
"not_stationary"). Per-trajectory time averages that keep the memory of a neutral orbit (BTC above
the transition) show up as large ``err_traj``.

Scope: spins only; jumps must be linear in the components of one spin (``S^x, S^y, S^z, S^+, S^-``
with any complex coefficients). Bosons and nonlinear jumps raise ``NotImplementedError`` saying so.

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

__all__ = ["truncated_wigner", "TruncatedWigner", "TWAProblem", "twa_problem", "twa_numpy", "TWA_MAX_STEPS"]

#: steps allowed per trajectory (t_end / dt): one trajectory runs in one compiled call
TWA_MAX_STEPS = 10 ** 8
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
        Spin mode names; the state is ``(X_1, Y_1, Z_1, X_2, ...)`` normalised by S.
    h_coef : ndarray (m,)
        Coefficients of the classical Hamiltonian in normalised variables, divided by S
        (``H(S x) / S = sum_m h_coef[m] prod_j x_j^h_exp[m, j]``).
    h_exp : ndarray (m, 3 n_spins) of int64
    jump_spin : ndarray (k,) of int64
        The spin each jump acts on.
    jump_lr, jump_li : ndarray (k, 3)
        Real and imaginary parts of ``l`` (``L = l . S``).
    jump_rate : ndarray (k,)
        ``G_k S`` (the rate times S: kappa for a ``kappa/S`` jump).
    S : float
    """

    spins: tuple
    h_coef: np.ndarray
    h_exp: np.ndarray
    jump_spin: np.ndarray
    jump_lr: np.ndarray
    jump_li: np.ndarray
    jump_rate: np.ndarray
    S: float

    @property
    def n(self) -> int:
        return 3 * len(self.spins)


def _num(expr, values: dict, S: float, what: str) -> complex:
    from bifurcate.spec import S as S_sym

    e = sp.sympify(expr).subs(values).subs(S_sym, S)
    try:
        return complex(e)
    except TypeError:
        raise ValueError(f"{what}: {expr} is not a number at the given parameters (free symbols "
                         f"{sorted(map(str, e.free_symbols))})") from None


def twa_problem(system, S: float, params: Mapping[str, float] | None = None) -> TWAProblem:
    """Build the :class:`TWAProblem` of ``system`` (spins only, linear one-spin jumps)."""
    modes = [(m.name, m.kind) for m in system.modes]
    bos = [n for n, k in modes if k != "spin"]
    if bos:
        raise NotImplementedError(f"truncated_wigner supports collective spins only; system {system.name!r} has "
                                  f"boson mode(s) {bos}")
    p = dict(system.parameters)
    unknown = set(params or {}) - set(p)
    if unknown:
        raise KeyError(f"unknown parameter(s) {sorted(unknown)} for system {system.name!r}; "
                       f"expected some of {list(p)}")
    p.update({k: float(v) for k, v in (params or {}).items()})
    values = {system.param_symbols[k]: v for k, v in p.items()}
    names = [n for n, _ in modes]
    idx = {n: i for i, n in enumerate(names)}
    X = sp.symbols(f"x0:{3 * len(names)}", real=True)
    letter = {}
    for n, i in idx.items():
        x, y, z = X[3 * i:3 * i + 3]
        letter[n] = {"x": x, "y": y, "z": z, "p": x + sp.I * y, "m": x - sp.I * y}
    H = sp.Integer(0)
    for coeff, ops in system.hamiltonian_terms():
        c = _num(coeff, values, S, "a Hamiltonian coefficient")
        term = sp.Float(c.real) + sp.I * sp.Float(c.imag) if c.imag else sp.Float(c.real)
        for mode, op in ops:
            term = term * S * letter[mode][op]
        H += term
    H = sp.expand(H / S)
    coefs, exps = [], []
    if H != 0:
        poly = sp.Poly(H, *X)
        for mon, c in poly.terms():
            c = complex(c)
            if abs(c.imag) > 1e-10 * max(1.0, abs(c)):
                raise ValueError(f"system {system.name!r}: the classical Hamiltonian is not real (term {c} "
                                 f"x^{mon}); is H Hermitian?")
            if mon == (0,) * len(X):
                continue
            coefs.append(c.real)
            exps.append(mon)
    h_coef = np.array(coefs, float)
    h_exp = np.array(exps, np.int64).reshape(len(coefs), len(X))
    js, lr, li, rate = [], [], [], []
    for k, (r, terms) in enumerate(system.jump_terms()):
        g = _num(r, values, S, f"jumps[{k}] rate")
        spins = {ops[0][0] for _, ops in terms if ops}
        if any(len(ops) != 1 for _, ops in terms) or len(spins) != 1:
            raise NotImplementedError(
                f"truncated_wigner supports jumps linear in the components of one spin (S^x, S^y, S^z, S^+, S^-); "
                f"system {system.name!r} jumps[{k}] has the words {[ops for _, ops in terms]}")
        l = np.zeros(3, complex)
        for coeff, ops in terms:
            c = _num(coeff, values, S, f"jumps[{k}] coefficient")
            l += c * np.array(_LETTER_VEC[ops[0][1]], complex)
        js.append(idx[spins.pop()])
        lr.append(l.real)
        li.append(l.imag)
        rate.append(g.real * S)
    return TWAProblem(spins=tuple(names), h_coef=h_coef, h_exp=h_exp, jump_spin=np.array(js, np.int64),
                      jump_lr=np.array(lr, float).reshape(-1, 3), jump_li=np.array(li, float).reshape(-1, 3),
                      jump_rate=np.array(rate, float), S=float(S))


# ------------------------------------------------------------------------------------------------
# kernels
# ------------------------------------------------------------------------------------------------
@njit
def _cross(a0, a1, a2, x, o, out, w):
    """out[o:o+3] += w * (a x x[o:o+3])."""
    out[o] += w * (a1 * x[o + 2] - a2 * x[o + 1])
    out[o + 1] += w * (a2 * x[o] - a0 * x[o + 2])
    out[o + 2] += w * (a0 * x[o + 1] - a1 * x[o])


@njit
def _drift(x, h_coef, h_exp, jspin, jlr, jli, jrate, grad, out):
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
    for b in range(n // 3):
        o = 3 * b
        _cross(grad[o], grad[o + 1], grad[o + 2], x, o, out, 1.0)
    for k in range(jrate.shape[0]):
        o = 3 * jspin[k]
        lrx = jlr[k, 0] * x[o] + jlr[k, 1] * x[o + 1] + jlr[k, 2] * x[o + 2]
        lix = jli[k, 0] * x[o] + jli[k, 1] * x[o + 1] + jli[k, 2] * x[o + 2]
        _cross(jlr[k, 0], jlr[k, 1], jlr[k, 2], x, o, out, jrate[k] * lix)
        _cross(jli[k, 0], jli[k, 1], jli[k, 2], x, o, out, -jrate[k] * lrx)


@njit
def _noise(x, jspin, jlr, jli, amp, dW, out):
    """out = sum_k amp_k [(l_r x x) dW_k1 + (l_i x x) dW_k2]."""
    for i in range(x.shape[0]):
        out[i] = 0.0
    for k in range(amp.shape[0]):
        o = 3 * jspin[k]
        _cross(jlr[k, 0], jlr[k, 1], jlr[k, 2], x, o, out, amp[k] * dW[2 * k])
        _cross(jli[k, 0], jli[k, 1], jli[k, 2], x, o, out, amp[k] * dW[2 * k + 1])


@njit
def _project(x, R):
    for b in range(x.shape[0] // 3):
        o = 3 * b
        r = math.sqrt(x[o] ** 2 + x[o + 1] ** 2 + x[o + 2] ** 2)
        for i in range(3):
            x[o + i] *= R / r


@njit
def _heun_step(x, dt, sq, h_coef, h_exp, jspin, jlr, jli, jrate, amp, dW, R, f0, f1, g0, g1, xt, grad):
    _drift(x, h_coef, h_exp, jspin, jlr, jli, jrate, grad, f0)
    _noise(x, jspin, jlr, jli, amp, dW, g0)
    for i in range(x.shape[0]):
        xt[i] = x[i] + f0[i] * dt + g0[i] * sq
    _drift(xt, h_coef, h_exp, jspin, jlr, jli, jrate, grad, f1)
    _noise(xt, jspin, jlr, jli, amp, dW, g1)
    for i in range(x.shape[0]):
        x[i] += 0.5 * (f0[i] + f1[i]) * dt + 0.5 * (g0[i] + g1[i]) * sq
    _project(x, R)


@njit(parallel=True)
def _twa_kernel(x0, seeds, n_steps, n_burn, n_windows, dt, h_coef, h_exp, jspin, jlr, jli, jrate, amp, R, out):
    """Integrate each row of ``x0`` (n_traj, n); ``out[r, w, :]`` = mean of x over window w of the
    steps after ``n_burn`` (split into ``n_windows`` equal windows). Returns nothing."""
    n_traj, n = x0.shape
    nk = jrate.shape[0]
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
        dW = np.empty(2 * nk)
        for w in range(n_windows):
            for i in range(n):
                out[r, w, i] = 0.0
        for s in range(n_burn + per * n_windows):
            for j in range(2 * nk):
                dW[j] = np.random.standard_normal()
            _heun_step(x, dt, sq, h_coef, h_exp, jspin, jlr, jli, jrate, amp, dW, R, f0, f1, g0, g1, xt, grad)
            if s >= n_burn:
                w = (s - n_burn) // per
                for i in range(n):
                    out[r, w, i] += x[i] / per


def twa_numpy(problem: TWAProblem, x0: np.ndarray, dW: np.ndarray, dt: float) -> np.ndarray:
    """The numpy twin of the kernel's scheme: ``x0`` (m, n), ``dW`` (n_steps, m, 2k) standard normals.

    Returns the path (n_steps + 1, m, n)."""
    P = problem
    x = np.array(x0, float)
    R = math.sqrt(1.0 + 1.0 / P.S)
    amp = np.sqrt(P.jump_rate / P.S)

    def drift(x):
        out = np.zeros_like(x)
        grad = np.zeros_like(x)
        for c, e in zip(P.h_coef, P.h_exp):
            for j in range(x.shape[1]):
                if e[j]:
                    ee = e.copy()
                    ee[j] -= 1
                    grad[:, j] += c * e[j] * np.prod(x ** ee, axis=1)
        for b in range(len(P.spins)):
            sl = slice(3 * b, 3 * b + 3)
            out[:, sl] += np.cross(grad[:, sl], x[:, sl])
        for k in range(len(P.jump_rate)):
            sl = slice(3 * P.jump_spin[k], 3 * P.jump_spin[k] + 3)
            xs = x[:, sl]
            lrx, lix = xs @ P.jump_lr[k], xs @ P.jump_li[k]
            out[:, sl] += P.jump_rate[k] * (lix[:, None] * np.cross(P.jump_lr[k], xs)
                                            - lrx[:, None] * np.cross(P.jump_li[k], xs))
        return out

    def noise(x, d):
        out = np.zeros_like(x)
        for k in range(len(P.jump_rate)):
            sl = slice(3 * P.jump_spin[k], 3 * P.jump_spin[k] + 3)
            xs = x[:, sl]
            out[:, sl] += amp[k] * (np.cross(P.jump_lr[k], xs) * d[:, 2 * k, None]
                                    + np.cross(P.jump_li[k], xs) * d[:, 2 * k + 1, None])
        return out

    path = [x.copy()]
    for d in dW:
        d = d * math.sqrt(dt)
        f0, g0 = drift(x), noise(x, d)
        xt = x + f0 * dt + g0
        x = x + 0.5 * (f0 + drift(xt)) * dt + 0.5 * (g0 + noise(xt, d))
        for b in range(len(P.spins)):
            sl = slice(3 * b, 3 * b + 3)
            x[:, sl] *= R / np.linalg.norm(x[:, sl], axis=1, keepdims=True)
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
        ``XA, YA, ZA, ...`` (normalised by S, the exact engine's ``observables`` names).
    mean : dict
        ``{name: ensemble and time average over the window [t_burn, t_end]}``.
    error : dict
        ``{name: max(err_traj, err_time)}``: ``err_traj`` the standard error over trajectories of the
        per-trajectory time averages, ``err_time`` the standard error of the ensemble mean over the
        ``n_windows`` time windows (catches slow drifts the trajectory error misses).
    err_traj, err_time, drift : dict
        ``drift``: last window minus first window of the ensemble mean.
    windows : ndarray (n_traj, n_windows, n)
        Per-trajectory window means.
    status : str
        "ok"; "not_stationary" (an observable's first and last windows differ by more than 4 combined
        standard errors: lengthen ``t_end`` / ``t_burn``); "diverged" (non-finite values).
    message : str; options : dict; stats : dict
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
        Spins only; each jump linear in one spin's components (see the module docstring).
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
        Centres of the initial coherent states, per spin a direction (normalised here): one for all
        trajectories or one per trajectory. Default (None or "random"): uniformly random
        directions per trajectory (every basin is visited in proportion to its volume).

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
    # initial directions and samples, seeds, window means and the reductions over them
    check_memory(f"truncated_wigner (n_traj={n_traj} x n_windows={n_windows})",
                 8 * n_traj * (n * (3 * n_windows + 6) + 2), fix="fewer n_traj or n_windows")
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
        for b in range(n // 3):
            if np.any(np.linalg.norm(dirs[:, 3 * b:3 * b + 3], axis=1) == 0):
                raise ValueError(f"initial: spin {P.spins[b]} has a zero direction")
    x0 = sample_coherent(dirs, float(S), rng)
    seeds = rng.integers(0, 2 ** 31 - 1, size=n_traj).astype(np.int64)
    out = np.zeros((n_traj, n_windows, n))
    R = math.sqrt(1.0 + 1.0 / float(S))
    amp = np.sqrt(P.jump_rate / float(S))
    # trajectories in chunks of about 2e7 steps (at least one per thread): Ctrl-C reaches Python between
    # calls; every trajectory has its own seed, so the result does not depend on the chunking
    chunk = max(numba.get_num_threads(), _CHUNK_STEPS // max(1, n_steps))
    for i in range(0, n_traj, chunk):
        _twa_kernel(x0[i:i + chunk], seeds[i:i + chunk], n_steps, n_burn, n_windows, float(dt), P.h_coef, P.h_exp,
                    P.jump_spin, P.jump_lr, P.jump_li, P.jump_rate, amp, R, out[i:i + chunk])
    names = tuple(f"{c}{s}" for s in P.spins for c in "XYZ")
    traj = out.mean(axis=1)                        # (n_traj, n)
    ens = out.mean(axis=0)                         # (n_windows, n)
    mean = traj.mean(axis=0)
    e_traj = traj.std(axis=0, ddof=1) / math.sqrt(n_traj)
    e_time = ens.std(axis=0, ddof=1) / math.sqrt(n_windows)
    err = np.maximum(e_traj, e_time)
    drift = ens[-1] - ens[0]
    drift_err = np.sqrt(2) * out.mean(axis=1).std(axis=0, ddof=1) / math.sqrt(n_traj) * math.sqrt(n_windows)
    status, msg = "ok", f"{n_traj} trajectories, t in [{t_burn:g}, {t_end:g}], dt = {dt:g}"
    if not np.all(np.isfinite(out)):
        status, msg = "diverged", msg + "; non-finite values"
    else:
        bad = [names[i] for i in range(n) if abs(drift[i]) > 4 * max(drift_err[i], e_time[i] * math.sqrt(n_windows))
               and abs(drift[i]) > 1e-12]
        if bad:
            status = "not_stationary"
            msg += f"; the first and last windows differ beyond their errors for {bad} (lengthen t_end or t_burn)"
    p_all = dict(system.parameters)
    p_all.update({k: float(v) for k, v in (params or {}).items()})
    return TruncatedWigner(name=system.name, S=float(S), params=p_all, state_names=names,
                           mean=dict(zip(names, mean.tolist())), error=dict(zip(names, err.tolist())),
                           err_traj=dict(zip(names, e_traj.tolist())), err_time=dict(zip(names, e_time.tolist())),
                           drift=dict(zip(names, drift.tolist())), windows=out, status=status, message=msg,
                           options={"n_traj": n_traj, "t_end": t_end, "t_burn": t_burn, "dt": dt,
                                    "n_windows": n_windows, "seed": seed},
                           stats={"time_s": time.perf_counter() - t0, "n_steps": n_steps})
