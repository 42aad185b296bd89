"""The Fig. 2 benchmarks' answer comparison (studies.benchmarks.bench_fig2_ab.compare)."""
from __future__ import annotations

import math

from studies.benchmarks.bench_fig2_ab import compare

KINDS = ("FP", "LC", "QP", "CH", "NEUTRAL", "unclassified")


def _point(phase, fracs, lyap=("0x1.0p-1",), n_att=1, J=0.0, lam=0.0, kind="CH"):
    return {"J": J, "lam": lam, "phase": phase, "n_attractors": n_att, "n_stable_fp": 0,
            "fracs": {k: fracs.get(k, 0.0) for k in KINDS}, "kind": [kind], "decision": ["decided"],
            "t_measured": [400.0], "lyap": [list(lyap)]}


def test_identical_answers_agree_everywhere():
    a = {"points": [_point("CH", {"CH": 1.0}), _point("2FP", {"FP": 1.0}, n_att=2, J=1.0)]}
    out = compare(a, a, 16)
    assert out["n_points"] == 2 and out["disagreements"] == []
    assert out["identical_trajectory_tables"] == out["same_phase"] == out["basins_within_3_errors"] == 1.0


def test_a_changed_phase_and_a_moved_basin_are_reported_with_the_point():
    a = {"points": [_point("CH", {"CH": 1.0}), _point("FP+CH", {"FP": 0.5, "CH": 0.5}, n_att=2, J=1.0, lam=0.5)]}
    b = {"points": [_point("none", {"unclassified": 1.0}, kind="-1"), _point("FP+CH", {"FP": 0.5, "CH": 0.5}, ("0x1.8p-1",),
                                                                   n_att=2, J=1.0, lam=0.5)]}
    out = compare(a, b, 16)
    assert out["same_phase"] == 0.5 and out["same_n_attractors"] == 1.0
    # the first point's kind differs, the second point's exponent in its last bit
    assert out["identical_trajectory_tables"] == 0.0
    assert out["basins_within_3_errors"] == 0.5
    (d,) = out["disagreements"]
    assert (d["J"], d["lam"], d["phase_a"], d["phase_b"]) == (0.0, 0.0, "CH", "none")
    # all 16 initial conditions moved from CH to unclassified: far beyond 3 binomial errors
    assert d["basin_dev"] > 3 and math.isfinite(d["basin_dev"])
    # a basin shift of one initial condition in 16 is within the errors
    c = {"points": [_point("CH", {"CH": 15 / 16, "unclassified": 1 / 16}), a["points"][1]]}
    assert compare(a, c, 16)["basins_within_3_errors"] == 1.0
