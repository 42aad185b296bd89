"""analysis: the questions studies ask (attractor census, phase diagrams, quantum cross-check, reports).

``analysis.load(path)`` reads any table the suite writes with its metadata (:mod:`analysis.io`).
"""
from analysis.io import load

__all__ = ["load"]
