"""Issue 12, "limit cycles tied to branches": a cycle with no Hopf point on the path is continued from
the simulated orbit, and its periods equal the closed form; a cycle with no matching branch row is
flagged.

Stuart-Landau with shear, z' = (mu + i omega) z - (1 + i beta) |z|^2 z: the cycle |z|^2 = mu turns at
omega - beta mu, so its period 2 pi / (omega - beta mu) changes along the path (a test the
unsheared oscillator, period 2 pi everywhere, cannot fail). On mu in [0.3, 0.6] the Hopf point
mu = 0 is off the path and the origin repels, so no equilibrium branch and no Hopf point exist to
start the cycle branch from: it must come from the census's orbit.
"""
from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

import analysis
from bifurcate.models import STUART_LANDAU

OMEGA, BETA = 1.0, 0.5


def _period(mu):
    return 2 * np.pi / (OMEGA - BETA * mu)


@pytest.fixture(scope="module")
def tracked():
    return analysis.track_attractors(STUART_LANDAU, "mu", [0.3, 0.45, 0.6], {"omega": OMEGA, "beta": BETA},
                                     n_initial=4, seed=2, bisect_tol=0.05)


def test_cycle_without_a_hopf_point_is_continued_from_the_simulated_orbit(tracked):
    df = tracked.to_frame()
    lc = df[df["kind"] == "LC"]
    assert list(lc["mu"]) == [0.3, 0.45, 0.6] and lc["attractor_id"].nunique() == 1
    assert lc["attracting"].all()
    # no equilibrium branch supplied a Hopf point: every branch was started from an orbit
    names = [name for name, _ in tracked.branches]
    assert names and all(n.startswith("cyc@orbit") for n in names), names
    assert not (tracked.special["kind"] == "HB").any()
    assert lc["cycle_branch"].str.startswith("cyc@orbit").all()
    # the continued branch's period is the closed form; so is the tracker's least period
    np.testing.assert_allclose(lc["branch_period"], _period(lc["mu"].to_numpy()), rtol=1e-6)
    np.testing.assert_allclose(lc["period"], _period(lc["mu"].to_numpy()), rtol=1e-3)
    assert lc["cycle_match"].all() and (lc["period_mismatch"] < 1e-3).all()
    assert lc["branch_stable"].all()
    assert (lc["branch_amplitude"] > 0).all()
    # nothing is born or dies on the path
    assert len(tracked.events()) == 0


def test_a_cycle_without_a_matching_branch_row_is_flagged(tracked):
    # no branch at all: every LC row is flagged (cycle_match False), never silently matched
    bare = replace(tracked, branches=[]).to_frame()
    lc = bare[bare["kind"] == "LC"]
    assert len(lc) == 3 and (~lc["cycle_match"].astype(bool)).all() and (lc["cycle_branch"] == "").all()
    # a tolerance below the actual agreement: the same rows are flagged as mismatches
    tight = replace(tracked, cycle_rel_tol=1e-15).to_frame()
    lc = tight[tight["kind"] == "LC"]
    ok = lc["period_mismatch"] <= 1e-15
    assert (lc.loc[~ok, "cycle_match"] == False).all() and (~ok).any()  # noqa: E712
