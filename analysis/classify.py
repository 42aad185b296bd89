"""Compatibility shim: classification lives in :mod:`analysis.attractors.classify`."""
from analysis.attractors.classify import *  # noqa: F401,F403
from analysis.attractors.classify import __all__  # noqa: F401
