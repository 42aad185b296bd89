"""Fig. 3's cuts have one definition (analysis.cuts) used by the studies and the quantum cross-check."""
import numpy as np
import pytest

from analysis.cuts import CUTS, Cut
from analysis.quantum.crosscheck import PAPER_CUTS


def test_quantum_cross_check_and_studies_use_the_one_definition():
    from studies import common

    assert common.CUTS is CUTS and common.Cut is Cut
    assert set(PAPER_CUTS) == set(CUTS) == {"a", "b", "c", "d"}
    for k, c in CUTS.items():
        pc = PAPER_CUTS[k]
        assert pc["sweep"] == c.param and pc["fixed"] == dict(c.fixed)
        np.testing.assert_array_equal(pc["values"], c.values(41))
        assert pc["values"][0] == c.lo and pc["values"][-1] == c.hi


def test_cut_geometry_and_bad_input():
    c = CUTS["c"]
    assert c.segment() == ((-2.0, 2.0), (1.0, 1.0))
    assert CUTS["d"].segment() == ((1.5, 1.5), (0.0, 1.5))
    assert c.points(3) == [{"lam": 1.0, "J": -2.0}, {"lam": 1.0, "J": 0.0}, {"lam": 1.0, "J": 2.0}]
    with pytest.raises(ValueError, match="param"):
        Cut("x", "g", 0.0, 1.0, {"J": 0.0})
    with pytest.raises(ValueError, match="lo < hi"):
        Cut("x", "lam", 1.0, 0.0, {"J": 0.0})
    with pytest.raises(ValueError, match="cannot also be fixed"):
        Cut("x", "lam", 0.0, 1.0, {"lam": 0.2})
