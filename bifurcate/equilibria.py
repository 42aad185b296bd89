"""All equilibria of a model at one parameter point: Newton from many seeds, deduplicated.

The seeds (random points of the phase space plus the model's "pole" states) go through one
compiled, per-model damped Newton kernel (:mod:`bifurcate.kernels.newton_template`). Every
converged zero is mapped by each symmetry of the model (equivariant and reversing symmetries both
map equilibria to equilibria), so one Newton solve finds a whole group orbit; the orbit is then
deduplicated. Stability is read from the tangent-space Jacobian ``T^T J T``, so the radial
directions of the damped field never enter.

References
----------
S. Kothe and P. Kirton, Eqs. (6)-(11) (the LMG dimer) and Fig. 2 (the number of stable fixed
points: 1 in the normal phase, 2 in the LMG phases, 0 in the PT phase).
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from itertools import product
from pathlib import Path
from typing import Any, Mapping

import numpy as np
import pandas as pd

from bifurcate.kernels import codegen
from bifurcate.model import Model, tangent_basis_kernel
from bifurcate.validation import check_bool, check_count, check_range, check_seed
from bifurcate.utils import as_generator

__all__ = ["EquilibriumSet", "find_equilibria", "newton_equilibrium", "newton_kernels", "tangent_spectrum",
           "classify_spectrum", "stability_labels", "spectrum_tolerance", "NEWTON_MESSAGES"]

codegen.TEMPLATES.setdefault("newton", Path(codegen.__file__).resolve().parent / "newton_template.py")

NEWTON_MESSAGES = {0: "converged", -1: "maximum number of Newton iterations reached",
                   -2: "singular Jacobian", -3: "diverged"}


def newton_kernels(model: Model):
    """The per-model compiled Newton kernels (generated once, cached by numba on disk)."""
    return codegen.model_kernels(model, "newton")


# --------------------------------------------------------------------------------------------
# spectra
# --------------------------------------------------------------------------------------------
def tangent_spectrum(model: Model, Y: np.ndarray, p: np.ndarray) -> np.ndarray:
    """Tangent-space eigenvalues at each row of ``Y`` (m, n) for the packed parameters ``p``.

    Returns (m, dim) complex, each row sorted by decreasing real part.
    """
    Y = np.atleast_2d(np.asarray(Y, dtype=float))
    m, n, d = Y.shape[0], model.n, model.dim
    A = np.empty((m, d, d))
    J = np.empty((n, n))
    T = np.empty((n, d))
    geo = model.geometry
    for k in range(m):
        model.jac(Y[k], p, J)
        tangent_basis_kernel(Y[k], geo.sphere_blocks, geo.free_idx, T)
        A[k] = T.T @ J @ T
    ev = np.linalg.eigvals(A) if m else np.empty((0, d), complex)
    order = np.argsort(-ev.real, axis=1, kind="stable")
    return np.take_along_axis(ev, order, axis=1)


def classify_spectrum(ev: np.ndarray, stab_tol: float) -> tuple[np.ndarray, np.ndarray]:
    """``stable`` (all Re < -stab_tol) and ``n_unstable`` (number with Re > stab_tol) per row."""
    re = np.atleast_2d(ev).real
    return np.all(re < -stab_tol, axis=1), np.sum(re > stab_tol, axis=1).astype(np.int64)


def spectrum_tolerance(ev: np.ndarray, stab_tol: float) -> np.ndarray:
    """Per row: ``stab_tol * max(1, max|ev|)``, the real-part tolerance scaled to the spectrum."""
    ev = np.atleast_2d(ev)
    rad = np.max(np.abs(ev), axis=1) if ev.shape[1] else np.zeros(ev.shape[0])
    return stab_tol * np.maximum(1.0, rad)


def stability_labels(ev: np.ndarray, stab_tol: float) -> dict:
    """Linear stability of each row of tangent eigenvalues, with non-hyperbolic cases said.

    Returns a dict of arrays: ``stable`` (all Re < -tol), ``n_unstable`` (Re > tol), ``hyperbolic``
    (all |Re| > tol) and ``stability``: "stable", "unstable" (an eigenvalue with Re > tol) or
    "non-hyperbolic" (neither: a zero or purely imaginary eigenvalue within tol decides, which
    linearisation cannot). ``tol = stab_tol * max(1, max|ev|)`` (:func:`spectrum_tolerance`).
    """
    ev = np.atleast_2d(ev)
    tol = spectrum_tolerance(ev, stab_tol)[:, None]
    re = ev.real
    stable = np.all(re < -tol, axis=1)
    n_uns = np.sum(re > tol, axis=1).astype(np.int64)
    hyperbolic = np.all(np.abs(re) > tol, axis=1)
    labels = np.where(stable, "stable", np.where(n_uns > 0, "unstable", "non-hyperbolic")).astype(object)
    return {"stable": stable, "n_unstable": n_uns, "hyperbolic": hyperbolic, "stability": labels}


# --------------------------------------------------------------------------------------------
# result
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class EquilibriumSet:
    """The distinct equilibria found at one parameter point.

    Attributes
    ----------
    model : Model
    params : dict
        All parameter values.
    states : ndarray (k, n)
        Distinct equilibria, stable ones first.
    eigenvalues : ndarray (k, dim), complex
        Tangent-space eigenvalues, each row sorted by decreasing real part.
    stable : ndarray (k,) of bool
    n_unstable : ndarray (k,) of int
    residuals : ndarray (k,)
        Max-norm of the vector field at each state.
    hyperbolic : ndarray (k,) of bool
        No tangent eigenvalue with |Re| <= tol (tol = stab_tol max(1, max|ev|)).
    stability : ndarray (k,) of str
        "stable", "unstable" or "non-hyperbolic" (neither stable nor unstable: a zero or purely
        imaginary eigenvalue within tol, e.g. a centre or a point of a continuum).
    family : ndarray (k,) of int
        -1 for an isolated equilibrium; else the index of the continuum (curve or surface of
        equilibria) this row represents: a continuum is reported once, by one representative.
    family_points : tuple of ndarray (m_f, n)
        All the zeros found on each continuum (``family_points[f]``).
    status : int
        0 if at least one seed converged (or the model simply has no equilibrium that the seeds
        found: then 1), never an exception for a numerical failure.
    message : str
    options : dict
        ``n_seeds``, ``seed``, ``tol``, ``maxiter``, ``dedup_tol``, ``stab_tol``.
    stats : dict
        ``n_converged`` seeds, ``n_newton`` iterations in total, ``wall_time`` (s).
    """

    model: Any = field(repr=False)
    params: dict
    states: np.ndarray
    eigenvalues: np.ndarray
    stable: np.ndarray
    n_unstable: np.ndarray
    residuals: np.ndarray
    status: int = 0
    message: str = "success"
    options: dict = field(default_factory=dict)
    stats: dict = field(default_factory=dict)
    hyperbolic: np.ndarray | None = None
    stability: np.ndarray | None = None
    family: np.ndarray | None = None
    family_points: tuple = ()

    def __post_init__(self):
        if self.stability is None or self.hyperbolic is None:
            lab = stability_labels(self.eigenvalues, self.options.get("stab_tol", 1e-9)) if len(self) else \
                {"hyperbolic": np.zeros(0, bool), "stability": np.zeros(0, object)}
            object.__setattr__(self, "hyperbolic", lab["hyperbolic"])
            object.__setattr__(self, "stability", lab["stability"])
        if self.family is None:
            object.__setattr__(self, "family", np.full(len(self), -1, dtype=np.int64))

    @property
    def n_families(self) -> int:
        """Number of continua of equilibria (each counted once in ``n_equilibria``)."""
        return len(self.family_points)

    @property
    def n_non_hyperbolic(self) -> int:
        return int(np.sum(self.stability == "non-hyperbolic"))

    def __len__(self) -> int:
        return self.states.shape[0]

    @property
    def success(self) -> bool:
        return self.status == 0

    @property
    def n_stable(self) -> int:
        """Number of (asymptotically) stable equilibria."""
        return int(np.sum(self.stable))

    @property
    def n_equilibria(self) -> int:
        return len(self)

    def stable_states(self) -> np.ndarray:
        return self.states[self.stable]

    def to_frame(self) -> pd.DataFrame:
        """One row per equilibrium: parameters, state, ``stable``, ``n_unstable``, ``max_re``
        (largest real part of the tangent eigenvalues) and the eigenvalues as ``ev{j}_re/_im``."""
        k = len(self)
        df = pd.DataFrame({name: np.full(k, v) for name, v in self.params.items()})
        df["equilibrium"] = np.arange(k)
        st = pd.DataFrame(self.states, columns=list(self.model.state_names))
        df = pd.concat([df, st], axis=1)
        df["stable"] = self.stable
        df["n_unstable"] = self.n_unstable
        df["stability"] = np.asarray(self.stability, dtype=object)
        df["hyperbolic"] = self.hyperbolic
        df["family"] = self.family
        df["family_size"] = [len(self.family_points[f]) if f >= 0 else 1 for f in self.family]
        df["max_re"] = self.eigenvalues[:, 0].real if k else np.zeros(0)
        df["residual"] = self.residuals
        for j in range(self.eigenvalues.shape[1]):
            df[f"ev{j}_re"] = self.eigenvalues[:, j].real
            df[f"ev{j}_im"] = self.eigenvalues[:, j].imag
        return df


# --------------------------------------------------------------------------------------------
# seeds
# --------------------------------------------------------------------------------------------
#: default seeding scales of the Euclidean coordinates (find_equilibria with scale=None)
SEED_SCALES = (0.1, 1.0, 10.0, 100.0, 1000.0)


def _pole_seeds(model: Model, scale: float) -> np.ndarray:
    """Deterministic seeds: every combination of the poles (0, 0, +-1) of the spheres, with the
    Euclidean coordinates at 0 (and +-scale along each)."""
    geo = model.geometry
    base = []
    for signs in product((-1.0, 1.0), repeat=geo.n_spheres):
        y = np.zeros(model.n)
        for blk, s in zip(geo.sphere_blocks, signs):
            y[blk[2]] = s
        base.append(y)
    out = list(base)
    for y in base:
        for i in geo.free_idx:
            for s in (-scale, scale):
                z = y.copy()
                z[i] = s
                out.append(z)
    return np.array(out)


def _dedup(Y: np.ndarray, tol: float) -> np.ndarray:
    """Indices of the first occurrence of each distinct row (max-norm distance > tol)."""
    keep: list[int] = []
    for i in range(Y.shape[0]):
        if not keep or np.min(np.max(np.abs(Y[keep] - Y[i]), axis=1)) > tol:
            keep.append(i)
    return np.array(keep, dtype=np.int64)


# --------------------------------------------------------------------------------------------
# public functions
# --------------------------------------------------------------------------------------------
def find_equilibria(model: Model, params: Mapping[str, float] | None = None, *, n_seeds: int = 48,
                    seed: int | np.random.Generator | None = 0, seeds: np.ndarray | None = None,
                    scale: float | None = None, tol: float = 1e-11, maxiter: int = 60, dedup_tol: float = 1e-6,
                    stab_tol: float = 1e-9, use_symmetries: bool = True, **kwargs: float) -> EquilibriumSet:
    """All equilibria reachable by damped Newton from ``n_seeds`` random seeds (plus pole seeds).

    Parameters
    ----------
    model : Model
    params : mapping, optional
        Parameter values (defaults for the rest); keyword arguments override them.
    n_seeds : int
        Random seeds, uniform on the spheres (normal with std ``scale`` in Euclidean coordinates).
        The pole states (each spin up or down) are always added.
    seed : int, Generator or None
        Randomness of the seeds.
    seeds : ndarray (m, n), optional
        Extra seeds (e.g. end points of trajectories). With two or more, ``n_seeds`` more random
        seeds are also drawn in their bounding box (enlarged by half its size on each side): the
        extents of trajectories tell where the model lives.
    scale : float, optional
        Size of the Euclidean coordinates. Given: random seeds are normal with this std, and as
        many at ten times it (a probe: an equilibrium reached only from the probe sets status 2).
        Default: a ladder of scales 0.1, 1, 10, 100, 1000 (``n_seeds`` each), so that a
        model whose equilibria sit far from the unit box (Lorenz at rho = 28: z = 27) is
        searched at its own size. Models on spheres with no Euclidean coordinate ignore it.
    tol : float
        Newton tolerance on max|f|.
    dedup_tol : float
        Two zeros closer than this (max-norm) are the same equilibrium.
    stab_tol : float
        Stable means every tangent eigenvalue has Re < -stab_tol; unstable directions have
        Re > stab_tol (eigenvalues in between, e.g. the centres of a time-reversible state, are
        neither).
    use_symmetries : bool
        Add the images of every zero under the model's symmetries (exact; no extra Newton).

    Returns
    -------
    EquilibriumSet
        ``status`` 0: success; 1: no seed converged; 2: the search may be incomplete, with the
        evidence in ``message``: an equilibrium was reached only from the largest seeding scale,
        or lies beyond the seeded region (then larger ones may be missed; pass ``scale=`` or
        trajectory ``seeds``). ``stats["scales"]`` lists the seeding scales and
        ``stats["first_scale"]`` the smallest scale from which each equilibrium was reached.

    Notes
    -----
    Seeding cannot prove completeness; for the LMG dimer the default (48 random + 4 pole seeds,
    closed under Z2 and PT) agreed with 2000 seeds at every point checked (tests/test_equilibria.py).
    Measured cost: ~1 ms per parameter point for the LMG dimer (studies/benchmarks/bench_continuation.py).
    """
    t0 = time.perf_counter()
    n_seeds = check_count("n_seeds", n_seeds, minimum=0, maximum=10 ** 7)
    maxiter = check_count("maxiter", maxiter, maximum=10 ** 6)   # maxiter = 0 would leave every seed unconverged
    tol = check_range("tol", tol, 0, None, lo_open=True)
    dedup_tol = check_range("dedup_tol", dedup_tol, 0, None, lo_open=True)
    stab_tol = check_range("stab_tol", stab_tol, 0)
    use_symmetries = check_bool("use_symmetries", use_symmetries)   # "no" would be true
    check_seed("seed", seed)
    pd_ = model.params(params, **kwargs)
    p = np.array([pd_[k] for k in model.param_names])
    rng = as_generator(seed)
    free = np.asarray(model.geometry.free_idx, dtype=np.int64)
    if scale is not None and not (np.isfinite(scale) and scale > 0):
        raise ValueError(f"scale must be a finite number > 0 (or None for the automatic ladder), got {scale!r}")
    # a given scale is probed at ten times its size too: what only the probe finds is evidence
    # that the scale was too small
    scales = [float(scale), 10.0 * float(scale)] if scale is not None else list(SEED_SCALES)
    if scale is None and free.size == 0:
        scales = [2.0]
    parts = [_pole_seeds(model, scales[0])]
    labels = [np.full(parts[0].shape[0], scales[0])]
    for sc in scales:
        if n_seeds:
            parts.append(model.geometry.random_points(int(n_seeds), rng, scale=sc))
            labels.append(np.full(int(n_seeds), sc))
    box_reach = 0.0
    if seeds is not None:
        S = model.check_state(seeds, batch=True, name="seeds")
        parts.append(S)
        labels.append(np.zeros(S.shape[0]))
        if S.shape[0] >= 2 and free.size and n_seeds:
            lo, hi = S[:, free].min(axis=0), S[:, free].max(axis=0)
            pad = 0.5 * (hi - lo) + 1e-12
            box = model.geometry.random_points(int(n_seeds), rng, scale=1.0)
            box[:, free] = rng.uniform(lo - pad, hi + pad, size=(int(n_seeds), free.size))
            parts.append(model.geometry.project(box))
            labels.append(np.zeros(int(n_seeds)))
            box_reach = float(np.max(np.abs(np.concatenate([lo - pad, hi + pad]))))
    Y0 = np.ascontiguousarray(np.concatenate(parts, axis=0))
    lab = np.concatenate(labels)
    with np.errstate(all="ignore"):
        Y, status, its, res = _newton_many(model, Y0, p, tol, maxiter)
    ok = (status == 0) & np.all(np.isfinite(Y), axis=1)
    Z = Y[ok]
    lab_z = lab[ok]
    if use_symmetries and model.symmetries and Z.shape[0]:
        Z = np.concatenate([Z] + [Z @ s.matrix.T for s in model.symmetries], axis=0)
        lab_z = np.concatenate([lab_z] * (1 + len(model.symmetries)))
    keep = _dedup(Z, dedup_tol) if Z.shape[0] else np.zeros(0, dtype=np.int64)
    # smallest seeding scale (0: user seeds) from which each distinct equilibrium was reached
    first = np.array([lab_z[np.max(np.abs(Z - Z[k]), axis=1) <= dedup_tol].min() for k in keep]) \
        if keep.size else np.zeros(0)
    Z = Z[keep]
    res_z = np.empty(Z.shape[0])
    fbuf = np.empty(model.n)
    for k in range(Z.shape[0]):
        model.rhs(Z[k], p, fbuf)
        res_z[k] = np.max(np.abs(fbuf))
    ev = tangent_spectrum(model, Z, p)
    stable, n_uns = classify_spectrum(ev, stab_tol)
    lab = stability_labels(ev, stab_tol)
    stable = stable & lab["stable"]
    n_uns = lab["n_unstable"]
    # continua of equilibria: one representative each
    fam, fam_points = _families(model, Z, ev, p, stab_tol, tol, maxiter, dedup_tol)
    keep = np.array([i for i in range(Z.shape[0]) if fam[i] < 0 or i == np.flatnonzero(fam == fam[i])[0]],
                    dtype=np.int64)
    Z, ev, stable, n_uns, res_z, fam = Z[keep], ev[keep], stable[keep], n_uns[keep], res_z[keep], fam[keep]
    first = first[keep]
    hyp, stab_lab = lab["hyperbolic"][keep], lab["stability"][keep]
    # deterministic order: stable first, then by n_unstable, then lexicographically
    order = np.lexsort(tuple(np.round(Z[:, j], 8) for j in range(model.n - 1, -1, -1)) + (n_uns, ~stable))
    Z, ev, stable, n_uns, res_z = Z[order], ev[order], stable[order], n_uns[order], res_z[order]
    hyp, stab_lab, fam, first = hyp[order], stab_lab[order], fam[order], first[order]
    n_conv = int(ok.sum())
    status_, msg = (0, "success") if n_conv else (1, "no seed converged: no equilibrium found")
    if free.size:
        top = max(scales)
        reach = float(np.max(np.abs(Z[:, free]))) if Z.shape[0] else 0.0
        only_top = [k for k in range(Z.shape[0]) if first[k] == top and len(scales) > 1]
        if only_top:
            status_, msg = 2, (f"the search may be incomplete: equilibrium {only_top[0]} was reached only from the "
                               f"largest seeding scale {top:g}; equilibria farther out may be missed (pass scale=... "
                               f"or trajectory seeds)")
        elif reach > max(top, box_reach):
            status_, msg = 2, (f"the search may be incomplete: an equilibrium lies at |y| = {reach:.3g}, beyond the "
                               f"seeding scale {top:g}; others farther out may be missed (pass a larger scale=... or "
                               f"trajectory seeds)")
        elif n_conv:
            msg = f"success (Euclidean coordinates seeded at scales {', '.join(f'{v:g}' for v in scales)})"
    return EquilibriumSet(model=model, params=pd_, states=Z, eigenvalues=ev, stable=stable, n_unstable=n_uns,
                          residuals=res_z, status=status_, message=msg,
                          options=dict(n_seeds=int(n_seeds), seed=seed if isinstance(seed, (int, type(None))) else "generator",
                                       tol=tol, maxiter=maxiter, dedup_tol=dedup_tol, stab_tol=stab_tol,
                                       use_symmetries=use_symmetries),
                          stats=dict(n_seeds_total=int(Y0.shape[0]), n_converged=n_conv, scales=scales,
                                     first_scale=first.tolist(),
                                     n_newton=int(its.sum()), wall_time=time.perf_counter() - t0),
                          hyperbolic=hyp, stability=stab_lab, family=fam, family_points=fam_points)


def _families(model: Model, Z: np.ndarray, ev: np.ndarray, p: np.ndarray, stab_tol: float, tol: float,
              maxiter: int, dedup_tol: float, link: float = 0.5):
    """Group zeros that lie on one continuum of equilibria.

    Two zeros are linked when both have a real tangent eigenvalue within the scaled tolerance of
    zero (a continuum has one along itself), they are closer than ``link`` and Newton started at
    their midpoint converges to a third zero with a zero eigenvalue between them (the segment is
    covered by equilibria, not two isolated degenerate points). Linked components of at least
    three zeros are families. Returns (family index per row, -1 if isolated; tuple of point arrays).
    """
    k = Z.shape[0]
    fam = np.full(k, -1, dtype=np.int64)
    if k < 3:
        return fam, ()
    tolv = spectrum_tolerance(ev, stab_tol)
    zero = np.array([np.any((np.abs(ev[i].real) <= tolv[i]) & (np.abs(ev[i].imag) <= tolv[i])) for i in range(k)])
    cand = np.flatnonzero(zero)
    if cand.size < 3:
        return fam, ()
    pairs = [(i, j) for a, i in enumerate(cand) for j in cand[a + 1:]
             if np.max(np.abs(Z[i] - Z[j])) <= link]
    if not pairs:
        return fam, ()
    mids = model.geometry.project(np.array([(Z[i] + Z[j]) / 2 for i, j in pairs]))
    Ym, st, _, _ = _newton_many(model, np.ascontiguousarray(mids), p, tol, maxiter)
    evm = tangent_spectrum(model, Ym, p)
    tolm = spectrum_tolerance(evm, stab_tol)
    parent = list(range(k))

    def root(a):
        while parent[a] != a:
            parent[a] = parent[parent[a]]
            a = parent[a]
        return a

    for (i, j), y, s_, e, t in zip(pairs, Ym, st, evm, tolm):
        d = np.max(np.abs(Z[i] - Z[j]))
        third = (s_ == 0 and min(np.max(np.abs(y - Z[i])), np.max(np.abs(y - Z[j]))) > max(10 * dedup_tol, 1e-3 * d)
                 and np.max(np.abs(y - (Z[i] + Z[j]) / 2)) < 0.5 * d
                 and np.any((np.abs(e.real) <= t) & (np.abs(e.imag) <= t)))
        if third:
            parent[root(i)] = root(j)
    comps: dict = {}
    for i in cand:
        comps.setdefault(root(i), []).append(i)
    points = []
    for members in comps.values():
        if len(members) >= 3:
            fam[members] = len(points)
            points.append(Z[members].copy())
    return fam, tuple(points)


def _newton_many(model: Model, Y0: np.ndarray, p: np.ndarray, tol: float, maxiter: int):
    m = Y0.shape[0]
    Y = np.empty_like(Y0)
    status = np.empty(m, dtype=np.int64)
    its = np.empty(m, dtype=np.int64)
    res = np.empty(m)
    newton_kernels(model).newton_batch(Y0, p, model.geometry.sphere_blocks, float(tol), int(maxiter), 1e8,
                                       Y, status, its, res)
    return Y, status, its, res


def newton_equilibrium(model: Model, y0, params: Mapping[str, float] | None = None, *, tol: float = 1e-11,
                       maxiter: int = 30, radius: float = 0.1, **kwargs: float) -> np.ndarray:
    """The equilibrium near ``y0`` by damped Newton (projected onto the phase space).

    Parameters
    ----------
    y0 : array (n,)
        Start, e.g. the end of a trajectory or a guess.
    radius : float
        The start must lie within ``radius`` (max-norm, relative to max(1, |y0|)) of the
        equilibrium it converges to; otherwise it was not "near" one.

    Raises
    ------
    ValueError
        If Newton does not converge from ``y0`` or converges to an equilibrium farther than
        ``radius``: the start is not near an equilibrium.
    """
    y0 = model.check_state(y0)
    pd_ = model.params(params, **kwargs)
    p = np.array([pd_[k] for k in model.param_names])
    Y, status, its, res = _newton_many(model, y0[None, :].copy(), p, tol, maxiter)
    y = Y[0]
    if status[0] != 0:
        raise ValueError(f"start point is not near an equilibrium of {model.name!r} at {pd_}: expected Newton "
                         f"to converge from y0={y0.tolist()}, got {NEWTON_MESSAGES[int(status[0])]} after "
                         f"{int(its[0])} iterations (residual {res[0]:.2e})")
    dist = float(np.max(np.abs(y - y0)))
    if dist > radius * max(1.0, float(np.max(np.abs(y0)))):
        raise ValueError(f"start point is not near an equilibrium of {model.name!r}: expected an equilibrium "
                         f"within {radius} of y0={y0.tolist()}, got the nearest Newton zero at distance "
                         f"{dist:.3g} ({y.tolist()})")
    return y
