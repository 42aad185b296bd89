"""analysis: the questions studies ask (attractor census, phase diagrams, quantum cross-check, reports).

The main entry points are importable from here (loaded on first use, so ``import analysis`` stays
light for the command line):

* ``analysis.census(model, params=..., n_initial=..., seed=...)``, ``analysis.census_batch``,
  ``analysis.CensusOptions``, ``analysis.CensusResult`` (:mod:`analysis.attractors`: the converged census;
  :mod:`analysis.attractor_census` keeps the old import path)
* ``analysis.track_attractors(model, param, values, params=..., n_initial=..., seed=...)``: attractors
  continued along a path with stable IDs, their births, deaths and mergers located and classified local /
  global against continued branches (:mod:`analysis.attractors.tracking`)
* ``analysis.phase_diagram(model, grid={...}, ...)`` (:mod:`analysis.phase_diagrams`; ``refine=`` adaptive
  refinement), ``analysis.continued_boundaries`` and ``analysis.phase_transitions``
  (:mod:`analysis.phase_boundaries`: the BP, LP, Hopf, LPC, PD, NS curves over the plane, and which phase
  changes they explain: local, or global)
* ``analysis.spectral_correspondence(system, S_values, params)`` (:mod:`analysis.spectral`): mean-field
  predictions of the slow Liouvillian spectrum against the exact spectra
* ``analysis.truncated_wigner(system, S, params, n_traj, t_end, seed)`` (:mod:`bifurcate.twa`):
  semiclassical ensembles of collective spins
* ``analysis.load(path)`` reads any table the suite writes with its metadata (:mod:`analysis.io`).
"""
from __future__ import annotations

import importlib

from analysis.io import load

__all__ = ["load", "census", "census_batch", "census_points", "phase_diagram", "CensusResult", "CensusOptions",
           "InvariantSet", "PhaseDiagram", "continued_boundaries", "phase_transitions", "track_attractors", "TrackingResult", "spectral_correspondence",
           "SpectralCorrespondence", "truncated_wigner", "TruncatedWigner"]

_LAZY = {
    "census": "analysis.attractors",
    "census_batch": "analysis.attractors",
    "census_points": "analysis.attractors",
    "CensusResult": "analysis.attractors",
    "CensusOptions": "analysis.attractors",
    "InvariantSet": "analysis.attractors",
    "phase_diagram": "analysis.phase_diagrams",
    "PhaseDiagram": "analysis.phase_diagrams",
    "continued_boundaries": "analysis.phase_boundaries",
    "phase_transitions": "analysis.phase_boundaries",
    "track_attractors": "analysis.attractors.tracking",
    "TrackingResult": "analysis.attractors.tracking",
    "spectral_correspondence": "analysis.spectral",
    "SpectralCorrespondence": "analysis.spectral",
    "truncated_wigner": "bifurcate.twa",
    "TruncatedWigner": "bifurcate.twa",
}


def __getattr__(name: str):
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'analysis' has no attribute {name!r}")
