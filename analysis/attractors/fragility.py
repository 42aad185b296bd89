"""Fragility of a census phase: would a 1 % change of a tolerance likely change it?

About 5-7 % of the sampled Fig. 2 phases change under a 1 % change of the variational integrator's
``rtol`` ("none" <-> "CH", "FP" <-> "FP+CH"): the phase of those points rests on one statistic near
the threshold that decides it, or on one trajectory. :func:`phase_fragility` reads the evidence the
census already holds (no extra integration) and names every such reason:

* ``one initial condition``: an attracting set other than FP carried by one initial condition: one
  member (its basin fraction is within one binomial error of zero), or several of which only one
  was decided on its own evidence, the others having inherited its label or joined its support
  (the census measures one run per attractor, so one borderline decision can label many
  trajectories). Stable equilibria are listed exactly whether reached or not, so an FP set never
  makes a phase fragile on its own;
* ``undecided``: trajectories undecided at the cap or not trusted (a re-run may decide them);
* ``pooled only``: a set none of whose members was decided on its own evidence (all joined by
  shared support or by the pooled sums of undecided orbits);
* ``exponent near the band``: an exponent of a measured set clear of the zero band ``b(T)`` by less
  than ``n_sigma + k_sigma`` standard errors (the census calls it clear at ``n_sigma``), for the
  exponent that decided the kind: the largest of a chaotic set, the first one clear of the band
  from the top of a regular one (chaos vs regular motion, a cycle vs a torus or a family).
  Exponents inside the band are decided on their point estimate (their block spread overstates the
  error) and are not tested;
* ``sum near the flavour threshold``: a chaotic set whose exponent sum lies within ``k_sigma`` errors
  of the interval ``[-2 b(T), -b(T)]`` where the census's two verdicts meet (dissipative: the sum
  below ``-b`` by ``n_sigma`` errors; conservative: ``|sum| <= 2 b`` within ``n_sigma`` errors): the
  set's attracting flag, hence the phase, rests on it.

The set statistics are inverse-variance means over the members' own measurements (inherited members
carry no exponents), and the band is taken at the members' median measured length. ``k_sigma``
(default 2) is fixed a priori, not fitted to the flip rate; the validation
(:mod:`studies.benchmarks.bench_fragility`) reports recall and the flagged share it gives.

Measured (``python -m studies.benchmarks.bench_fragility --n-pairs 150 --seed 5``: 300 points of the
Fig. 2 plane, 16 initial conditions, census defaults vs the variational ``rtol`` x 0.99 and x 1.01):
12 of 300 phases flip (4.0 %). The flag as first written (``one initial condition`` = one member)
marked 102 points (34 %) and 11 of the 12 flips (recall 92 %). The rule of ``one initial condition``
was then widened to sets with one own decision (motivated by the N-dependence at cut (c), J = 0.4,
lam = 1, where one decided orbit labelled 25 others; see :mod:`studies.benchmarks.n_dependence`) and
re-read on the same runs (in sample): 107 flagged (36 %), recall 11/12; a flagged phase flipped in
10.3 % of cases, an unflagged one in 0.5 %. Most of the recall comes from ``undecided`` (83 points
flagged, 9 flips); without it the flag marks 17 % of the points and catches 7 of 12. ``k_sigma`` = 1
or 3 (a sensitivity, same runs): 35 % / 39 % flagged, recall 11/12 either way. The one flip missed,
(J, lam) = (-1.2, 1.41) CH -> none, had no undecided trajectory and no statistic near a threshold.
So the flag is a warning with high recall and low precision: about nine in ten flagged phases held
under this perturbation.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = ["Fragility", "phase_fragility", "fragility_from_frames"]

#: decisions taken on a trajectory's own evidence (the others inherit a label or join a set)
_OWN = ("settled", "decided", "certified")
#: kinds whose sets are decided by measured exponents (FP / SADDLE are exact equilibria)
_MEASURED = ("LC", "QP", "CH", "NEUTRAL")


@dataclass(frozen=True)
class Fragility:
    """Verdict on one census phase.

    Attributes
    ----------
    fragile : bool
    reasons : tuple of str
        One entry per reason (empty when not fragile), each with its numbers.
    """

    fragile: bool
    reasons: tuple = ()

    @property
    def reason(self) -> str:
        return "; ".join(self.reasons)


def _pooled(v: np.ndarray, e: np.ndarray) -> tuple[float, float]:
    ok = np.isfinite(v) & np.isfinite(e) & (e > 0)
    if not ok.any():
        ok = np.isfinite(v)
        if not ok.any():
            return float("nan"), float("nan")
        return float(np.mean(v[ok])), float("nan")
    w = 1.0 / e[ok] ** 2
    return float(np.sum(w * v[ok]) / w.sum()), float(1.0 / np.sqrt(w.sum()))


def fragility_from_frames(sets: pd.DataFrame, trajectories: pd.DataFrame, options, *, k_sigma: float = 2.0) -> Fragility:
    """:func:`phase_fragility` from a census's tables: ``sets`` = :meth:`CensusResult.to_frame`,
    ``trajectories`` = :attr:`CensusResult.trajectories`, ``options`` its :class:`CensusOptions`."""
    if not (isinstance(k_sigma, (int, float, np.floating)) and not isinstance(k_sigma, bool)
            and np.isfinite(k_sigma) and k_sigma >= 0):
        raise ValueError(f"k_sigma must be a finite real >= 0, got {k_sigma!r}")
    reasons: list[str] = []
    z = float(options.n_sigma)
    T = trajectories
    und = T["decision"].isin(["undecided", "not_trusted"]).to_numpy() if len(T) else np.zeros(0, bool)
    if und.any():
        reasons.append(f"undecided: {int(und.sum())}/{len(T)} trajectories undecided or not trusted at the cap")
    if len(sets) == 0:
        return Fragility(bool(reasons), tuple(reasons))
    lyap_cols = sorted((c for c in T.columns if c.startswith("lyap_") and c[5:].isdigit()), key=lambda c: int(c[5:]))
    for _, s in sets.iterrows():
        kind, lab = str(s["kind"]), int(s["label"])
        name = f"{kind}{' (' + s['flavour'] + ')' if s['flavour'] else ''} set {lab}"
        mem = T[T["label"] == lab]
        n_own = int(mem["decision"].isin(list(_OWN)).sum()) if len(mem) else 0
        if s["attracting"] and kind != "FP" and (int(s["n_members"]) == 1 or n_own == 1):
            reasons.append(f"one initial condition: attracting {name} rests on the own evidence of one initial "
                           f"condition ({int(s['n_members'])} member(s), {int(s['n_members']) - n_own} of them "
                           f"inherited or joined, basin {s['basin_fraction']:.3g} +- {s['basin_fraction_err']:.2g})")
        if kind not in _MEASURED:
            continue
        if len(mem) and not mem["decision"].isin(["settled", "decided", "certified", "inherited"]).any():
            reasons.append(f"pooled only: no member of {name} was decided on its own evidence")
        own = mem[mem[lyap_cols[0]].notna()] if lyap_cols else mem.iloc[:0]
        own = own[own["decision"] != "certified"]   # certified cycles: Floquet multipliers, no band test
        if not len(own):
            continue
        band = float(options.zero_band(float(np.median(own["t_measured"]))))
        # the exponent that decided the kind (convergence.decide): chaos by the largest one; regular
        # motion by the first one clear of the band from the top (those above it are zeros, decided on
        # their point estimate, whose block spread overstates the error: not tested)
        for k, c in enumerate(lyap_cols[:1] if kind == "CH" else lyap_cols):
            v, e = _pooled(own[c].to_numpy(float), own[f"lyap_err_{k}"].to_numpy(float))
            if not (np.isfinite(v) and np.isfinite(e)) or abs(v) <= band:
                continue
            if abs(v) < band + (z + k_sigma) * e:
                reasons.append(f"exponent near the band: exponent {k} of {name} is {v:+.4f} +- {e:.1e}, less "
                               f"than {z + k_sigma:g} errors outside the zero band {band:.2e}")
            break
        if kind == "CH":
            S, eS = _pooled(own["lyap_sum"].to_numpy(float), own["lyap_sum_err"].to_numpy(float))
            if np.isfinite(S) and np.isfinite(eS) and -2 * band - k_sigma * eS < S < -band + k_sigma * eS:
                reasons.append(f"sum near the flavour threshold: the exponent sum of {name} is {S:+.4f} +- "
                               f"{eS:.1e}, within {k_sigma:g} errors of [-2b, -b] = [{-2 * band:.2e}, {-band:.2e}]")
    return Fragility(bool(reasons), tuple(reasons))


def phase_fragility(result, *, k_sigma: float = 2.0) -> Fragility:
    """Whether the phase of a census result rests on evidence near a threshold (see the module
    docstring for the reasons), from the result's own tables: no integration."""
    return fragility_from_frames(result.to_frame(), result.trajectories, result.options, k_sigma=k_sigma)
