"""Liouvillian spectra against mean-field stability: the quantum-classical correspondence.

:func:`spectral_correspondence` puts, at one parameter point, the low Liouvillian spectrum of an
open system at several spin lengths ``S`` next to what the mean field predicts for it:

* a **stable fixed point** with tangent eigenvalues ``l_1 .. l_d`` predicts eigenvalues near the
  sums ``sum_i n_i l_i`` (``n_i`` non-negative integers, not all zero): the Liouvillian linearised
  about a stable point is a set of damped harmonic modes whose excitations add. A symmetry-related
  set of ``m`` stable fixed points (e.g. a mirror pair) predicts every such eigenvalue ``m``-fold,
  split at finite ``S`` by tunnelling: the extra copies approach the steady state's ``0`` (the gap
  closes, exponentially in ``S`` for tunnelling through a barrier);
* a **stable limit cycle** of angular frequency ``omega = 2 pi / T`` with nontrivial Floquet
  exponents ``mu_i`` predicts bands ``i k omega + sum_i n_i mu_i``; the band ``i k omega``
  (``n = 0``) lies on the imaginary axis in the mean field, and at finite ``S`` its real parts are
  negative and shrink as ``S`` grows (phase diffusion of the cycle, the boundary-time-crystal
  signature).

For each predicted eigenvalue the nearest computed eigenvalue (any sector, the steady state's 0
excluded) is matched at each ``S``; the distances' trend in ``S`` is fitted by a power law
``d ~ S^-a`` (``a ~ 1`` expected). The spectral gap (the slowest non-zero decay rate, all sectors)
is fitted by three two-parameter models in ``log(gap)``: exponential closing ``c e^{-b S}``, power-law
closing ``c S^-b`` and a finite limit ``g_inf + c / S``; their residual sums of squares and AIC
(``n log(RSS/n) + 2k``) are reported, and a model is chosen only when its AIC is lower than the
others' by more than 2 (else "undecided").

Statuses
--------
``success``: every checked prediction (the ``n_check`` slowest per attractor) is closer to its match
at the largest ``S`` than at the smallest and the fitted power is ``a >= min_power`` (0.3); ``undecided``: some are
not (the evidence is in :meth:`SpectralCorrespondence.to_frame`), or fewer than three ``S`` values;
``failed``: no stable attractor was found or no spectrum could be computed.
"""
from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field
from typing import Mapping, Sequence

import numpy as np
import pandas as pd

from bifurcate.validation import check_count, check_range

__all__ = ["spectral_correspondence", "SpectralCorrespondence", "fixed_point_prediction", "cycle_prediction",
           "fit_gap_trend", "cycle_floquet"]


# ------------------------------------------------------------------------------------------------
# predictions
# ------------------------------------------------------------------------------------------------
def fixed_point_prediction(eigenvalues, order: int = 3, n_keep: int = 12) -> np.ndarray:
    """The slowest ``n_keep`` non-zero sums ``sum_i n_i l_i`` (``0 <= sum n_i <= order``) of the
    tangent eigenvalues ``l`` of a stable fixed point, sorted by decreasing real part (then by
    imaginary part). Returns complex (m,) with m <= n_keep."""
    lam = np.asarray(eigenvalues, dtype=complex).ravel()
    if lam.size == 0:
        raise ValueError("expected at least one tangent eigenvalue, got none")
    if not np.all(lam.real < 0):
        raise ValueError(f"expected the eigenvalues of a stable fixed point (all Re < 0), got {lam}")
    out = []
    for n in itertools.product(range(order + 1), repeat=lam.size):
        if 0 < sum(n) <= order:
            out.append(np.dot(n, lam))
    out = np.unique(np.round(np.array(out), 12))
    out = out[np.lexsort((out.imag, -out.real))]
    return out[:n_keep]


def cycle_prediction(omega: float, floquet_exponents, k_max: int = 3, order: int = 1) -> np.ndarray:
    """The bands ``i k omega + sum_i n_i mu_i`` (``|k| <= k_max``, ``sum n_i <= order``), the steady
    state's 0 excluded, sorted by decreasing real part then |Im|."""
    if not (math.isfinite(omega) and omega > 0):
        raise ValueError(f"expected omega > 0, got {omega!r}")
    mu = np.asarray(floquet_exponents, dtype=complex).ravel()
    combos = [0j]
    for n in itertools.product(range(order + 1), repeat=mu.size):
        if 0 < sum(n) <= order:
            combos.append(np.dot(n, mu))
    out = [1j * k * omega + c for k in range(-k_max, k_max + 1) for c in combos]
    out = np.array([z for z in out if abs(z) > 1e-12])
    return out[np.lexsort((np.abs(out.imag), -out.real))]


def cycle_floquet(model, state, period: float, params: Mapping[str, float]) -> tuple[np.ndarray, float, np.ndarray]:
    """Floquet exponents of the periodic orbit through ``state`` with the given ``period``.

    The orbit is refined by integrating over one period (tight ``solve_ivp``), the variational
    equation is integrated along it and the monodromy is restricted to the tangent space of the
    phase space at the start (the spheres are invariant, so the restriction is exact). Returns the
    tangent-space exponents ``log(mu) / T`` (the trivial one, nearest 0, first), the return error
    ``|y(T) - y(0)|`` and the multipliers.
    """
    from scipy.integrate import solve_ivp

    y0 = model.check_state(state)
    n = model.n
    p = dict(params)

    def rhs(t, z):
        y = z[:n]
        Phi = z[n:].reshape(n, n)
        return np.concatenate([model.f(y, p), (model.jacobian(y, p) @ Phi).ravel()])

    sol = solve_ivp(rhs, (0.0, period), np.concatenate([y0, np.eye(n).ravel()]), method="DOP853",
                    rtol=1e-10, atol=1e-12)
    yT = sol.y[:n, -1]
    M = sol.y[n:, -1].reshape(n, n)
    T = model.geometry.tangent_basis(y0)
    Mt = T.T @ M @ T
    mult = np.linalg.eigvals(Mt)
    i0 = int(np.argmin(np.abs(mult - 1.0)))
    mult = np.concatenate([[mult[i0]], np.delete(mult, i0)])
    expo = np.log(mult.astype(complex)) / period
    return expo, float(np.max(np.abs(yT - y0))), mult


# ------------------------------------------------------------------------------------------------
# trend fits
# ------------------------------------------------------------------------------------------------
def _aic(rss: float, n: int, k: int) -> float:
    return n * math.log(max(rss, 1e-300) / n) + 2 * k


def fit_gap_trend(S_values, gaps) -> dict:
    """Fit ``log(gap)`` against ``S`` by an exponential closing, a power-law closing and a finite limit.

    Returns a dict: for each model ``"exponential"`` (log g = a - b S), ``"power"`` (log g = a - b log S)
    and ``"finite"`` (g = g_inf + c / S, fitted in log g) the parameters, ``rss`` (in log g) and
    ``aic``; ``"choice"``: the model with the lowest AIC if it beats the next by more than 2, else
    ``"undecided"``; ``"evidence"``: a sentence with the numbers.
    """
    S = np.asarray(S_values, float)
    g = np.asarray(gaps, float)
    ok = np.isfinite(g) & (g > 0)
    S, g = S[ok], g[ok]
    out: dict = {"n": int(S.size)}
    if S.size < 3:
        out.update(choice="undecided", evidence=f"only {S.size} usable gap value(s); at least 3 are needed")
        return out
    y = np.log(g)
    # exponential: y = a - b S
    A = np.vstack([np.ones_like(S), -S]).T
    c, *_ = np.linalg.lstsq(A, y, rcond=None)
    rss = float(np.sum((A @ c - y) ** 2))
    out["exponential"] = {"a": float(c[0]), "b": float(c[1]), "rss": rss, "aic": _aic(rss, S.size, 2)}
    # power: y = a - b log S
    A = np.vstack([np.ones_like(S), -np.log(S)]).T
    c, *_ = np.linalg.lstsq(A, y, rcond=None)
    rss = float(np.sum((A @ c - y) ** 2))
    out["power"] = {"a": float(c[0]), "b": float(c[1]), "rss": rss, "aic": _aic(rss, S.size, 2)}
    # finite limit: g = g_inf + c / S  (linear least squares in g, residuals measured in log g)
    A = np.vstack([np.ones_like(S), 1.0 / S]).T
    c, *_ = np.linalg.lstsq(A, g, rcond=None)
    pred = A @ c
    rss = float(np.sum((np.log(np.clip(pred, 1e-300, None)) - y) ** 2)) if np.all(pred > 0) else math.inf
    out["finite"] = {"g_inf": float(c[0]), "c": float(c[1]), "rss": rss,
                     "aic": _aic(rss, S.size, 2) if math.isfinite(rss) else math.inf}
    models = sorted(("exponential", "power", "finite"), key=lambda m: out[m]["aic"])
    best, nxt = models[0], models[1]
    delta = out[nxt]["aic"] - out[best]["aic"]
    out["choice"] = best if delta > 2.0 else "undecided"
    out["delta_aic"] = float(delta)
    out["evidence"] = ("; ".join(f"{m}: rss = {out[m]['rss']:.3g}, AIC = {out[m]['aic']:.2f}" for m in models)
                       + f"; best {best} by dAIC = {delta:.2f} over {nxt}"
                       + (f" (g_inf = {out['finite']['g_inf']:.4g})" if best == "finite" else ""))
    return out


def _power_slope(S, d) -> float:
    S, d = np.asarray(S, float), np.asarray(d, float)
    ok = np.isfinite(d) & (d > 0)
    if ok.sum() < 2:
        return math.nan
    return float(-np.polyfit(np.log(S[ok]), np.log(d[ok]), 1)[0])


# ------------------------------------------------------------------------------------------------
# the result
# ------------------------------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class SpectralCorrespondence:
    """Predicted (mean-field) against computed (exact) low Liouvillian spectra at one point.

    Attributes
    ----------
    name : str
        The system's name.
    params : dict
    S_values : tuple of float
    attractors : list of dict
        One per stable mean-field attractor (symmetry copies of a fixed point grouped):
        ``kind`` ("FP"/"LC"), ``states`` (m, n), ``multiplicity`` m, ``eigenvalues`` (FP tangent
        eigenvalues) or ``omega``, ``period``, ``floquet`` (LC), and ``predicted`` (complex array).
    spectra : dict
        ``{S: SystemSpectrum}`` (see :func:`bifurcate.quantum.system_spectrum`).
    matches : pandas.DataFrame
        One row per (attractor, predicted eigenvalue, S): ``predicted``, ``matched``, ``sector``,
        ``distance``; the per-prediction trend ``decreasing`` and fitted ``power`` (d ~ S^-power).
        ``rank`` orders the predictions (Im >= 0) by decreasing real part; for a group of ``m > 1``
        symmetric fixed points a row of ``kind == "tunnelling"`` (``rank == -1``) predicts 0 and is
        matched by the slowest non-zero eigenvalue (its distance is the gap).
    gap_fit : dict
        :func:`fit_gap_trend` of the spectral gap.
    status : str
        "success", "undecided" or "failed" (see the module docstring).
    message : str
    stats : dict
    """

    name: str
    params: dict
    S_values: tuple
    attractors: list
    spectra: dict
    matches: pd.DataFrame
    gap_fit: dict
    status: str
    message: str
    stats: dict = field(default_factory=dict)

    @property
    def success(self) -> bool:
        return self.status == "success"

    def gaps(self) -> dict:
        """``{S: gap}`` over all sectors."""
        return {S: sp.gap for S, sp in self.spectra.items()}

    def to_frame(self) -> pd.DataFrame:
        """The matches table with the parameters, the gap at each S and the overall status."""
        df = self.matches.copy()
        for k, v in self.params.items():
            df[k] = v
        df["gap"] = df["S"].map(self.gaps())
        df["status"] = self.status
        df.insert(0, "system", self.name)
        return df


def _targeted_eigenvalues(system, S, params, targets, n_near: int = 3, dense_max: int = 400) -> dict:
    """``{sector: eigenvalues}`` nearest each target (shift-invert), dense for small sectors."""
    import scipy.sparse as sps
    import scipy.sparse.linalg as spla
    from threadpoolctl import threadpool_limits

    from bifurcate.quantum import liouvillian_system

    secs = liouvillian_system(system, S, params).superoperator_sectors()
    out = {}
    with threadpool_limits(limits=1, user_api="blas"):
        for key, Lb in secs.items():
            n = Lb.shape[0]
            if n <= dense_max:
                out[key] = np.linalg.eigvals(Lb.toarray())
                continue
            found = []
            Id = sps.identity(n, format="csc", dtype=complex)
            for z in targets:
                sigma = z + 1e-3  # off any exact eigenvalue (the steady state's 0)
                lu = spla.splu((Lb.astype(complex) - sigma * Id).tocsc(), permc_spec="COLAMD")
                op = spla.LinearOperator((n, n), matvec=lu.solve, dtype=complex)
                found.append(spla.eigs(Lb.astype(complex), k=n_near, sigma=sigma, OPinv=op, which="LM",
                                       return_eigenvectors=False, maxiter=5000))
            out[key] = np.concatenate(found) if found else np.zeros(0, complex)
    return out


def _stable_attractors(model, params, *, cycles, n_initial, seed, census, fp_order, n_predict, k_max):
    from bifurcate.equilibria import find_equilibria

    eq = find_equilibria(model, params)
    atts = []
    groups: list = []
    for y, ev, st in zip(eq.states, eq.eigenvalues, eq.stability):
        if st != "stable":
            continue
        for g in groups:  # symmetry copies share their spectrum
            if np.allclose(np.sort_complex(g["eigenvalues"]), np.sort_complex(ev), atol=1e-8):
                g["states"].append(y)
                break
        else:
            groups.append({"kind": "FP", "states": [y], "eigenvalues": ev})
    for g in groups:
        g["states"] = np.array(g["states"])
        g["multiplicity"] = len(g["states"])
        g["predicted"] = fixed_point_prediction(g["eigenvalues"], order=fp_order, n_keep=n_predict)
        atts.append(g)
    cyc = list(cycles or [])
    if census:
        import analysis

        res = analysis.census(model, params, n_initial=n_initial, seed=seed)
        for a in res.attractors:
            if a.kind == "LC" and math.isfinite(a.period):
                cyc.append((a.state, a.period))
    for state, period in cyc:
        expo, err, mult = cycle_floquet(model, state, period, params)
        nontrivial = expo[1:]
        stable = bool(np.all(np.abs(mult[1:]) < 1.0))
        omega = 2 * math.pi / period
        if any(g["kind"] == "LC" and abs(g["omega"] - omega) < 1e-3 * omega for g in atts):
            continue
        atts.append({"kind": "LC", "states": np.atleast_2d(state), "multiplicity": 1, "period": float(period),
                     "omega": omega, "floquet": nontrivial, "multipliers": mult, "return_error": err,
                     "stable": stable, "predicted": cycle_prediction(omega, nontrivial, k_max=k_max)})
    return atts, eq


def spectral_correspondence(system, S_values: Sequence[float], params: Mapping[str, float] | None = None, *,
                            model=None, cycles: Sequence | None = None, census: bool = False,
                            n_initial: int = 32, seed: int = 0, fp_order: int = 2, n_predict: int = 10,
                            n_check: int = 2, k_max: int = 2, k: int = 8, target_search: bool = True,
                            min_power: float = 0.3,
                            spectrum_options: Mapping | None = None) -> SpectralCorrespondence:
    """Mean-field predictions of the slow Liouvillian spectrum against the exact spectra at each ``S``.

    Parameters
    ----------
    system : bifurcate.spec.OpenSystem
    S_values : sequence of spin lengths (at least one; three or more for the trends)
    params : mapping, optional
        Parameter values (the system's defaults for the rest).
    model : bifurcate.Model, optional
        Its mean-field model (default ``system.mean_field()``).
    cycles : sequence of (state, period), optional
        Known limit cycles (e.g. from :func:`bifurcate.continue_cycles` or a census); their Floquet
        exponents are computed here and only stable ones are predicted.
    census : bool
        Also look for limit cycles with ``analysis.census(model, params, n_initial=, seed=)``.
    fp_order, n_predict, k_max
        Fixed points: sums of at most ``fp_order`` tangent eigenvalues, the ``n_predict`` slowest;
        cycles: bands ``|k| <= k_max``.
    n_check : int
        The slowest predictions per attractor (Im >= 0) whose convergence decides the status.
    min_power : float
        "success" needs every checked distance to shrink at least like ``S^-min_power`` (fitted).
    k : int
        Eigenvalues per sector (:func:`bifurcate.quantum.system_spectrum`, by default shift-invert
        Arnoldi about ``sigma = 0.02``); ``spectrum_options`` are passed on to it.
    target_search : bool
        Also look for eigenvalues near each prediction (shift-invert about the predicted value in
        every sector of :func:`bifurcate.quantum.liouvillian_system`): slow modes far up the imaginary
        axis, which Arnoldi about 0 may miss, are then found.
    """
    import time

    from bifurcate.quantum import system_spectrum

    t0 = time.perf_counter()
    try:
        S_list = [float(s) for s in S_values]
    except (TypeError, ValueError):
        raise TypeError(f"expected S_values a sequence of spin lengths, got {S_values!r}") from None
    if not S_list:
        raise ValueError("expected at least one spin length in S_values, got none")
    if any(not np.isfinite(s) or 2 * s != round(2 * s) or s < 0.5 for s in S_list):
        raise ValueError(f"expected S_values positive half-integers, got {S_list}")
    if len(set(S_list)) != len(S_list):
        raise ValueError(f"expected distinct S_values, got {S_list}")
    S_list = sorted(S_list)
    if not (isinstance(n_check, int) and n_check >= 1):
        raise ValueError(f"expected n_check an integer >= 1, got {n_check!r}")
    for name, v in (("fp_order", fp_order), ("n_predict", n_predict), ("k_max", k_max)):
        check_count(name, v)                           # 0 would leave nothing to predict, then report it
    check_range("min_power", min_power, 0, None, lo_open=True)
    if model is None:
        model = system.mean_field()
    params = model.params(dict(params or {}))
    sys_params = {k2: v for k2, v in params.items() if k2 in system.parameters}
    atts, eq = _stable_attractors(model, params, cycles=cycles, n_initial=n_initial, seed=seed, census=census,
                                  fp_order=fp_order, n_predict=n_predict, k_max=k_max)
    spectra, targeted = {}, {}
    sopts = {"method": "arnoldi", "sigma": 0.02, **dict(spectrum_options or {})}
    targets = sorted({complex(z) for a in atts for z in [z for z in a["predicted"] if z.imag >= -1e-12][:n_check]},
                     key=abs)
    for S in S_list:
        spectra[S] = system_spectrum(system, S, sys_params, k=k, **sopts)
        targeted[S] = _targeted_eigenvalues(system, S, sys_params, targets) if target_search else {}

    rows = []
    for ia, a in enumerate(atts):
        pred = [z for z in a["predicted"] if z.imag >= -1e-12]
        for ip, z in enumerate(pred):
            for S in S_list:
                sp_ = spectra[S]
                best = (math.inf, np.nan, "")
                zero_key = next((key for key in sp_.sectors if all(c == 0 for c in key)), None)
                for key, vals in sp_.sectors.items():
                    vals = np.asarray(vals)
                    if key == zero_key and len(vals):
                        vals = vals[1:]
                    extra = np.asarray(targeted[S].get(key, []), complex)
                    vals = np.concatenate([vals, extra[np.abs(extra) > 1e-8]])
                    if len(vals):
                        j = int(np.argmin(np.abs(vals - z)))
                        if abs(vals[j] - z) < best[0]:
                            best = (float(abs(vals[j] - z)), complex(vals[j]), str(key))
                rows.append({"attractor": ia, "kind": a["kind"], "multiplicity": a["multiplicity"], "rank": ip,
                             "predicted": complex(z), "S": S, "matched": best[1], "sector": best[2],
                             "distance": best[0]})
    for ia, a in enumerate(atts):
        if a["multiplicity"] > 1:  # the tunnelling partners of the steady state: predicted 0, matched by the gap
            for S in S_list:
                sp_ = spectra[S]
                best = (math.inf, np.nan, "")
                for key, vals in sp_.sectors.items():
                    vals = np.asarray(vals)
                    if all(c == 0 for c in key):
                        vals = vals[1:]
                    if len(vals) and -vals[0].real < best[0]:
                        best = (float(abs(vals[0])), complex(vals[0]), str(key))
                rows.append({"attractor": ia, "kind": "tunnelling", "multiplicity": a["multiplicity"], "rank": -1,
                             "predicted": 0j, "S": S, "matched": best[1], "sector": best[2], "distance": best[0]})
    matches = pd.DataFrame(rows, columns=["attractor", "kind", "multiplicity", "rank", "predicted", "S",
                                          "matched", "sector", "distance"])
    checks = []
    if len(matches):
        trend = {}
        for (ia, ip), sub in matches.groupby(["attractor", "rank"]):
            sub = sub.sort_values("S")
            d = sub["distance"].to_numpy(float)
            dec = bool(len(d) >= 2 and d[-1] < d[0])
            pw = _power_slope(sub["S"], d)
            trend[(ia, ip)] = (dec, pw)
            if 0 <= ip < n_check:
                checks.append((ia, ip, dec, pw, d[0], d[-1]))
        matches["decreasing"] = [trend[(a_, r_)][0] for a_, r_ in zip(matches["attractor"], matches["rank"])]
        matches["power"] = [trend[(a_, r_)][1] for a_, r_ in zip(matches["attractor"], matches["rank"])]
    gap_fit = fit_gap_trend(S_list, [spectra[S].gap for S in S_list])

    if not atts:
        status, msg = "failed", "no stable mean-field attractor found at this point"
    elif len(S_list) < 3:
        status, msg = "undecided", f"only {len(S_list)} spin length(s); the trends need at least 3"
    else:
        bad = [c for c in checks if not (c[2] and c[3] >= min_power)]
        status = "undecided" if bad else "success"
        msg = "; ".join(f"attractor {c[0]} ({atts[c[0]]['kind']}) prediction {c[1]}: distance {c[4]:.3g} -> "
                        f"{c[5]:.3g} (power {c[3]:.2f})" for c in checks)
        if bad:
            msg = f"{len(bad)} of {len(checks)} checked predictions do not approach their match: " + msg
    if any(sp_.status != "ok" for sp_ in spectra.values()):
        msg += "; spectra with warnings: " + ", ".join(f"S={S:g}: {sp_.message}" for S, sp_ in spectra.items()
                                                        if sp_.status != "ok")
        if status == "success":
            status = "undecided"
    msg += f"; gap trend: {gap_fit.get('choice')} ({gap_fit.get('evidence')})"
    return SpectralCorrespondence(name=system.name, params=dict(params), S_values=tuple(S_list), attractors=atts,
                                  spectra=spectra, matches=matches, gap_fit=gap_fit, status=status, message=msg,
                                  stats={"time_s": time.perf_counter() - t0,
                                         "spectrum_time_s": {S: spectra[S].stats.get("time_s") for S in S_list}})
