"""Evidence that a cycle branch approaches a homoclinic orbit, from the cycles themselves.

A cycle family ending at a homoclinic orbit of a hyperbolic saddle ``x_s`` obeys two laws:

* the orbit passes ever closer to ``x_s`` (its closest distance ``d -> 0``), and the point of the
  orbit where the vector field is slowest converges to ``x_s``;
* the period grows logarithmically in the parameter,
  ``T ~ -(1 / lambda) ln |p - p_hom| + c``, with ``lambda`` the leading (closest to the imaginary
  axis) eigenvalue of the saddle on the side of the loop (Kuznetsov 2004, sec. 6.2).

:func:`saddle_of_cycle` finds the equilibrium the orbit passes closest to (Newton from the
slowest point of the orbit) and its distance; :func:`log_period_fit` fits the law to the last
points of a branch, giving ``p_hom`` and ``lambda``. The driver declares a homoclinic approach
only when both hold on several successive points: the period grows monotonically, the distance
to the *same* equilibrium shrinks monotonically, and the fitted rate agrees with the saddle's
eigenvalues. A slow parameter alone (e.g. near a fold) or a degraded trivial multiplier is not
evidence.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from bifurcate.model import Model

__all__ = ["SaddleProximity", "saddle_of_cycle", "log_period_fit", "homoclinic_evidence"]


@dataclass(frozen=True)
class SaddleProximity:
    """The equilibrium a cycle passes closest to.

    Attributes
    ----------
    state : (n,) the equilibrium (NaN if Newton did not converge)
    distance : float, min over the orbit nodes of |u - state| (inf if no equilibrium was found)
    relative : float, ``distance`` over the orbit's extent (max peak-to-peak)
    eigenvalues : (d,) complex, tangent eigenvalues of the equilibrium (by decreasing real part)
    """

    state: np.ndarray
    distance: float
    relative: float
    eigenvalues: np.ndarray

    @property
    def found(self) -> bool:
        return bool(np.isfinite(self.distance))

    @property
    def is_saddle(self) -> bool:
        re = self.eigenvalues.real
        return bool(self.found and np.any(re > 0) and np.any(re < 0))

    @property
    def leading_unstable(self) -> float:
        """Smallest positive real part (the rate at which orbits leave the saddle)."""
        re = self.eigenvalues.real
        pos = re[re > 0]
        return float(np.min(pos)) if pos.size else float("nan")

    @property
    def leading_stable(self) -> float:
        """Largest negative real part, as a positive rate."""
        re = self.eigenvalues.real
        neg = re[re < 0]
        return float(-np.max(neg)) if neg.size else float("nan")


def saddle_of_cycle(model: Model, U: np.ndarray, params: dict) -> SaddleProximity:
    """The equilibrium nearest the slowest point of the orbit ``U`` (N, n) at ``params``."""
    from bifurcate.equilibria import newton_equilibrium

    p = model.pack_params(params)
    F = np.empty(U.shape)
    for i in range(U.shape[0]):
        model.rhs(np.ascontiguousarray(U[i]), p, F[i])
    speed = np.sqrt(np.sum(F * F, axis=1))
    extent = float(np.max(np.ptp(U, axis=0)))
    nan = SaddleProximity(np.full(model.n, np.nan), float("inf"), float("inf"), np.zeros(0, complex))
    if not np.all(np.isfinite(speed)):
        return nan
    i = int(np.argmin(speed))
    try:
        with np.errstate(all="ignore"):
            xe = newton_equilibrium(model, U[i], params, radius=max(1.0, extent))
    except (ValueError, FloatingPointError, np.linalg.LinAlgError):
        return nan
    d = float(np.min(np.linalg.norm(U - xe[None, :], axis=1)))
    ev = model.tangent_eigenvalues(xe, params)
    return SaddleProximity(xe, d, d / max(extent, 1e-300), np.asarray(ev, dtype=complex))


def log_period_fit(p: np.ndarray, T: np.ndarray) -> tuple[float, float, float]:
    """Fit ``T = c - b ln |p - p_hom|`` to points with monotone period.

    Returns ``(p_hom, b, rms)``: the limit parameter, the slope ``b = 1 / lambda`` and the rms
    residual of the fit relative to the period range (NaN if no fit). ``p_hom`` is searched
    beyond the last point, on the side the parameter is moving to.
    """
    p = np.asarray(p, dtype=float)
    T = np.asarray(T, dtype=float)
    if p.size < 4 or not np.all(np.diff(T) > 0):
        return float("nan"), float("nan"), float("nan")
    sgn = np.sign(p[-1] - p[-2])
    if sgn == 0:
        return float("nan"), float("nan"), float("nan")
    span = abs(p[-1] - p[0])
    dmin = 1e-13 * max(1.0, abs(p[-1]))
    if not span > 10 * dmin:
        return float("nan"), float("nan"), float("nan")

    Tm = float(np.mean(T))
    dT = T - Tm

    def fits(deltas):
        # least squares of T = c + b x, x = -ln|p - q|, in closed form (simple linear regression;
        # the same solution as lstsq on [1, x], vectorised over the trial limits q)
        with np.errstate(divide="ignore", invalid="ignore"):
            x = -np.log(np.abs(p[None, :] - (p[-1] + sgn * np.asarray(deltas, float)[:, None])))
            ok = np.all(np.isfinite(x), axis=1)
            x = np.where(ok[:, None], x, 0.0)
            dx = x - np.mean(x, axis=1, keepdims=True)
            sxx = np.sum(dx * dx, axis=1)
            b = np.where(sxx > 0, (dx @ dT) / np.where(sxx > 0, sxx, 1.0), 0.0)
            c = Tm - b * np.mean(x, axis=1)
            r = T[None, :] - c[:, None] - b[:, None] * x
            rms = np.sqrt(np.mean(r * r, axis=1))
        return np.where(ok, rms, np.inf), c, b, ok

    def fit(delta):  # one trial limit, the same closed form without the batch overhead
        q = p[-1] + sgn * delta
        if np.any(p == q):
            return np.inf, None
        x = -np.log(np.abs(p - q))
        xm = x.mean()
        dx = x - xm
        sxx = float(dx @ dx)
        b = float(dx @ dT) / sxx if sxx > 0 else 0.0
        c = Tm - b * xm
        r = T - c - b * x
        return math.sqrt(float(r @ r) / r.size), np.array([c, b])

    # the limit lies beyond the last point, at a distance delta on a log grid, then refined on
    # finer grids around the best node (vectorised: each round is one batch of fits)
    lg = np.linspace(np.log(dmin), np.log(100.0 * span), 141)
    for _ in range(5):
        errs = fits(np.exp(lg))[0]
        k = int(np.argmin(errs))
        lo, hi = lg[max(k - 1, 0)], lg[min(k + 1, lg.size - 1)]
        lg = np.linspace(lo, hi, 41)
    errs = fits(np.exp(lg))[0]
    delta = float(np.exp(lg[int(np.argmin(errs))]))
    rms, coef = fit(delta)
    if coef is None:
        return float("nan"), float("nan"), float("nan")
    q = p[-1] + sgn * delta
    return float(q), float(coef[1]), rms / max(float(np.ptp(T)), 1e-300)


def homoclinic_evidence(ps, Ts, prox: list[SaddleProximity], n_last: int = 6) -> dict | None:
    """Evidence of a homoclinic approach on the last ``n_last`` points of a branch, or None.

    Requires, on those points: strictly growing period, one and the same saddle (states within
    1e-2 relative: it moves with the parameter), its distance shrinking, and a logarithmic period law whose rate
    ``lambda = 1 / b`` lies within a factor 3 of the saddle's leading eigenvalues.
    Returns a dict with ``p_hom`` (fit), ``rate`` (lambda of the fit), ``saddle`` (state),
    ``eigenvalues``, ``distance`` (last relative distance) and ``fit_rms``.
    """
    if len(ps) < n_last or len(prox) < n_last:
        return None
    ps = np.asarray(ps[-n_last:], dtype=float)
    Ts = np.asarray(Ts[-n_last:], dtype=float)
    pr = prox[-n_last:]
    if not all(q.found and q.is_saddle for q in pr):
        return None
    ref = pr[-1].state
    scale = max(1.0, float(np.max(np.abs(ref))))
    if any(float(np.max(np.abs(q.state - ref))) > 1e-2 * scale for q in pr):  # the saddle moves with p
        return None
    if not np.all(np.diff(Ts) > 0):
        return None
    d = np.array([q.relative for q in pr])
    if not np.all(np.diff(d) < 0):
        return None
    p_hom, b, rms = log_period_fit(ps, Ts)
    if not (np.isfinite(b) and b > 0 and rms < 0.05):
        return None
    rate = 1.0 / b
    lu, ls = pr[-1].leading_unstable, pr[-1].leading_stable
    lo, hi = min(lu, ls), max(lu, ls)
    if not (lo / 3.0 <= rate <= 3.0 * hi):
        return None
    return {"p_hom": p_hom, "rate": rate, "saddle": ref.copy(), "eigenvalues": pr[-1].eigenvalues.copy(),
            "distance": float(d[-1]), "fit_rms": rms}
