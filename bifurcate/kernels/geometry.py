"""Geometry kernels shared by every template (they do not call a model, so they are plain
cached numba functions that generated modules import by name)."""
from __future__ import annotations

import math

from bifurcate._numba import njit

__all__ = ["project_spheres"]


@njit
def project_spheres(y, blocks):
    """Normalise each sphere block of ``y`` in place (``blocks``: (k, 3) int; k = 0 does nothing).

    Used after accepted steps and Newton updates: a projection method (Hairer, Lubich & Wanner,
    *Geometric Numerical Integration*, Sec. IV.4) that keeps spin lengths 1 to rounding.
    """
    for k in range(blocks.shape[0]):
        i0 = blocks[k, 0]
        i1 = blocks[k, 1]
        i2 = blocks[k, 2]
        r = math.sqrt(y[i0] * y[i0] + y[i1] * y[i1] + y[i2] * y[i2])
        if r > 0.0:
            y[i0] /= r
            y[i1] /= r
            y[i2] /= r
