"""The attractor science: features, classification, convergence control, grouping, census, phases.

* :mod:`analysis.attractors.options` — :class:`CensusOptions`, the one options object of every caller
* :mod:`analysis.attractors.convergence` — when a trajectory's label is decided (:func:`decide`)
* :mod:`analysis.attractors.grouping` — invariant sets by shared support, mirror images
* :mod:`analysis.attractors.census` — :func:`census`, :func:`census_points`, :class:`CensusResult`
* :mod:`analysis.attractors.certify` — certified fixed points (basin ellipsoids) and limit cycles
  (collocation + Floquet multipliers): the census's fast path
* :mod:`analysis.attractors.features`, :mod:`analysis.attractors.classify` — per-trajectory checks
  (0-1 test, Poincare return) and the fixed-window classifier :class:`AttractorClassifier`

The sweep machinery (:mod:`analysis.phase_diagrams`, :mod:`analysis.store`,
:mod:`analysis.execution`) calls :func:`census_points` per chunk and stores
:meth:`CensusResult.summary_row`.
"""
from analysis.attractors.census import (KIND_ORDER, Attractor, CensusResult, InvariantSet, census, census_batch,
                                        census_points, phase_label)
from analysis.attractors.options import CensusOptions

__all__ = ["CensusOptions", "CensusResult", "InvariantSet", "Attractor", "census", "census_points", "census_batch",
           "phase_label", "KIND_ORDER"]
