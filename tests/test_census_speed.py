"""The fast census path keeps the census's answers.

* grouping: ``group_by_touch`` on cell indices is the relation 'cells of j lie in the dilation of i'
  (the 3^n neighbourhood), on random occupations;
"""
from __future__ import annotations

import numpy as np

from analysis.attractors.grouping import components, dilate, group_by_touch, occupied_cells


def _touch_by_dilation(cells, grid):
    m = len(cells)
    dil = [dilate(c, grid) for c in cells]
    adj = np.zeros((m, m), dtype=bool)
    for i in range(m):
        for j in range(i + 1, m):
            if cells[j][0].size and np.isin(cells[j][0], dil[i], assume_unique=True).any():
                adj[i, j] = adj[j, i] = True
    return components(adj)


def test_group_by_touch_is_the_dilation_relation():
    rng = np.random.default_rng(3)
    for trial in range(30):
        n = int(rng.integers(1, 7))
        m = int(rng.integers(2, 9))
        # small clouds at random centres: some touch, some do not
        samples = [rng.normal(rng.uniform(-1, 1, n), rng.uniform(0.005, 0.2), size=(int(rng.integers(1, 60)), n))
                   for _ in range(m)]
        if trial % 5 == 0:
            samples[0] = samples[0][:0]   # an empty occupation touches nothing
        cells, grid = occupied_cells(samples, float(rng.choice([0.08, 0.2, 0.5])))
        np.testing.assert_array_equal(group_by_touch(cells, grid), _touch_by_dilation(cells, grid))
    # neighbours touch, cells two apart do not (a closed form on a 1-D grid of 10 cells)
    cells, grid = occupied_cells([np.array([[0.05]]), np.array([[0.15]]), np.array([[0.35]]), np.array([[0.95]])],
                                 0.1, lo=np.array([0.0]), hi=np.array([1.0]))
    np.testing.assert_array_equal(group_by_touch(cells, grid), [0, 0, 1, 2])
