"""Limit cycles: orthogonal-collocation continuation, Floquet multipliers, LPC / PD / NS detection,
branch switching at period doubling, and two-parameter sampling of LPC / PD curves.

Public API
----------
continue_cycles(model, start, param=..., params=..., options=...) -> CycleBranch
switch_at_pd(branch_or_point, ...) -> CycleBranch (the doubled cycle)
switch_at_bpc(point, ...) -> CycleBranch (the branch crossing at a branch point of cycles)
sample_codim2(...) -> Branch of LPC / PD points in two parameters
CycleOptions, CycleBranch
"""
from __future__ import annotations

from typing import Any, Mapping

import numpy as np

from bifurcate.cycles.collocation import Collocation, CycleOptions
from bifurcate.cycles.continuation import STATUS_MESSAGES, CycleBranch, CycleStart, run_continuation
from bifurcate.model import Model
from bifurcate.results import BifurcationPoint

__all__ = ["continue_cycles", "CycleOptions", "CycleBranch", "STATUS_MESSAGES", "switch_at_pd", "switch_at_bpc",
           "sample_codim2", "continue_cycle_codim2",
           "hopf_start", "orbit_start"]


def _options(options, overrides) -> CycleOptions:
    return CycleOptions.from_options(options, **(overrides or {}))


def _uniform_mesh(ntst: int) -> np.ndarray:
    return np.linspace(0.0, 1.0, int(ntst) + 1)


def hopf_start(model: Model, state, params: Mapping[str, float], param: str, omega: float,
               eigenvector=None, options: CycleOptions | None = None) -> CycleStart:
    """The start of a cycle branch at a Hopf point: the equilibrium as a constant orbit of period
    2 pi / omega and, as initial direction, the eigenfunction Re(q exp(2 pi i t)).

    Parameters
    ----------
    model : Model
    state : (n,) the equilibrium at the Hopf point
    params : dict, all parameters at the Hopf point
    param : str, the continuation parameter
    omega : float > 0, the Hopf frequency (eigenvalues +- i omega)
    eigenvector : (n,) complex, optional; J q = i omega q. Computed from the Jacobian if omitted.
    """
    opts = CycleOptions.from_options(options)
    x0 = model.check_state(state)
    p = model.pack_params(params)
    ip = model.param_index(param)
    omega = float(omega)
    if not (np.isfinite(omega) and omega > 0):
        raise ValueError(f"expected a Hopf frequency omega > 0, got {omega}")
    Jm = model.jacobian(x0, params)
    if eigenvector is None:
        w, V = np.linalg.eig(Jm)
        k = int(np.argmin(np.abs(w - 1j * omega)))
        if abs(w[k] - 1j * omega) > 1e-3 * max(1.0, omega):
            raise ValueError(f"expected an eigenvalue near i*omega = {1j * omega} at the Hopf point, nearest is "
                             f"{w[k]}")
        q = V[:, k]
    else:
        q = np.asarray(eigenvector, dtype=complex)
        if q.shape != (model.n,):
            raise ValueError(f"expected an eigenvector of shape ({model.n},), got {q.shape}")
    q = q / np.linalg.norm(q)
    coll = Collocation(model, p, ip, _uniform_mesh(opts.ntst), opts.ncol)
    t = coll.times()
    E = np.real(q[None, :] * np.exp(2j * np.pi * t)[:, None])
    X0 = coll.pack(np.repeat(x0[None, :], coll.N, axis=0), 2 * np.pi / omega, p[ip])
    tau = coll.pack(E, 0.0, 0.0)
    tau /= coll.norm(tau)
    return CycleStart(coll, X0, tau, origin="HB", from_equilibrium=True,
                      info={"omega": omega, "hopf_param": float(p[ip])})


def orbit_start(model: Model, t, y, params: Mapping[str, float], param: str,
                options: CycleOptions | None = None) -> CycleStart:
    """The start of a cycle branch from samples ``(t, y)`` of one period of a simulated orbit.

    ``t`` (k,) increasing, with ``t[-1] - t[0]`` the period; ``y`` (k, n), ``y[-1]`` close to ``y[0]``.
    """
    from scipy.interpolate import CubicSpline

    opts = CycleOptions.from_options(options)
    t = np.asarray(t, dtype=float)
    y = np.asarray(y, dtype=float)
    if t.ndim != 1 or y.shape != (t.size, model.n) or t.size < 8:
        raise ValueError(f"expected samples t (k,) and y (k, {model.n}) with k >= 8, got {t.shape} and {y.shape}")
    if not np.all(np.diff(t) > 0):
        raise ValueError("expected strictly increasing sample times t")
    if not np.all(np.isfinite(y)):
        raise ValueError("expected finite samples y, got non-finite values")
    T = t[-1] - t[0]
    scale = max(float(np.max(np.ptp(y, axis=0))), 1e-12)
    gap = float(np.max(np.abs(y[-1] - y[0])))  # max-norm: no overflow for huge (diverging) samples
    if gap > 0.05 * scale:
        raise ValueError(f"expected samples covering exactly one period (|y[-1] - y[0]| small), got a gap of "
                         f"{gap:.3g} for an orbit of extent {scale:.3g}")
    yy = y.copy()
    yy[-1] = yy[0]
    spl = CubicSpline((t - t[0]) / T, yy, bc_type="periodic")
    p = model.pack_params(params)
    ip = model.param_index(param)
    coll = Collocation(model, p, ip, _uniform_mesh(opts.ntst), opts.ncol)
    U = spl(coll.times())
    X0 = coll.pack(U, T, p[ip])
    tau = np.zeros(coll.nx)
    tau[-1] = 1.0
    return CycleStart(coll, X0, tau, origin="orbit", from_equilibrium=False, info={"period_guess": T})


def _hopf_from_point(model, pt: BifurcationPoint, param):
    if pt.kind != "HB":
        raise ValueError(f"expected a Hopf point (kind 'HB') to start cycles, got kind {pt.kind!r}")
    if "omega" not in pt.data:
        raise ValueError("expected the Hopf point to carry data['omega'] (the Hopf frequency)")
    prm = param or getattr(pt, "param_name", None) or pt.data.get("param_name")
    return pt.state, pt.params, prm, pt.data["omega"], pt.data.get("eigenvector")


def continue_cycles(model: Model, start: Any, *, param: str | None = None,
                    params: Mapping[str, float] | None = None, options: CycleOptions | None = None,
                    **option_overrides) -> CycleBranch:
    """Continue a branch of periodic orbits in one parameter by orthogonal collocation.

    Parameters
    ----------
    model : Model
    start : BifurcationPoint, tuple, Trajectory or (t, y)
        * a Hopf point (``kind == "HB"``, with ``state``, ``params`` and ``data["omega"]``) from the
          equilibrium continuation;
        * a tuple ``(state, params, param, omega)`` or ``(state, params, param, omega, eigenvector)``;
        * a :class:`~bifurcate.integrate.Trajectory` or a pair ``(t, y)`` sampling exactly one
          period of a periodic orbit (e.g. from simulation; ``y[-1]`` close to ``y[0]``).
    param : str
        Continuation parameter (required unless the start names it).
    params : dict, optional
        Other parameters (defaults: the start's, then the model's).
    options : CycleOptions, optional
        A plain :class:`~bifurcate.continuation.ContinuationOptions` is read too, its fields as they
        are and the cycle fields at their defaults (:meth:`CycleOptions.from_options`).
    **option_overrides
        Fields of :class:`CycleOptions`, e.g. ``max_steps=299`` (or its alias ``max_points=300``),
        ``p_max=1.5``.

    Returns
    -------
    CycleBranch
        ``kind == "cycle"``; ``.to_frame()`` has ``period``, ``amplitude``, ``norm_l2``,
        ``min_*``/``max_*``/``mean_*`` of each state variable, ``stable``, ``n_unstable`` and the
        multipliers (``ev0`` the trivial one, then the nontrivial tangent-space multipliers by
        decreasing modulus); ``.points`` the LPC / PD / NS / BPC points (a BPC is a converged
        branch point of the minimally augmented system where it converged: ``data`` has
        ``located_by``, ``bpc_residual``, ``bpc_beta``, ``bpc_locate`` and, for one found beside a
        fold where the multipliers are not trusted, ``found_at_fold``); ``status``/``message``
        (see :data:`STATUS_MESSAGES`; degenerate vertical families and homoclinic limits stop
        with statuses -2 and -3).

    Examples
    --------
    >>> from bifurcate.models import STUART_LANDAU
    >>> br = continue_cycles(STUART_LANDAU, ([0.0, 0.0], {"mu": 0.0}, "mu", 1.0), max_points=20)
    >>> bool(abs(br.columns["amplitude"][-1] - br.param_values[-1] ** 0.5) < 1e-6)
    True
    """
    if not isinstance(model, Model):
        raise TypeError(f"expected a Model, got {type(model).__name__}")
    opts = _options(options, option_overrides)
    from bifurcate.integrate import Trajectory

    if isinstance(start, BifurcationPoint):
        state, hp, prm, omega, vec = _hopf_from_point(model, start, param)
        if prm is None:
            raise ValueError("expected param=... (the Hopf point does not name its parameter)")
        allp = model.params({**dict(hp), **dict(params or {})})
        cs = hopf_start(model, state, allp, prm, omega, vec, opts)
    elif isinstance(start, Trajectory):
        if param is None:
            raise ValueError("expected param=... to continue a simulated orbit")
        prm = param
        allp = model.params({**dict(start.params), **dict(params or {})})
        cs = orbit_start(model, start.t, start.y, allp, prm, opts)
    elif isinstance(start, tuple) and len(start) == 2:
        if param is None:
            raise ValueError("expected param=... to continue a simulated orbit")
        prm = param
        allp = model.params(params)
        cs = orbit_start(model, start[0], start[1], allp, prm, opts)
    elif isinstance(start, tuple) and len(start) in (4, 5):
        state, hp, prm, omega = start[:4]
        vec = start[4] if len(start) == 5 else None
        if param is not None and param != prm:
            raise ValueError(f"param={param!r} disagrees with the start's parameter {prm!r}")
        allp = model.params({**dict(hp or {}), **dict(params or {})})
        cs = hopf_start(model, state, allp, prm, omega, vec, opts)
    else:
        raise TypeError("expected start to be a Hopf BifurcationPoint, a tuple (state, params, param, omega"
                        "[, eigenvector]), a Trajectory, or samples (t, y); got " + type(start).__name__)
    return run_continuation(model, prm, allp, cs, opts)


from bifurcate.cycles.switching import switch_at_bpc, switch_at_pd  # noqa: E402
from bifurcate.cycles.codim2 import continue_cycle_codim2, sample_codim2  # noqa: E402
