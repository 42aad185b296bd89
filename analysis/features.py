"""Compatibility shim: the trajectory features live in :mod:`analysis.attractors.features`."""
from analysis.attractors.features import *  # noqa: F401,F403
from analysis.attractors.features import __all__  # noqa: F401
