"""Shared fixtures. Compiled kernels are warmed once per session (numba caches them on disk)."""
from __future__ import annotations

import os

import matplotlib
import numpy as np
import pytest

matplotlib.use("Agg")
os.environ.setdefault("MPLBACKEND", "Agg")


@pytest.fixture(scope="session")
def lmg_dimer():
    from bifurcate.models import LMG_DIMER

    return LMG_DIMER


@pytest.fixture
def rng():
    return np.random.default_rng(12345)
