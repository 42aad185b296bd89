"""Template of the per-model Lyapunov kernels (variational equations, Benettin QR).

Not used as it stands: :mod:`bifurcate.kernels.codegen` copies the text below the marker into a
generated module whose header binds ``_rhs`` and ``_jac`` to one model's numba kernels by global
name (numba caches such kernels; it never caches one that receives the field as an argument).

Method
------
The joint system ``dy/dt = f(y)``, ``dQ/dt = Df(y) Q`` (Q: n x d, d = phase-space dimension) is
integrated with classical fixed-step RK4. Every ``steps_per_ortho`` steps the columns of Q are
projected on the tangent space of the product of spheres at y (removing the radial components,
so the two radial exponents of S^2 x S^2 embedded in R^6 never leak in), then re-orthonormalised
by modified Gram-Schmidt; ``log |R_ii|`` is accumulated per block of ``orthos_per_block``
re-orthonormalisations (Benettin et al. 1980; Geist, Parlitz & Lauterborn 1990). The state is
renormalised onto the spheres after every step, as in the ODE template.

Why RK4: one trajectory needs ~1e5 joint steps; a fixed step makes the batched kernel branch-free
and the result bitwise independent of the thread count. Its accuracy is checked in the tests
(halving dt changes the exponents by < 1e-6 at dt = 0.01 on the LMG dimer; exact exponents of
linear systems and of the Stuart-Landau cycle to 1e-6).

Status codes: ``SUCCESS = 0``, ``DIVERGED = -3`` (non-finite state or tangent vector, or a
component beyond ``div_bound``), ``DEGENERATE = -4`` (a tangent vector collapsed to zero).
"""
# --- template starts ---
import math

import numpy as np

from bifurcate._numba import njit, prange
from bifurcate.kernels.geometry import project_spheres
from bifurcate.model import tangent_basis_kernel as _tangent_basis

SUCCESS = 0
PAUSED = 1  # internal: the per-call step cap was reached at an re-orthonormalisation time; call again
DIVERGED = -3
DEGENERATE = -4

# phases of a trajectory (one kernel call advances every selected row within one phase)
PHASE_TRANSIENT = 0  # state only, growth not measured
PHASE_ALIGN = 1  # state + tangent vectors, growth factors discarded
PHASE_MEASURE = 2  # state + tangent vectors, growth accumulated per block

# per-trajectory integrator state, kept between calls (resumable)
ST_T = 0  # time integrated since the initial condition (transient included)
ST_H = 1  # proposed step (adaptive methods)
ST_NSTEPS = 2  # accepted steps, all phases (cost accounting)
ST_NFEV = 3  # right-hand side evaluations (one joint evaluation counts once)
ST_NREJ = 4  # rejected steps
ST_KPHASE = 5  # progress in the current phase: steps (transient) or re-orthonormalisations
ST_KSEG = 6  # steps taken in the current measured segment
ST_KSAMP = 7  # samples stored in the current measured segment
ST_LEAK = 8  # largest radial fraction removed from a tangent vector
ST_SPHERE = 9  # largest | |r|^2 - 1 | after a step, before projection
ST_TSEG = 10  # time measured in the current segment
N_ST = 11


@njit
def _aug_field(y, Q, p, fy, dQ, Jw):
    """f(y) -> fy (n,), Df(y) Q -> dQ (n, d); Jw (n, n) workspace."""
    _rhs(y, p, fy)  # noqa: F821  (bound by the generated header)
    _jac(y, p, Jw)  # noqa: F821
    n = y.shape[0]
    d = Q.shape[1]
    for i in range(n):
        for k in range(d):
            acc = 0.0
            for j in range(n):
                acc += Jw[i, j] * Q[j, k]
            dQ[i, k] = acc


@njit
def _rk4_state(y, p, h, k1, k2, k3, k4, yt):
    n = y.shape[0]
    _rhs(y, p, k1)  # noqa: F821
    for i in range(n):
        yt[i] = y[i] + 0.5 * h * k1[i]
    _rhs(yt, p, k2)  # noqa: F821
    for i in range(n):
        yt[i] = y[i] + 0.5 * h * k2[i]
    _rhs(yt, p, k3)  # noqa: F821
    for i in range(n):
        yt[i] = y[i] + h * k3[i]
    _rhs(yt, p, k4)  # noqa: F821
    for i in range(n):
        y[i] += h * (k1[i] + 2.0 * k2[i] + 2.0 * k3[i] + k4[i]) / 6.0


@njit
def _rk4_joint(y, Q, p, h, KY, KQ, yt, Qt, Jw):
    """One RK4 step of (y, Q) in place. KY (4, n), KQ (4, n, d) stage workspaces."""
    n = y.shape[0]
    d = Q.shape[1]
    _aug_field(y, Q, p, KY[0], KQ[0], Jw)
    for s in range(1, 4):
        c = 0.5 * h if s < 3 else h
        for i in range(n):
            yt[i] = y[i] + c * KY[s - 1, i]
            for k in range(d):
                Qt[i, k] = Q[i, k] + c * KQ[s - 1, i, k]
        _aug_field(yt, Qt, p, KY[s], KQ[s], Jw)
    for i in range(n):
        y[i] += h * (KY[0, i] + 2.0 * KY[1, i] + 2.0 * KY[2, i] + KY[3, i]) / 6.0
        for k in range(d):
            Q[i, k] += h * (KQ[0, i, k] + 2.0 * KQ[1, i, k] + 2.0 * KQ[2, i, k] + KQ[3, i, k]) / 6.0


@njit
def _project_tangent(y, Q, blocks):
    """Remove the radial component of every column of Q; returns the largest removed fraction."""
    leak = 0.0
    d = Q.shape[1]
    for k in range(d):
        norm2 = 0.0
        for i in range(Q.shape[0]):
            norm2 += Q[i, k] * Q[i, k]
        rad2 = 0.0
        for b in range(blocks.shape[0]):
            i0 = blocks[b, 0]
            i1 = blocks[b, 1]
            i2 = blocks[b, 2]
            r = math.sqrt(y[i0] * y[i0] + y[i1] * y[i1] + y[i2] * y[i2])
            if r == 0.0:
                continue
            u0 = y[i0] / r
            u1 = y[i1] / r
            u2 = y[i2] / r
            c = u0 * Q[i0, k] + u1 * Q[i1, k] + u2 * Q[i2, k]
            rad2 += c * c
            Q[i0, k] -= c * u0
            Q[i1, k] -= c * u1
            Q[i2, k] -= c * u2
        if norm2 > 0.0:
            frac = math.sqrt(rad2 / norm2)
            if frac > leak:
                leak = frac
    return leak


@njit
def _mgs(Q, logs):
    """Modified Gram-Schmidt in place; adds log |R_kk| to logs (d,). Returns 0 or DEGENERATE."""
    n = Q.shape[0]
    d = Q.shape[1]
    for k in range(d):
        for j in range(k):
            c = 0.0
            for i in range(n):
                c += Q[i, j] * Q[i, k]
            for i in range(n):
                Q[i, k] -= c * Q[i, j]
        nrm = 0.0
        for i in range(n):
            nrm += Q[i, k] * Q[i, k]
        nrm = math.sqrt(nrm)
        if not (nrm > 0.0) or not math.isfinite(nrm):
            return DEGENERATE
        logs[k] += math.log(nrm)
        for i in range(n):
            Q[i, k] /= nrm
    return SUCCESS


@njit
def _check(y, div_bound):
    for i in range(y.shape[0]):
        if not math.isfinite(y[i]) or abs(y[i]) > div_bound:
            return False
    return True


@njit
def _advance(phase, y, Q, p, n_target, dt, call_cap, steps_per_ortho, orthos_per_block, sample_every, blocks,
             free_idx, div_bound, block_logs, block_means, samples, stats, st):
    """Advance one trajectory within ``phase`` until ``st[ST_KPHASE] == n_target`` or the call cap.

    Parameters
    ----------
    phase : PHASE_TRANSIENT (n_target RK4 steps of the state), PHASE_ALIGN or PHASE_MEASURE
        (n_target re-orthonormalisation intervals of ``steps_per_ortho`` steps each).
    y : (n,) state, in place. Q : (n, d) tangent frame, in place (set to the tangent basis at
        the start of PHASE_ALIGN).
    call_cap : at most about this many steps in this call; the kernel stops at the first
        re-orthonormalisation time (or transient step) past it and returns PAUSED.
    block_logs : (n_blocks, d) in/out, sum of log |R_kk| of each block of the segment
        (block = st[ST_KPHASE] // orthos_per_block).
    block_means : (n_blocks, n) in/out, time integral of the state over each block (trapezoid).
    samples : (k, n) out, the state at the segment start and every ``sample_every`` steps.
    stats : (4, n) in/out over all measured time: integral of y, of y^2, min, max.
    st : (N_ST,) in/out integrator state (see ST_*).

    Returns SUCCESS (phase done), PAUSED, DIVERGED or DEGENERATE.
    """
    n = y.shape[0]
    d = Q.shape[1]
    k1 = np.empty(n)
    k2 = np.empty(n)
    k3 = np.empty(n)
    k4 = np.empty(n)
    yt = np.empty(n)
    yp = np.empty(n)
    KY = np.empty((4, n))
    KQ = np.empty((4, n, d))
    Qt = np.empty((n, d))
    Jw = np.empty((n, n))
    scratch = np.zeros(d)
    n_call = 0
    if phase == PHASE_TRANSIENT:
        while st[ST_KPHASE] < n_target:
            if n_call >= call_cap:
                return PAUSED
            _rk4_state(y, p, dt, k1, k2, k3, k4, yt)
            project_spheres(y, blocks)
            st[ST_T] += dt
            st[ST_NSTEPS] += 1.0
            st[ST_NFEV] += 4.0
            st[ST_KPHASE] += 1.0
            n_call += 1
            if not _check(y, div_bound):
                return DIVERGED
        return SUCCESS
    if phase == PHASE_ALIGN and st[ST_KPHASE] == 0.0:
        _tangent_basis(y, blocks, free_idx, Q)
    measure = phase == PHASE_MEASURE
    while st[ST_KPHASE] < n_target:
        if n_call >= call_cap:
            return PAUSED
        if measure and st[ST_KSEG] == 0.0 and st[ST_KSAMP] == 0.0 and samples.shape[0] > 0:
            for i in range(n):
                samples[0, i] = y[i]
            st[ST_KSAMP] = 1.0
        b = int(st[ST_KPHASE]) // orthos_per_block
        for s in range(steps_per_ortho):
            for i in range(n):
                yp[i] = y[i]  # previous state, for the trapezoid rule
            _rk4_joint(y, Q, p, dt, KY, KQ, k1, Qt, Jw)
            if measure:
                for bb in range(blocks.shape[0]):
                    r2 = 0.0
                    for c in range(3):
                        r2 += y[blocks[bb, c]] ** 2
                    if abs(r2 - 1.0) > st[ST_SPHERE]:
                        st[ST_SPHERE] = abs(r2 - 1.0)
            project_spheres(y, blocks)
            st[ST_T] += dt
            st[ST_NSTEPS] += 1.0
            st[ST_NFEV] += 4.0
            n_call += 1
            if not _check(y, div_bound):
                return DIVERGED
            if measure:
                st[ST_KSEG] += 1.0
                st[ST_TSEG] += dt
                for i in range(n):
                    block_means[b, i] += 0.5 * dt * (yp[i] + y[i])
                    stats[0, i] += 0.5 * dt * (yp[i] + y[i])
                    stats[1, i] += 0.5 * dt * (yp[i] * yp[i] + y[i] * y[i])
                    if y[i] < stats[2, i]:
                        stats[2, i] = y[i]
                    if y[i] > stats[3, i]:
                        stats[3, i] = y[i]
                ks = int(st[ST_KSAMP])
                if int(st[ST_KSEG]) % sample_every == 0 and ks < samples.shape[0]:
                    for i in range(n):
                        samples[ks, i] = y[i]
                    st[ST_KSAMP] = ks + 1.0
        if blocks.shape[0] > 0:
            leak = _project_tangent(y, Q, blocks)
            if measure and leak > st[ST_LEAK]:
                st[ST_LEAK] = leak
        if measure:
            status = _mgs(Q, block_logs[b])
        else:
            status = _mgs(Q, scratch)
        if status != SUCCESS:
            return status
        st[ST_KPHASE] += 1.0
    return SUCCESS


@njit(parallel=True)
def lyapunov_batch(phase, Y, Q, P, n_target, dt, call_cap, steps_per_ortho, orthos_per_block, sample_every,
                   blocks, free_idx, div_bound, BLOCK_LOGS, BLOCK_MEANS, SAMPLES, STATS, ST, STATUS):
    """:func:`_advance` for the rows r with ``STATUS[r] == PAUSED``, in parallel; the others are skipped.

    Y : (m, n) and Q : (m, n, d) in place; P : (m, n_params); n_target : (m,) int64;
    BLOCK_LOGS : (m, n_blocks, d); BLOCK_MEANS : (m, n_blocks, n); SAMPLES : (m, k, n);
    STATS : (m, 4, n); ST : (m, N_ST); STATUS : (m,) int64 in/out (PAUSED on entry = run this row).
    Each row is independent and uses a fixed step, so results do not depend on the number of
    threads nor on where the calls were cut (calls end at re-orthonormalisation times).
    """
    m = Y.shape[0]
    for r in prange(m):
        if STATUS[r] != PAUSED:
            continue
        STATUS[r] = _advance(phase, Y[r], Q[r], P[r], n_target[r], dt, call_cap, steps_per_ortho,
                             orthos_per_block, sample_every, blocks, free_idx, div_bound, BLOCK_LOGS[r],
                             BLOCK_MEANS[r], SAMPLES[r], STATS[r], ST[r])
    return 0
