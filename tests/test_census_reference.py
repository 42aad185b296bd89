"""Slow checks of the converged census against an independent long-window reference and between
seeds (issue 11's acceptance criteria on a few LMG dimer points)."""
from __future__ import annotations

import itertools

import numpy as np
import pytest

from analysis.attractors import census
from bifurcate.models import LMG_DIMER
from studies.benchmarks.census_reference import census_counts, reference

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("J, lam", [(0.0, 0.3), (1.5, 0.0), (1.5, 0.49), (1.5, 1.0)])
def test_kinds_and_attractor_average_agree_with_the_reference(J, lam):
    p = {"J": J, "lam": lam}
    ref = reference(p, 48, 1000)
    res = census(LMG_DIMER, p, n_initial=64, seed=0)
    assert census_counts(res) == ref["kind_counts"], (res.phase, ref)
    v, e = res.attractor_average("ZB")
    assert abs(v - ref["att_ZB"]) <= 3 * np.hypot(e, ref["att_ZB_sem"]) + 0.02


@pytest.mark.parametrize("J, lam", [(-1.0, 0.6), (1.5, 0.8)])
def test_phase_is_reproducible_between_seeds_and_caps(J, lam):
    p = {"J": J, "lam": lam}
    phases = [census(LMG_DIMER, p, n_initial=32, seed=s).phase for s in (1, 2, 3)]
    assert all(a == b for a, b in itertools.combinations(phases, 2)), phases
    assert census(LMG_DIMER, p, n_initial=32, seed=1, t_cap=3200.0).phase == phases[0]
