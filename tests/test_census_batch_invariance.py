"""A point's census does not depend on the other points of its batch, nor on their order.

census_points([p1, p2, p3]) vs census_points([p2]) vs census_points([p3, p2]) vs census_points([p2, p2]):
p2's trajectory table (kinds, decisions, measured lengths, exponents, means) and summary row must be
equal to the bit. The points are chosen so that every stage runs: p2 chaotic (sharing of runs between
trajectories of one attractor, mirror images), p1 a chaotic neighbour of p2 (nearly the same
attractor: a run shared across points would show), p3 neutral families, p0 (added in front) two
broken fixed points (certified basins), so a state shared across points (caches, share rounds,
equilibria, certified cycles, the variational schedule) would show. The sweep's version of the same contract (chunking,
per-point seeds) is tests/test_phase_diagram.py::test_rows_do_not_depend_on_chunking_or_grid_extent;
here the chunk *order* of a sweep is reversed too.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis.attractors import census_points

# the census's own rules with a lower cap and shorter windows (as tests/test_census_batch.py)
QUICK = dict(t_transient=100.0, t_min=60.0, t_cap=480.0, t_zero_min=240.0, block_time=6.0)

P0, P1, P2, P3 = {"J": 1.5, "lam": 0.0}, {"J": 1.52, "lam": 0.62}, {"J": 1.5, "lam": 0.62}, {"J": 0.0, "lam": 0.8}


def _y0(model, k, n=6):
    return model.random_states(n, np.random.default_rng(100 + k))


def _same(a, b):
    pd.testing.assert_frame_equal(a.trajectories, b.trajectories, check_exact=True)
    ra, rb = a.summary_row(), b.summary_row()
    assert ra.keys() == rb.keys()
    for k in ra:
        if isinstance(ra[k], float):
            assert (ra[k] == rb[k]) or (np.isnan(ra[k]) and np.isnan(rb[k])), k
        else:
            assert ra[k] == rb[k], k
    assert a.phase == b.phase


def test_census_of_a_point_does_not_depend_on_its_batch_or_the_order(lmg_dimer):
    y = {k: _y0(lmg_dimer, k) for k in range(4)}
    from analysis.attractors.options import CensusOptions

    opts = CensusOptions().with_overrides(**QUICK)
    full = census_points(lmg_dimer, [P0, P1, P2, P3], np.stack([y[0], y[1], y[2], y[3]]), options=opts)
    all3 = full[1:]
    fp = census_points(lmg_dimer, [P0], y[0][None], options=opts)[0]
    _same(full[0], fp)
    alone = census_points(lmg_dimer, [P2], y[2][None], options=opts)[0]
    rev = census_points(lmg_dimer, [P3, P2], np.stack([y[3], y[2]]), options=opts)
    twice = census_points(lmg_dimer, [P2, P2], np.stack([y[2], y[2]]), options=opts)
    # the contract is only worth something if p2 exercises the measurement and its sharing rules
    dec = set(alone.trajectories["decision"])
    assert "CH" in set(alone.trajectories["kind"]) and dec & {"inherited", "joined"}, alone.trajectories[["kind", "decision"]]
    _same(all3[1], alone)
    _same(rev[1], alone)
    _same(twice[0], alone)
    _same(twice[1], alone)
    _same(rev[0], all3[2])
    p3 = all3[2].trajectories
    assert (p3["kind"] == "NEUTRAL").any()
    assert "CH" in set(all3[0].trajectories["kind"])
    assert "certified" in set(fp.trajectories["decision"])


def test_sweep_rows_do_not_depend_on_the_order_of_the_chunks(lmg_dimer):
    from analysis.execution import Executor, run_chunk
    from analysis.phase_diagrams import phase_diagram

    class Reversed(Executor):
        """In-process, the chunks run last to first (as a pool may finish them)."""

        def __init__(self):
            self.order = []

        def map_chunks(self, fn, model, chunks, options):
            chunks = list(chunks)
            for i in reversed(range(len(chunks))):
                self.order.append(i)
                yield i, run_chunk(fn, model, chunks[i], options), None

    grid = {"J": np.array([-1.5, 0.0, 1.5]), "lam": np.array([0.3, 0.62])}
    kw = dict(n_initial=3, seed=7, progress=False, census_options=QUICK, chunk_size=2)
    fwd = phase_diagram(lmg_dimer, grid, **kw).to_frame()
    ex = Reversed()
    bwd = phase_diagram(lmg_dimer, grid, scheduler=ex, **kw).to_frame()
    assert ex.order == [2, 1, 0]
    pd.testing.assert_frame_equal(fwd, bwd, check_exact=True)
