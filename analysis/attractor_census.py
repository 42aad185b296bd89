"""Compatibility module: the census lives in :mod:`analysis.attractors.census`.

``census``, ``census_batch``, ``CensusResult``, ``Attractor`` (= ``InvariantSet``),
``nolds_largest`` and ``in_plane_observables`` keep working from here.
"""
from __future__ import annotations

import numpy as np

from analysis.attractors.census import (Attractor, CensusResult, InvariantSet, census, census_batch, census_points,
                                        derived_observables, nolds_largest, phase_label)
from analysis.attractors.options import CensusOptions

__all__ = ["Attractor", "InvariantSet", "CensusResult", "CensusOptions", "census", "census_batch", "census_points",
           "nolds_largest", "in_plane_observables", "phase_label"]


def in_plane_observables(model, samples: np.ndarray) -> dict[str, np.ndarray]:
    """Time averages of the in-plane magnitude of every sphere block (``RA``, ``RB`` for the LMG
    dimer), from samples (..., k, n): :func:`analysis.attractors.census.derived_observables`."""
    return derived_observables(model, samples)
