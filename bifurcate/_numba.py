"""The one place that imports numba and holds the jit flags.

Every compiled kernel in the project is decorated with :func:`njit` from here, so flags are
changed in one place. ``fastmath`` is deliberately off: sign tests on eigenvalues and sums of
Lyapunov exponents decide labels, and reassociation or flush-to-zero would change them.

Setting the environment variable ``NUMBA_DISABLE_JIT=1`` runs every kernel as plain Python
(numba honours it), which is how a slice of the tests checks kernels against their twins.
"""
from __future__ import annotations

import numba

__all__ = ["njit", "prange", "numba", "JIT_FLAGS"]

#: Flags shared by every kernel. ``cache=True`` writes machine code beside the source (or to
#: ``NUMBA_CACHE_DIR``) so that a second process starts in well under a second.
JIT_FLAGS = {"cache": True, "fastmath": False, "nogil": True}

prange = numba.prange


def njit(*args, **kwargs):
    """``numba.njit`` with the project's flags; keyword arguments override them.

    Usable bare (``@njit``) or with arguments (``@njit(parallel=True)``).
    """
    flags = dict(JIT_FLAGS)
    flags.update(kwargs)
    if len(args) == 1 and callable(args[0]) and not kwargs:
        return numba.njit(**flags)(args[0])
    return numba.njit(*args, **flags)
