"""Liouvillian gaps per sector and Monte-Carlo trajectory estimates."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import qutip

from analysis.quantum import spectrum as spec
from analysis.quantum import steady_state
from analysis.quantum.operators import qutip_model
from analysis.quantum.spectrum import gap_scan, liouvillian_spectrum
from analysis.quantum.trajectories import quantum_trajectories


@pytest.mark.parametrize("p", [{"J": 1.5, "lam": 0.5}, {"J": 0.0, "lam": 0.3}, {"J": 1.5, "lam": 0.0}])
def test_spectrum_matches_qutip_liouvillian(p):
    r = liouvillian_spectrum(1, p, k=4)
    H, c = qutip_model(1, p)
    ev = np.linalg.eigvals(qutip.liouvillian(H, c).full())
    ev = ev[np.argsort(-ev.real)]
    assert abs(r.even[0]) < 1e-12
    assert r.gap == pytest.approx(-ev[1].real, abs=1e-10)
    # every sector eigenvalue is a Liouvillian eigenvalue
    for mu in np.concatenate([r.even, r.odd]):
        assert np.min(np.abs(ev - mu)) < 1e-9


def test_odd_gap_closes_in_the_ferromagnetic_phase_only():
    ferro = [liouvillian_spectrum(S, {"J": 1.5, "lam": 0.0}).gap_odd for S in (1, 2, 3)]
    normal = [liouvillian_spectrum(S, {"J": 0.3, "lam": 0.0}).gap_odd for S in (1, 2, 3)]
    assert ferro[2] < ferro[1] < ferro[0] and ferro[2] < 0.3 * ferro[0]
    assert min(normal) > 0.3


def test_arnoldi_agrees_with_dense():
    a = liouvillian_spectrum(2, {"J": 1.5, "lam": 0.0}, method="dense")
    b = liouvillian_spectrum(2, {"J": 1.5, "lam": 0.0}, method="arnoldi", sigma=0.0)
    assert b.gap_odd == pytest.approx(a.gap_odd, abs=1e-8)
    assert "may be missed" in b.message


def test_gap_scan_records_failures(monkeypatch):
    orig = spec.liouvillian_spectrum

    def flaky(S, p, **kw):
        if p["J"] == 1.0:
            raise np.linalg.LinAlgError("synthetic")
        return orig(S, p, **kw)

    monkeypatch.setattr(spec, "liouvillian_spectrum", flaky)
    df = gap_scan([1], [{"J": 0.5}, {"J": 1.0}])
    assert list(df["status"]) == ["ok", "error"] and "synthetic" in df["message"].iloc[1]
    with pytest.raises(KeyError, match="'j'"):
        gap_scan([1], [{"j": 1.0}])
    with pytest.raises(ValueError, match="expected method"):
        liouvillian_spectrum(1, method="lapack")


def test_trajectories_agree_with_the_exact_steady_state():
    p = {"J": 1.5, "lam": 0.5}
    est = quantum_trajectories(2, p, n_traj=24, t_end=120.0, t_burn=30.0, seed=3)
    exact = steady_state(2, p)
    for k in ("ZA", "ZB", "X2B"):
        assert abs(est.mean[k] - getattr(exact, k)) < 4.5 * est.sem[k] + 1e-3, k
        assert 0 < est.sem[k] < 0.05
    again = quantum_trajectories(2, p, n_traj=24, t_end=120.0, t_burn=30.0, seed=3)
    assert again.mean["ZB"] == est.mean["ZB"]  # reproducible
    row = est.to_frame()
    assert {"ZB", "ZB_sem", "S", "J", "lam", "status"} <= set(row.columns)
    assert isinstance(est.per_trajectory, pd.DataFrame) and len(est.per_trajectory) == 24


def test_trajectory_bad_input():
    with pytest.raises(ValueError, match="expected n_traj an integer >= 2"):
        quantum_trajectories(2, n_traj=1)
    with pytest.raises(ValueError, match="expected 0 <= t_burn < t_end"):
        quantum_trajectories(2, t_end=10.0, t_burn=20.0)
    with pytest.raises(ValueError, match="expected psi0"):
        quantum_trajectories(1, psi0="up", n_traj=2, t_end=1.0, t_burn=0.0)
