"""Steady-state magnetisations from quantum Monte-Carlo trajectories, for S beyond the Liouvillian.

Each trajectory (``qutip.mcsolve``, a pure state of dimension ``(2S+1)^2`` instead of a Liouvillian
of ``(2S+1)^4``) is run to ``t_end``; its time average over ``[t_burn, t_end]`` estimates the
steady-state expectation (the steady state is unique, so the process is ergodic). Trajectories are
independent, so the error bar is the standard error *across trajectories* of these per-trajectory
averages; the correlation within one trajectory only widens the spread between trajectories and is
therefore accounted for. The bias from a too short ``t_burn`` is not in the error bar: compare two
burn-in times (``burn_in_drift`` in the result) before trusting a number.

References
----------
K. Molmer, Y. Castin and J. Dalibard, JOSA B 10, 524 (1993); Kothe & Kirton, Eq. (5).
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Mapping

import numpy as np
import pandas as pd

from .operators import dimer_operators, qutip_model, to_qobj, validate_params, validate_spin

__all__ = ["TrajectoryEstimate", "quantum_trajectories"]

_OBS = ("ZA", "ZB", "X2A", "X2B")


@dataclass(frozen=True, eq=False)
class TrajectoryEstimate:
    """Trajectory estimate of steady-state observables with error bars.

    Attributes
    ----------
    S : float
    params : dict
    mean : dict
        ``ZA, ZB, X2A, X2B`` (normalised as in :class:`~bifurcate.quantum.steady.SteadyState`).
    sem : dict
        Standard errors across trajectories.
    per_trajectory : DataFrame (n_traj rows)
        Each trajectory's time average over ``[t_burn, t_end]``.
    burn_in_drift : dict
        Mean over ``[t_burn, t_mid]`` minus mean over ``[t_mid, t_end]``, in units of the sem
        (|drift| >~ 3 says that ``t_burn`` is too short).
    times : ndarray (n_t,)
    mean_trace : dict of ndarray (n_t,)
        Trajectory-averaged time traces.
    status, message : str
    stats : dict
    """

    S: float
    params: dict
    mean: dict
    sem: dict
    per_trajectory: pd.DataFrame
    burn_in_drift: dict
    times: np.ndarray
    mean_trace: dict
    status: str
    message: str
    stats: dict = field(default_factory=dict)

    def to_frame(self) -> pd.DataFrame:
        """One row: ``S``, parameters, each observable and its ``<name>_sem``, status."""
        row = {"S": self.S, **self.params}
        for k in _OBS:
            row[k] = self.mean[k]
            row[f"{k}_sem"] = self.sem[k]
        row.update(status=self.status, message=self.message, n_traj=self.stats.get("n_traj"),
                   time_s=self.stats.get("time_s"))
        return pd.DataFrame([row])


def _initial_state(S, psi0, rng):
    import qutip

    n = int(round(2 * S)) + 1
    if psi0 == "normal":  # the mean-field normal state: A down, B up
        return qutip.tensor(qutip.basis(n, n - 1), qutip.basis(n, 0))
    if psi0 == "random_coherent":
        th = np.arccos(rng.uniform(-1, 1, 2))
        ph = rng.uniform(-np.pi, np.pi, 2)
        return qutip.tensor(qutip.spin_coherent(S, th[0], ph[0]), qutip.spin_coherent(S, th[1], ph[1]))
    if hasattr(psi0, "dims"):
        return psi0
    raise ValueError(f"expected psi0 'normal', 'random_coherent' or a qutip ket, got {psi0!r}")


def quantum_trajectories(S, params: Mapping | None = None, *, n_traj: int = 64, t_end: float = 200.0,
                         t_burn: float = 50.0, dt: float = 0.5, psi0="normal", seed: int = 0,
                         n_workers: int = 1) -> TrajectoryEstimate:
    """Steady-state ``ZA, ZB, <Sx^2>/S^2`` from ``n_traj`` quantum-jump trajectories (``qutip.mcsolve``).

    Parameters
    ----------
    S : spin length
    params : dict, optional
        ``g, gamma, J, lam``.
    n_traj : int
        Number of trajectories (>= 2, for an error bar).
    t_end, t_burn, dt : float
        Horizon, discarded transient and sampling interval (units of 1/g).
    psi0 : {"normal", "random_coherent"} or qutip ket
        Initial state (``"random_coherent"``: one product of random spin coherent states, drawn from ``seed``).
    seed : int
        Seeds the initial state and ``mcsolve`` (reproducible).
    n_workers : int
        1: serial; > 1: QuTiP's parallel map with that many processes.

    Returns
    -------
    TrajectoryEstimate
    """
    import qutip

    S = validate_spin(S)
    p = validate_params(params)
    if not (isinstance(n_traj, (int, np.integer)) and n_traj >= 2):
        raise ValueError(f"expected n_traj an integer >= 2, got {n_traj!r}")
    if not (np.isfinite(t_end) and np.isfinite(t_burn) and np.isfinite(dt) and 0 <= t_burn < t_end and dt > 0):
        raise ValueError(f"expected 0 <= t_burn < t_end and dt > 0, got t_burn={t_burn!r}, t_end={t_end!r}, dt={dt!r}")
    if p["gamma"] <= 0:
        raise ValueError(f"expected gamma > 0, got {p['gamma']!r}")
    t0 = time.perf_counter()
    rng = np.random.default_rng(seed)
    H, c_ops = qutip_model(S, p)
    d = dimer_operators(S)
    e_ops = [to_qobj(d.zA / S, S), to_qobj(d.zB / S, S), to_qobj((d.xA @ d.xA) / S ** 2, S),
             to_qobj((d.xB @ d.xB) / S ** 2, S)]
    state = _initial_state(S, psi0, rng)
    times = np.arange(0.0, t_end + 0.5 * dt, dt)
    opts = {"keep_runs_results": True, "progress_bar": False, "store_states": False,
            "map": "serial" if n_workers == 1 else "parallel"}
    if n_workers > 1:
        opts["num_cpus"] = int(n_workers)
    res = qutip.mcsolve(H, state, times, c_ops, e_ops=e_ops, ntraj=int(n_traj), seeds=int(seed), options=opts)
    runs = [np.asarray(r, dtype=float) for r in res.runs_expect]  # each (n_traj, n_t)
    late = times >= t_burn
    mid = t_burn + 0.5 * (t_end - t_burn)
    first, second = late & (times < mid), times >= mid
    mean, sem, drift, traces, per = {}, {}, {}, {}, {}
    for name, R in zip(_OBS, runs):
        avg = R[:, late].mean(axis=1)
        per[name] = avg
        mean[name] = float(avg.mean())
        sem[name] = float(avg.std(ddof=1) / np.sqrt(len(avg)))
        a, b = R[:, first].mean(axis=1), R[:, second].mean(axis=1)
        dd = a - b
        sd = dd.std(ddof=1) / np.sqrt(len(dd))
        drift[name] = float(dd.mean() / sd) if sd > 0 else 0.0
        traces[name] = R.mean(axis=0)
    status = "ok"
    msg = f"{n_traj} trajectories, t in [{t_burn}, {t_end}]: ZB = {mean['ZB']:.4f} +- {sem['ZB']:.4f}"
    if max(abs(v) for v in drift.values()) > 4:
        status = "warning"
        msg += "; burn-in drift > 4 sem: increase t_burn / t_end"
    return TrajectoryEstimate(S=S, params=p, mean=mean, sem=sem, per_trajectory=pd.DataFrame(per),
                              burn_in_drift=drift, times=times, mean_trace=traces, status=status, message=msg,
                              stats={"n_traj": int(n_traj), "time_s": time.perf_counter() - t0, "seed": int(seed),
                                     "dim": int(H.shape[0])})
