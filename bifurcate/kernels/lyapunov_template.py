"""Template of the per-model Lyapunov kernels (variational equations, Benettin QR).

Not used as it stands: :mod:`bifurcate.kernels.codegen` copies the text below the marker into a
generated module whose header binds ``_rhs`` and ``_jac`` to one model's numba kernels by global
name (numba caches such kernels; it never caches one that receives the field as an argument).

Method
------
The joint system ``dy/dt = f(y)``, ``dQ/dt = Df(y) Q`` (Q: n x d, d = phase-space dimension) is
integrated over intervals of length ``dt_ortho``; at the end of each the columns of Q are
projected on the tangent space of the product of spheres at y (removing the radial components,
so the two radial exponents of S^2 x S^2 embedded in R^6 never leak in), then re-orthonormalised
by modified Gram-Schmidt; ``log |R_ii|`` is accumulated per block of ``orthos_per_block``
intervals (Benettin et al. 1980; Geist, Parlitz & Lauterborn 1990). The state is renormalised
onto the spheres after every step, as in the ODE template. Two steppers:

* DOP853 (default): Dormand-Prince 8(5,3) with Hairer's step control on the joint system. The
  error norm is the RMS over the n state components, scaled by ``atol + rtol max(|y_i|, |y_i'|)``,
  and the n d tangent components, scaled per column by ``atol + rtol max(|q_k|, |q_k'|)``: the
  columns are orthonormal after each re-orthonormalisation, so their error is relative to their
  length and the exponents inherit the tolerance. The last step of an interval is shortened to
  land on it exactly (the interval grid, hence the blocks, are those of the options); if the
  tangent columns' lengths drift apart by more than ``growth_bound`` within an interval they are
  re-orthonormalised at once. Samples of the state come from the 7th-order dense output. A stage
  that overflows rejects the step. Cost on the LMG dimer at the chaotic point (rtol 1e-8): one
  step per interval of 0.1 (the interval caps the step), 13 joint field evaluations per step.
* RK4: classical fixed step ``dt`` (a deterministic step sequence). The first interval of every
  measured block is integrated again with two half steps per step; the local error per step,
  estimated as ``16/15 |z_dt - z_dt/2| / steps_per_ortho`` in the norm above, must not exceed 1,
  else the row stops with ACCURACY. The check costs ~2 extra intervals per block.

The transient integrates the state alone (DOP853 with the same tolerances, or RK4). Rows are
independent, so the batch is bitwise independent of the number of threads; a kernel call stops
after about ``call_cap`` steps at the next re-orthonormalisation time (PAUSED) and the wrapper
calls again, which changes nothing in the arithmetic (the step size is carried over).

Status codes: ``SUCCESS = 0``, ``PAUSED = 1`` (internal), ``MAX_STEPS = -1`` (the step budget
``max_steps`` is spent), ``STEP_TOO_SMALL = -2`` (DOP853: the step fell below 10 eps t: the
tolerance cannot be met), ``DIVERGED = -3`` (non-finite state, or a component beyond
``div_bound``), ``DEGENERATE = -4`` (a tangent vector collapsed to zero), ``ACCURACY = -5``
(RK4: ``dt`` too large for rtol/atol).
"""
# --- template starts ---
import math

import numpy as np

from bifurcate._numba import njit, prange
from bifurcate.kernels.geometry import project_spheres
from bifurcate.model import tangent_basis_kernel as _tangent_basis
from bifurcate.tableaux import DOP853 as _DOP853_T

SUCCESS = 0
PAUSED = 1  # internal: the per-call step cap was reached at a re-orthonormalisation time; call again
MAX_STEPS = -1
STEP_TOO_SMALL = -2
DIVERGED = -3
DEGENERATE = -4
ACCURACY = -5  # RK4: the step-doubling estimate of the local error exceeds the tolerance

METHOD_DOP853 = 1
METHOD_RK4 = 2

# numba freezes module-level arrays into the machine code as constants
DOP_A = _DOP853_T.A
DOP_B = _DOP853_T.B
DOP_E5 = _DOP853_T.E5
DOP_E3 = _DOP853_T.E3
DOP_AX = _DOP853_T.A_extra
DOP_D = _DOP853_T.D

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
ST_ERR = 11  # RK4: largest step-doubling error estimate / tolerance seen (0 if never checked)
ST_HMIN = 12  # adaptive: smallest accepted step over the measured time (0 before the first)
N_ST = 13


@njit
def _aug_field(y, Q, p, fy, dQ, Jw):
    """f(y) -> fy (n,), Df(y) Q -> dQ (n, d); Jw (n, n) workspace.

    With d = 4 tangent vectors (the phase space S^2 x S^2 of the dimer) the four columns of a
    row are summed in four scalar accumulators (each element's sum in the order j = 0, 1, ...
    as in the plain loop below, so the same numbers; ~35 % less time per call, measured)."""
    _rhs(y, p, fy)  # noqa: F821  (bound by the generated header)
    _jac(y, p, Jw)  # noqa: F821
    n = y.shape[0]
    d = Q.shape[1]
    if d == 4:
        for i in range(n):
            a0 = 0.0
            a1 = 0.0
            a2 = 0.0
            a3 = 0.0
            for j in range(n):
                c = Jw[i, j]
                a0 += c * Q[j, 0]
                a1 += c * Q[j, 1]
                a2 += c * Q[j, 2]
                a3 += c * Q[j, 3]
            dQ[i, 0] = a0
            dQ[i, 1] = a1
            dQ[i, 2] = a2
            dQ[i, 3] = a3
        return
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
def _scaled_diff(y, ya, Q, Qa, rtol, atol):
    """RMS over state and tangent components of (y - ya, Q - Qa) / scale (scales as in _dop_step)."""
    n = y.shape[0]
    d = Q.shape[1]
    acc = 0.0
    for i in range(n):
        sc = atol + rtol * max(abs(y[i]), abs(ya[i]))
        acc += ((y[i] - ya[i]) / sc) ** 2
    for k in range(d):
        na = 0.0
        nb = 0.0
        for i in range(n):
            na += Q[i, k] * Q[i, k]
            nb += Qa[i, k] * Qa[i, k]
        sc = atol + rtol * math.sqrt(max(na, nb))
        for i in range(n):
            acc += ((Q[i, k] - Qa[i, k]) / sc) ** 2
    return math.sqrt(acc / (n + n * d))


@njit
def _measure_step(y, ynew, f0, f1, hs, b, block_means, stats):
    """Time integrals over one step (Simpson with the cubic-Hermite midpoint), min and max."""
    for i in range(y.shape[0]):
        ym = 0.5 * (y[i] + ynew[i]) + hs * (f0[i] - f1[i]) / 8.0
        block_means[b, i] += hs * (y[i] + 4.0 * ym + ynew[i]) / 6.0
        stats[0, i] += hs * (y[i] + 4.0 * ym + ynew[i]) / 6.0
        stats[1, i] += hs * (y[i] * y[i] + 4.0 * ym * ym + ynew[i] * ynew[i]) / 6.0
        lo = min(y[i], ynew[i], ym)
        hi = max(y[i], ynew[i], ym)
        if lo < stats[2, i]:
            stats[2, i] = lo
        if hi > stats[3, i]:
            stats[3, i] = hi


@njit
def _sphere_error(y, blocks, st):
    for bb in range(blocks.shape[0]):
        r2 = 0.0
        for c in range(3):
            r2 += y[blocks[bb, c]] ** 2
        if abs(r2 - 1.0) > st[ST_SPHERE]:
            st[ST_SPHERE] = abs(r2 - 1.0)


@njit
def _advance_rk4(phase, y, Q, p, n_target, dt, rtol, atol, max_steps, call_cap, steps_per_ortho, orthos_per_block,
                 sample_every, blocks, free_idx, div_bound, block_logs, block_means, samples, stats, st):
    """Fixed-step RK4 (see :func:`lyapunov_batch`); the first interval of every measured block is
    also integrated with two half steps per step (step doubling), and the local error estimate
    per step, ``16/15 |z_h - z_h/2| / steps_per_ortho`` in the scaled norm of the adaptive method,
    must stay <= 1, else ACCURACY."""
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
    y2 = np.empty(n)
    Q2 = np.empty((n, d))
    f0 = np.empty(n)
    f1 = np.empty(n)
    scratch = np.zeros(d)
    n_call = 0
    if phase == PHASE_TRANSIENT:
        while st[ST_KPHASE] < n_target:
            if n_call >= call_cap:
                return PAUSED
            if st[ST_NSTEPS] >= max_steps:
                return MAX_STEPS
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
        if st[ST_NSTEPS] + steps_per_ortho > max_steps:
            return MAX_STEPS
        if measure and st[ST_KSEG] == 0.0 and st[ST_KSAMP] == 0.0 and samples.shape[0] > 0:
            for i in range(n):
                samples[0, i] = y[i]
            st[ST_KSAMP] = 1.0
        b = int(st[ST_KPHASE]) // orthos_per_block
        probe = measure and int(st[ST_KPHASE]) % orthos_per_block == 0
        if probe:
            for i in range(n):
                y2[i] = y[i]
                for k in range(d):
                    Q2[i, k] = Q[i, k]
            for s in range(2 * steps_per_ortho):
                _rk4_joint(y2, Q2, p, 0.5 * dt, KY, KQ, k1, Qt, Jw)
                project_spheres(y2, blocks)
            st[ST_NFEV] += 8.0 * steps_per_ortho
        for s in range(steps_per_ortho):
            for i in range(n):
                yp[i] = y[i]  # previous state, for the time integrals
            _rk4_joint(y, Q, p, dt, KY, KQ, k1, Qt, Jw)
            if measure:
                _sphere_error(y, blocks, st)
                for i in range(n):
                    f0[i] = KY[0, i]
            project_spheres(y, blocks)
            st[ST_T] += dt
            st[ST_NSTEPS] += 1.0
            st[ST_NFEV] += 4.0
            n_call += 1
            if not _check(y, div_bound):
                return DIVERGED
            if measure:
                _rhs(y, p, f1)  # noqa: F821  (derivative at the new point for the Hermite midpoint)
                st[ST_NFEV] += 1.0
                _measure_step(yp, y, f0, f1, dt, b, block_means, stats)
                st[ST_KSEG] += 1.0
                st[ST_TSEG] += dt
                ks = int(st[ST_KSAMP])
                if int(st[ST_KSEG]) % sample_every == 0 and ks < samples.shape[0]:
                    for i in range(n):
                        samples[ks, i] = y[i]
                    st[ST_KSAMP] = ks + 1.0
        if probe:
            est = 16.0 / 15.0 * _scaled_diff(y, y2, Q, Q2, rtol, atol) / steps_per_ortho
            if not math.isfinite(est):
                est = 1e300
            if est > st[ST_ERR]:
                st[ST_ERR] = est
            if est > 1.0:
                return ACCURACY
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


@njit
def _dop_step(y, Q, p, h, tangent, KY, KQ, yt, Qt, Jw, ynew, Qnew, rtol, atol, W):
    """One DOP853 step of (y, Q) (of y alone if not ``tangent``); KY[0], KQ[0] hold the field
    at (y, Q) on entry, KY[12], KQ[12] the field at (ynew, Qnew) on return. W (2, n, d) workspace.

    Returns the error norm (Hairer's combined 5th/3rd-order estimate, as in SciPy): RMS over the
    n state components with scales ``atol + rtol max(|y_i|, |ynew_i|)`` and the n d tangent
    components with one scale per column, ``atol + rtol max(|q_k|, |qnew_k|)``: the columns are
    orthonormal after each re-orthonormalisation, so their error is relative to their length.

    The stage sums run stage by stage over all n d tangent components at once (a loop the
    compiler vectorises), each component's sum in stage order as before, so the numbers are the
    same; stages with a zero coefficient (16 of 66 in A, 4 of 12 in B, 5 of 13 in E5 and E3) add
    exact zeros and are skipped.
    """
    n = y.shape[0]
    d = Q.shape[1] if tangent else 0
    m = n * d
    KQf = KQ.reshape((KQ.shape[0], KQ.shape[1] * KQ.shape[2]))
    Qf = Q.reshape(Q.shape[0] * Q.shape[1])
    Qtf = Qt.reshape(Qt.shape[0] * Qt.shape[1])
    Qnf = Qnew.reshape(Qnew.shape[0] * Qnew.shape[1])
    A5 = W[0].reshape(W.shape[1] * W.shape[2])
    A3 = W[1].reshape(W.shape[1] * W.shape[2])
    for s in range(1, 12):
        for i in range(n):
            acc = 0.0
            for j in range(s):
                a = DOP_A[s, j]
                if a != 0.0:
                    acc += a * KY[j, i]
            yt[i] = y[i] + h * acc
        for q in range(m):
            A5[q] = 0.0
        for j in range(s):
            a = DOP_A[s, j]
            if a == 0.0:
                continue
            for q in range(m):
                A5[q] += a * KQf[j, q]
        for q in range(m):
            Qtf[q] = Qf[q] + h * A5[q]
        if tangent:
            _aug_field(yt, Qt, p, KY[s], KQ[s], Jw)
        else:
            _rhs(yt, p, KY[s])  # noqa: F821
    for i in range(n):
        acc = 0.0
        for j in range(12):
            b = DOP_B[j]
            if b != 0.0:
                acc += b * KY[j, i]
        ynew[i] = y[i] + h * acc
    for q in range(m):
        A5[q] = 0.0
    for j in range(12):
        b = DOP_B[j]
        if b == 0.0:
            continue
        for q in range(m):
            A5[q] += b * KQf[j, q]
    for q in range(m):
        Qnf[q] = Qf[q] + h * A5[q]
    if tangent:
        _aug_field(ynew, Qnew, p, KY[12], KQ[12], Jw)
    else:
        _rhs(ynew, p, KY[12])  # noqa: F821
    e5 = 0.0
    e3 = 0.0
    for i in range(n):
        sc = atol + rtol * max(abs(y[i]), abs(ynew[i]))
        a5 = 0.0
        a3 = 0.0
        for j in range(13):
            c5 = DOP_E5[j]
            c3 = DOP_E3[j]
            if c5 != 0.0:
                a5 += c5 * KY[j, i]
            if c3 != 0.0:
                a3 += c3 * KY[j, i]
        e5 += (a5 / sc) ** 2
        e3 += (a3 / sc) ** 2
    for q in range(m):
        A5[q] = 0.0
        A3[q] = 0.0
    for j in range(13):
        c5 = DOP_E5[j]
        c3 = DOP_E3[j]
        if c5 != 0.0:
            for q in range(m):
                A5[q] += c5 * KQf[j, q]
        if c3 != 0.0:
            for q in range(m):
                A3[q] += c3 * KQf[j, q]
    for k in range(d):
        na = 0.0
        nb = 0.0
        for i in range(n):
            na += Q[i, k] * Q[i, k]
            nb += Qnew[i, k] * Qnew[i, k]
        sc = atol + rtol * math.sqrt(max(na, nb))
        for i in range(n):
            e5 += (A5[i * d + k] / sc) ** 2
            e3 += (A3[i * d + k] / sc) ** 2
    den = e5 + 0.01 * e3
    if not math.isfinite(den):
        return 1e10  # a stage overflowed: reject and shrink the step
    err = abs(h) * e5 / math.sqrt(den * (n + n * d)) if den > 0.0 else 0.0
    if not math.isfinite(err):
        err = 1e10
    return err


@njit
def _dense_state(y, ynew, p, h, KY, KX, F, ytmp):
    """Coefficients F (7, n) of DOP853's 7th-order interpolant of the state on the step just
    taken (the state stages do not depend on the tangent vectors); KX (3, n) receives the
    three extra stages."""
    n = y.shape[0]
    for s in range(3):
        for i in range(n):
            acc = 0.0
            for j in range(13):
                acc += DOP_AX[s, j] * KY[j, i]
            for j in range(s):
                acc += DOP_AX[s, 13 + j] * KX[j, i]
            ytmp[i] = y[i] + h * acc
        _rhs(ytmp, p, KX[s])  # noqa: F821
    for i in range(n):
        dy = ynew[i] - y[i]
        F[0, i] = dy
        F[1, i] = h * KY[0, i] - dy
        F[2, i] = 2.0 * dy - h * (KY[12, i] + KY[0, i])
        for r in range(4):
            acc = 0.0
            for j in range(13):
                acc += DOP_D[r, j] * KY[j, i]
            for j in range(3):
                acc += DOP_D[r, 13 + j] * KX[j, i]
            F[3 + r, i] = h * acc


@njit
def _dense_eval(y, F, x, out):
    for i in range(y.shape[0]):
        v = 0.0
        for k in range(6, -1, -1):
            v += F[k, i]
            if (6 - k) % 2 == 0:
                v *= x
            else:
                v *= 1.0 - x
        out[i] = v + y[i]


@njit
def _first_step(y, f0, p, order, rtol, atol, span, y1, f1):
    # Hairer, Norsett & Wanner, Sec. II.4 (automatic selection of the first step), state only
    n = y.shape[0]
    d0 = 0.0
    d1 = 0.0
    for i in range(n):
        sc = atol + abs(y[i]) * rtol
        d0 += (y[i] / sc) ** 2
        d1 += (f0[i] / sc) ** 2
    d0 = math.sqrt(d0 / n)
    d1 = math.sqrt(d1 / n)
    h0 = 1e-6 if (d0 < 1e-5 or d1 < 1e-5) else 0.01 * d0 / d1
    h0 = min(h0, span)
    for i in range(n):
        y1[i] = y[i] + h0 * f0[i]
    _rhs(y1, p, f1)  # noqa: F821
    d2 = 0.0
    for i in range(n):
        sc = atol + abs(y[i]) * rtol
        d2 += ((f1[i] - f0[i]) / sc) ** 2
    d2 = math.sqrt(d2 / n) / h0
    if d1 <= 1e-15 and d2 <= 1e-15:
        h1 = max(1e-6, h0 * 1e-3)
    else:
        h1 = (0.01 / max(d1, d2)) ** (1.0 / (order + 1.0))
    return min(100.0 * h0, h1, span)


@njit
def _advance_dop(phase, y, Q, p, n_target, t_end, dt, dt_ortho, rtol, atol, max_steps, call_cap, growth_bound,
                 orthos_per_block, sample_dt, blocks, free_idx, div_bound, block_logs, block_means, samples, stats,
                 st):
    """Adaptive DOP853 (see :func:`lyapunov_batch`). The transient integrates the state alone up
    to time ``t_end``; the other phases integrate (y, Q) over ``n_target`` intervals of exactly
    ``dt_ortho`` (the last step of each is shortened to land on it)."""
    n = y.shape[0]
    d = Q.shape[1]
    KY = np.empty((13, n))
    KQ = np.empty((13, n, d))
    KX = np.empty((3, n))
    F = np.empty((7, n))
    yt = np.empty(n)
    Qt = np.empty((n, d))
    Jw = np.empty((n, n))
    ynew = np.empty(n)
    Qnew = np.empty((n, d))
    W = np.empty((2, n, d))
    scratch = np.zeros(d)
    order = 7.0
    expo = -1.0 / (order + 1.0)
    n_call = 0
    h = st[ST_H]
    if phase == PHASE_TRANSIENT:
        _rhs(y, p, KY[0])  # noqa: F821
        st[ST_NFEV] += 1.0
        if h <= 0.0 and t_end - st[ST_T] > 0.0:
            h = _first_step(y, KY[0], p, order, rtol, atol, t_end - st[ST_T], yt, KY[1])
            st[ST_NFEV] += 1.0
        while True:
            t = st[ST_T]
            remaining = t_end - t
            if remaining <= 1e-12 * max(1.0, abs(t_end)):
                st[ST_H] = h
                return SUCCESS
            if n_call >= call_cap:
                st[ST_H] = h
                return PAUSED
            if st[ST_NSTEPS] >= max_steps:
                st[ST_H] = h
                return MAX_STEPS
            hs = min(h, remaining)
            err = _dop_step(y, Q, p, hs, False, KY, KQ, yt, Qt, Jw, ynew, Qnew, rtol, atol, W)
            st[ST_NFEV] += 12.0
            n_call += 1
            if err > 1.0:
                st[ST_NREJ] += 1.0
                h = hs * max(0.2, 0.9 * err ** expo)
                if h < 10.0 * 2.2e-16 * max(1.0, abs(t)):
                    st[ST_H] = h
                    return STEP_TOO_SMALL
                continue
            fac = 10.0 if err == 0.0 else min(10.0, 0.9 * err ** expo)
            h = max(h, hs * fac) if hs < h else hs * fac
            for i in range(n):
                y[i] = ynew[i]
            project_spheres(y, blocks)
            if blocks.shape[0] > 0:
                _rhs(y, p, KY[0])  # noqa: F821  (the field must belong to the projected state)
                st[ST_NFEV] += 1.0
            else:
                for i in range(n):
                    KY[0, i] = KY[12, i]
            if remaining - hs <= 1e-12 * max(1.0, abs(t_end)):
                st[ST_T] = t_end
            else:
                st[ST_T] = t + hs
            st[ST_NSTEPS] += 1.0
            if not _check(y, div_bound):
                st[ST_H] = h
                return DIVERGED
    if phase == PHASE_ALIGN and st[ST_KPHASE] == 0.0:
        _tangent_basis(y, blocks, free_idx, Q)
    if h <= 0.0:
        _rhs(y, p, KY[0])  # noqa: F821
        h = _first_step(y, KY[0], p, order, rtol, atol, dt_ortho, yt, KY[1])
        st[ST_NFEV] += 2.0
    measure = phase == PHASE_MEASURE
    n_samp = samples.shape[0]
    tiny = 1e-12 * dt_ortho
    while st[ST_KPHASE] < n_target:
        if n_call >= call_cap:
            st[ST_H] = h
            return PAUSED
        if measure and st[ST_KSEG] == 0.0 and st[ST_KSAMP] == 0.0 and n_samp > 0:
            for i in range(n):
                samples[0, i] = y[i]
            st[ST_KSAMP] = 1.0
        kint = st[ST_KPHASE]
        b = int(kint) // orthos_per_block
        tau = 0.0
        dirty = True
        while dt_ortho - tau > tiny:
            if st[ST_NSTEPS] >= max_steps:
                st[ST_H] = h
                return MAX_STEPS
            if dirty:
                _aug_field(y, Q, p, KY[0], KQ[0], Jw)
                st[ST_NFEV] += 1.0
                dirty = False
            rem = dt_ortho - tau
            hs = h
            last = False
            if hs >= rem * (1.0 - 1e-12):
                hs = rem
                last = True
            err = _dop_step(y, Q, p, hs, True, KY, KQ, yt, Qt, Jw, ynew, Qnew, rtol, atol, W)
            st[ST_NFEV] += 12.0
            n_call += 1
            if err > 1.0:
                st[ST_NREJ] += 1.0
                h = hs * max(0.2, 0.9 * err ** expo)
                if h < 10.0 * 2.2e-16 * max(1.0, abs(st[ST_T])):
                    st[ST_H] = h
                    return STEP_TOO_SMALL
                continue
            fac = 10.0 if err == 0.0 else min(10.0, 0.9 * err ** expo)
            # a step shortened to land on the re-orthonormalisation time does not shrink the next one
            h = max(h, hs * fac) if last else hs * fac
            if not _check(ynew, div_bound):
                st[ST_H] = h
                return DIVERGED
            if measure:
                _sphere_error(ynew, blocks, st)
                _measure_step(y, ynew, KY[0], KY[12], hs, b, block_means, stats)
                if st[ST_HMIN] == 0.0 or hs < st[ST_HMIN]:
                    if not last:
                        st[ST_HMIN] = hs
                t_old = kint * dt_ortho + tau
                t_new = kint * dt_ortho + (dt_ortho if last else tau + hs)
                ks = int(st[ST_KSAMP])
                ready = False
                while ks < n_samp and ks * sample_dt <= t_new + tiny:
                    if not ready:
                        _dense_state(y, ynew, p, hs, KY, KX, F, yt)
                        st[ST_NFEV] += 3.0
                        ready = True
                    x = (ks * sample_dt - t_old) / hs
                    _dense_eval(y, F, min(max(x, 0.0), 1.0), samples[ks])
                    ks += 1
                st[ST_KSAMP] = ks
                st[ST_KSEG] += 1.0
                st[ST_TSEG] = t_new
            for i in range(n):
                y[i] = ynew[i]
                for k in range(d):
                    Q[i, k] = Qnew[i, k]
            project_spheres(y, blocks)
            if blocks.shape[0] > 0:
                dirty = True
            else:
                for i in range(n):
                    KY[0, i] = KY[12, i]
                    for k in range(d):
                        KQ[0, i, k] = KQ[12, i, k]
            tau = dt_ortho if last else tau + hs
            st[ST_T] += hs
            st[ST_NSTEPS] += 1.0
            if not last:
                # re-orthonormalise early when the columns' lengths drift far apart (the short
                # ones would lose digits to the long ones)
                lo = np.inf
                hi = 0.0
                for k in range(d):
                    nk = 0.0
                    for i in range(n):
                        nk += Q[i, k] * Q[i, k]
                    lo = min(lo, nk)
                    hi = max(hi, nk)
                if hi > growth_bound * growth_bound * lo:
                    if blocks.shape[0] > 0:
                        _project_tangent(y, Q, blocks)
                    status = _mgs(Q, block_logs[b] if measure else scratch)
                    if status != SUCCESS:
                        st[ST_H] = h
                        return status
                    dirty = True
        if blocks.shape[0] > 0:
            leak = _project_tangent(y, Q, blocks)
            if measure and leak > st[ST_LEAK]:
                st[ST_LEAK] = leak
        status = _mgs(Q, block_logs[b] if measure else scratch)
        if status != SUCCESS:
            st[ST_H] = h
            return status
        st[ST_KPHASE] += 1.0
    st[ST_H] = h
    return SUCCESS


@njit(parallel=True)
def lyapunov_batch(phase, method, Y, Q, P, n_target, t_end, dt, dt_ortho, rtol, atol, max_steps, call_cap,
                   growth_bound, steps_per_ortho, orthos_per_block, sample_every, sample_dt, blocks, free_idx,
                   div_bound, BLOCK_LOGS, BLOCK_MEANS, SAMPLES, STATS, ST, STATUS):
    """Advance the rows r with ``STATUS[r] == PAUSED`` within ``phase``, in parallel; others are skipped.

    Parameters
    ----------
    phase : PHASE_TRANSIENT, PHASE_ALIGN or PHASE_MEASURE.
    method : METHOD_DOP853 (adaptive) or METHOD_RK4 (fixed step ``dt``).
    Y : (m, n) and Q : (m, n, d) in place (Q set to the tangent basis at the start of PHASE_ALIGN).
    P : (m, n_params).
    n_target : (m,) int64; the phase ends when ``ST[r, ST_KPHASE]`` reaches it: RK4 transient
        steps, or re-orthonormalisation intervals (DOP853: of exactly ``dt_ortho``; RK4: of
        ``steps_per_ortho`` steps).
    t_end : DOP853 transient: integrate the state until ``ST[r, ST_T] == t_end``.
    dt : RK4 step (DOP853 chooses its first step, Hairer, Norsett & Wanner Sec. II.4).
    rtol, atol : tolerances (DOP853 step control; RK4 step-doubling check).
    max_steps : total accepted steps allowed per row (MAX_STEPS beyond).
    call_cap : about this many steps per row and call; a call stops at the next
        re-orthonormalisation time (or transient step) past it and returns PAUSED.
    growth_bound : DOP853: re-orthonormalise within an interval when the longest tangent vector
        exceeds the shortest by this factor.
    sample_every (RK4, steps) / sample_dt (DOP853, time): sampling of the measured segment.
    BLOCK_LOGS : (m, n_blocks, d) in/out, sum of log |R_kk| per block of the segment.
    BLOCK_MEANS : (m, n_blocks, n) in/out, time integral of the state per block.
    SAMPLES : (m, k, n) out, the state at the segment start and every sampling interval.
    STATS : (m, 4, n) in/out over all measured time: integral of y, of y^2, min, max.
    ST : (m, N_ST) in/out integrator state (see ST_*).
    STATUS : (m,) int64 in/out (PAUSED on entry = run this row; SUCCESS = phase done).

    Each row is independent, so results do not depend on the number of threads; calls end at
    re-orthonormalisation times and carry the step size over, so they do not depend on where
    the calls were cut either.
    """
    m = Y.shape[0]
    for r in prange(m):
        if STATUS[r] != PAUSED:
            continue
        if method == METHOD_RK4:
            STATUS[r] = _advance_rk4(phase, Y[r], Q[r], P[r], n_target[r], dt, rtol, atol, max_steps, call_cap,
                                     steps_per_ortho, orthos_per_block, sample_every, blocks, free_idx, div_bound,
                                     BLOCK_LOGS[r], BLOCK_MEANS[r], SAMPLES[r], STATS[r], ST[r])
        else:
            STATUS[r] = _advance_dop(phase, Y[r], Q[r], P[r], n_target[r], t_end, dt, dt_ortho, rtol, atol,
                                     max_steps, call_cap, growth_bound, orthos_per_block, sample_dt, blocks,
                                     free_idx, div_bound, BLOCK_LOGS[r], BLOCK_MEANS[r], SAMPLES[r], STATS[r], ST[r])
    return 0
