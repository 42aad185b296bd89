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
DIVERGED = -3
DEGENERATE = -4


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
def lyapunov_one(y, p, dt, n_transient, n_align, n_blocks, orthos_per_block, steps_per_ortho, sample_every,
                 blocks, free_idx, div_bound, block_logs, samples, stats, info):
    """Transient, then the joint state + tangent integration with Benettin QR, for one trajectory.

    Parameters
    ----------
    y : (n,) initial state; overwritten with the final state.
    p : (n_params,)
    dt : fixed RK4 step.
    n_transient : steps of the state alone before the tangent vectors start.
    n_align : re-orthonormalisations whose growth factors are discarded (the tangent vectors
        turn from the tangent basis towards the Lyapunov vectors; without this the estimates
        carry an O(1/t) bias from the initial orientation).
    n_blocks, orthos_per_block, steps_per_ortho : the measured segment has
        ``n_blocks * orthos_per_block * steps_per_ortho`` steps.
    sample_every : store the state every this many steps of the measured segment.
    blocks : (k, 3) int sphere blocks; free_idx : (m,) int Euclidean coordinates.
    div_bound : a component beyond this magnitude counts as divergence.
    block_logs : (n_blocks, d) out: sum of log |R_kk| in each block (d = phase-space dim).
    samples : (n_samples, n) out (rows not reached stay as given).
    stats : (4, n) out: time integral of y and y^2 (trapezoid), min, max over the segment.
    info : (4,) out: time reached, largest radial fraction removed from a tangent vector,
        number of completed blocks, largest sphere-length error before projection.

    Returns a status code.
    """
    n = y.shape[0]
    d = 2 * blocks.shape[0] + free_idx.shape[0]
    k1 = np.empty(n)
    k2 = np.empty(n)
    k3 = np.empty(n)
    k4 = np.empty(n)
    yt = np.empty(n)
    KY = np.empty((4, n))
    KQ = np.empty((4, n, d))
    Qt = np.empty((n, d))
    Jw = np.empty((n, n))
    Q = np.empty((n, d))
    logs = np.zeros(d)
    for i in range(4):
        info[i] = 0.0
    for i in range(n):
        stats[0, i] = 0.0
        stats[1, i] = 0.0
        stats[2, i] = np.inf
        stats[3, i] = -np.inf
    for b in range(n_blocks):
        for k in range(d):
            block_logs[b, k] = 0.0
    t = 0.0
    for s in range(n_transient):
        _rk4_state(y, p, dt, k1, k2, k3, k4, yt)
        project_spheres(y, blocks)
        t += dt
        for i in range(n):
            if not math.isfinite(y[i]) or abs(y[i]) > div_bound:
                info[0] = t
                return DIVERGED
    _tangent_basis(y, blocks, free_idx, Q)
    for o in range(n_align):
        for s in range(steps_per_ortho):
            _rk4_joint(y, Q, p, dt, KY, KQ, k1, Qt, Jw)
            project_spheres(y, blocks)
            t += dt
            for i in range(n):
                if not math.isfinite(y[i]) or abs(y[i]) > div_bound:
                    info[0] = t
                    return DIVERGED
        if blocks.shape[0] > 0:
            _project_tangent(y, Q, blocks)
        if _mgs(Q, logs) != SUCCESS:
            info[0] = t
            return DEGENERATE
    ks = 0
    step = 0
    for i in range(n):
        if ks < samples.shape[0]:
            samples[ks, i] = y[i]
    if samples.shape[0] > 0:
        ks = 1
    status = SUCCESS
    for b in range(n_blocks):
        for k in range(d):
            logs[k] = 0.0
        for o in range(orthos_per_block):
            for s in range(steps_per_ortho):
                for i in range(n):
                    yt[i] = y[i]  # previous state, for the trapezoid rule
                _rk4_joint(y, Q, p, dt, KY, KQ, k1, Qt, Jw)
                for bb in range(blocks.shape[0]):
                    r2 = 0.0
                    for c in range(3):
                        r2 += y[blocks[bb, c]] ** 2
                    if abs(r2 - 1.0) > info[3]:
                        info[3] = abs(r2 - 1.0)
                project_spheres(y, blocks)
                t += dt
                step += 1
                for i in range(n):
                    if not math.isfinite(y[i]) or abs(y[i]) > div_bound:
                        status = DIVERGED
                if status != SUCCESS:
                    break
                for i in range(n):
                    stats[0, i] += 0.5 * dt * (yt[i] + y[i])
                    stats[1, i] += 0.5 * dt * (yt[i] * yt[i] + y[i] * y[i])
                    if y[i] < stats[2, i]:
                        stats[2, i] = y[i]
                    if y[i] > stats[3, i]:
                        stats[3, i] = y[i]
                if step % sample_every == 0 and ks < samples.shape[0]:
                    for i in range(n):
                        samples[ks, i] = y[i]
                    ks += 1
            if status != SUCCESS:
                break
            if blocks.shape[0] > 0:
                leak = _project_tangent(y, Q, blocks)
                if leak > info[1]:
                    info[1] = leak
            status = _mgs(Q, logs)
            if status != SUCCESS:
                break
        if status != SUCCESS:
            break
        for k in range(d):
            block_logs[b, k] = logs[k]
        info[2] += 1.0
    info[0] = t
    return status


@njit(parallel=True)
def lyapunov_batch(Y0, P, dt, n_transient, n_align, n_blocks, orthos_per_block, steps_per_ortho, sample_every,
                   blocks, free_idx, div_bound, YF, BLOCK_LOGS, SAMPLES, STATS, INFO, STATUS):
    """:func:`lyapunov_one` for m independent (state, parameter) pairs, in parallel.

    Y0 : (m, n); P : (m, n_params); YF : (m, n); BLOCK_LOGS : (m, n_blocks, d);
    SAMPLES : (m, n_samples, n); STATS : (m, 4, n); INFO : (m, 4); STATUS : (m,) int64.
    Each trajectory is independent and uses a fixed step, so results do not depend on the
    number of threads.
    """
    m = Y0.shape[0]
    for r in prange(m):
        y = Y0[r].copy()
        STATUS[r] = lyapunov_one(y, P[r], dt, n_transient, n_align, n_blocks, orthos_per_block, steps_per_ortho,
                                 sample_every, blocks, free_idx, div_bound, BLOCK_LOGS[r], SAMPLES[r],
                                 STATS[r], INFO[r])
        for i in range(Y0.shape[1]):
            YF[r, i] = y[i]
    return 0
