"""Steady states of Eq. (5); the engine lives in :mod:`bifurcate.quantum.steady` (re-exported here)."""
from bifurcate.quantum.steady import (METHODS, SteadyState, SteadyStateError, SteadyStateOptions,  # noqa: F401
                                      steady_state)

__all__ = ["SteadyState", "SteadyStateOptions", "SteadyStateError", "steady_state", "METHODS"]
