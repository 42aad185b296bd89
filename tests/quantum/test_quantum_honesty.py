"""Numerical honesty of steady states (issue 15): gap-scaled certification, memory refusal, bad input."""
from __future__ import annotations

import time

import numpy as np
import pytest

from bifurcate.quantum import steady_state
from bifurcate.quantum.steady import QuantumSizeError, memory_estimate

SMALL_GAMMA = {"gamma": 1e-8, "J": 1.5, "lam": 0.5}


def test_small_gamma_krylov_is_not_trusted():
    # the reported failure: the residual test passes (~1e-12) but the gap is ~gamma, and the Krylov
    # answer has the wrong sign of Z_A; it must say it cannot be certified
    r = steady_state(4, SMALL_GAMMA, "krylov")
    assert r.residual < 1e-9  # the old criterion would have called it fine
    assert r.status == "not-trusted" and not r.success
    assert "not trusted" in r.message and "gap" in r.message
    assert r.stats["error_estimate"] > 1e-6


def test_small_gamma_auto_falls_back_to_lu_and_stays_honest():
    r = steady_state(4, SMALL_GAMMA)
    assert r.method == "direct" and "krylov not trusted" in r.stats["fallback_from"]
    # the LU's own condition estimate (gap ~ 1e-9) cannot certify 1e-6 either: said, not hidden
    assert r.status == "not-trusted" and r.stats["gap_estimate"] < 1e-6


def test_moderately_small_gamma_is_certified_and_right():
    # gamma = 1e-3: the gap is small but resolved; the estimate must pass and the answer agree with the LU
    p = {"gamma": 1e-3, "J": 1.5, "lam": 0.5}
    a = steady_state(3, p, "direct")
    b = steady_state(3, p, "krylov", options={"rtol": 1e-12})
    assert a.status == "ok" and a.stats["gap_estimate"] < 1e-2
    assert b.status == "ok" and b.stats["gap_estimate"] < 1e-2
    # certified answers are right to their own error estimates (measured 1.8e-10 against 1.8e-9)
    err = np.linalg.norm(a.rho - b.rho) / np.linalg.norm(a.rho)
    assert err <= b.stats["error_estimate"] + a.stats["error_estimate"]


def test_gap_estimate_tracks_the_true_gap():
    # the certificate's gap estimate is within a small factor of the dense Liouvillian gap
    from bifurcate.quantum import liouvillian_spectrum

    p = {"J": 1.5, "lam": 0.5}
    r = steady_state(2, p, "direct")
    sp_ = liouvillian_spectrum(2, p)
    true_gap = float(np.abs(sp_.even[1:]).min())  # smallest nonzero |mu| of the steady state's sector
    assert 0.01 * true_gap < r.stats["gap_estimate"] < 10 * true_gap


def test_impossible_size_is_refused_before_allocating():
    t0 = time.perf_counter()
    with pytest.raises(QuantumSizeError, match=r"S=1000.*TiB.*limit") as info:
        steady_state(1000, {"J": 1.0})
    assert time.perf_counter() - t0 < 5.0
    assert isinstance(info.value, MemoryError) and isinstance(info.value, ValueError)
    with pytest.raises(QuantumSizeError, match="max_memory_gib"):
        steady_state(4, {"J": 1.0}, options={"max_memory_gib": 1e-4})
    # the estimate is monotone and the Krylov path is linear in the unknowns
    assert memory_estimate(2e6, "krylov", u1=False) == pytest.approx(2 * memory_estimate(1e6, "krylov", u1=False))
    assert memory_estimate(1e4, "direct", u1=False) > memory_estimate(1e4, "direct", u1=True)


@pytest.mark.parametrize("S", [float("nan"), -1, 0, 1.25, "2", None, True, float("inf")])
def test_bad_spin_length(S):
    with pytest.raises(ValueError, match="expected S a positive integer or half-integer"):
        steady_state(S)


def test_gamma_zero_says_not_unique_and_unknown_parameter():
    with pytest.raises(ValueError, match="expected gamma > 0.*not unique"):
        steady_state(2, {"gamma": 0.0})
    with pytest.raises(KeyError, match="unknown parameter.*'kappa'"):
        steady_state(2, {"kappa": 0.5})
    with pytest.raises(ValueError, match="expected max_error a positive finite number"):
        steady_state(2, options={"max_error": float("nan")})
    with pytest.raises(ValueError, match="expected max_memory_gib"):
        steady_state(2, options={"max_memory_gib": -1})


def test_spectrum_refuses_impossible_sizes():
    from bifurcate.quantum import liouvillian_spectrum

    with pytest.raises(QuantumSizeError, match="liouvillian_spectrum.*S=500.*limit"):
        liouvillian_spectrum(500, {"J": 1.0})


def test_exact_tables_carry_the_certification_status():
    """The tables the studies and reports write record a not-certified steady state as status 1
    with the solver's reason, never as status 0 'success'."""
    from analysis.report_attractors import exact_table
    from bifurcate.models import LMG_DIMER
    from studies.common import exact_sweep

    tab = exact_table({"J": 0.3, "lam": 0.2, "gamma": 1e-8}, [4], model=LMG_DIMER)
    ok = exact_table({"J": 0.3, "lam": 0.2}, [2], model=LMG_DIMER)
    sw = exact_sweep([{"J": 0.3, "lam": 0.2, "gamma": 1e-8}], [4])
    for t in (tab, sw):   # gamma = 1e-8: the gap (~1e-9) cannot certify the answer
        assert t["status"].iat[0] == 1 and t["message"].iat[0].startswith("not trusted")
    assert ok["status"].iat[0] == 0
