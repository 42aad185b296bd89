"""Issue 16 judged trends: the slowest Liouvillian eigenvalues approach the mean-field prediction like 1/S.

Spectra by the propagator Arnoldi (any imaginary part, residuals checked) and, at lam = 0, exactly as the
Kronecker sum of the two single-spin Liouvillians (checked here against the coupled code path).
"""
from __future__ import annotations

import numpy as np
import pytest

from studies.liouvillian_bands import band_spectra, predictions, trend, uncoupled_spectrum


def test_uncoupled_spectrum_is_the_dimer_spectrum_at_lam_0():
    from bifurcate.models.lmg_dimer import LMG_DIMER_SYSTEM
    from bifurcate.quantum import system_spectrum

    p = {"J": 1.5, "lam": 0.0}
    dense = system_spectrum(LMG_DIMER_SYSTEM, 2, p, method="dense", k=400)
    full = np.concatenate(list(dense.sectors.values()))
    full = full[np.argsort(-full.real, kind="stable")][:14]
    ours = np.concatenate(list(uncoupled_spectrum(2, p, k=14).values()))
    ours = ours[np.argsort(-ours.real, kind="stable")][:14]
    assert np.allclose(np.sort(full.real), np.sort(ours.real), atol=1e-9)
    for z in full[:12]:
        assert np.min(np.abs(ours - z)) < 1e-9
    with pytest.raises(ValueError, match="expected lam = 0"):
        uncoupled_spectrum(2, {"J": 1.5, "lam": 0.1})


def test_lmg_point_slow_modes_approach_the_mean_field_like_one_over_S():
    """(1.5, 0): the real mode l + l* = -0.3431 and the mode -0.5 + 2i: S * distance levels off
    (measured S = 2..24: 0.354-0.375 and 0.46-0.49 from S = 5 on); the tunnelling gap closes faster."""
    p = {"J": 1.5, "lam": 0.0}
    Ss = (6, 8, 12)
    spectra = {S: uncoupled_spectrum(S, p, k=12) for S in Ss}
    df = trend(spectra, predictions(p))
    for z, lo, hi in ((-0.343145750508 + 0j, 0.35, 0.39), (-0.5 + 2j, 0.45, 0.50)):
        sub = df[np.isclose(df["predicted"].to_numpy(complex), z, atol=1e-6)].sort_values("S")
        d = sub["distance"].to_numpy()
        assert np.all(np.diff(d) < 0), d
        Sd = sub["S"].to_numpy() * d
        assert np.all((lo < Sd) & (Sd < hi)), Sd
    gaps = []
    for S in Ss:
        v = np.concatenate(list(spectra[S].values()))
        gaps.append(-np.sort(v.real)[::-1][1])
    # exponential, not a power: the same decay rate per unit S (measured 0.48, 0.49), while a power law
    # fitted to each pair would need exponents 3.3 then 4.8
    r1 = np.log(gaps[0] / gaps[1]) / (Ss[1] - Ss[0])
    r2 = np.log(gaps[1] / gaps[2]) / (Ss[2] - Ss[1])
    assert r1 > 0.3 and abs(r1 - r2) < 0.1 * r1, (r1, r2)


def test_normal_point_slowest_mode_approaches_like_one_over_S():
    """(0, 0.3): the mode -0.2 + i (U(1) charge 1); measured S * distance = 0.058 +- 0.001 for S = 5..16."""
    p = {"J": 0.0, "lam": 0.3}
    spectra = {S: {k: v[0] for k, v in band_spectra(S, p, k=4, sectors=[(1,)]).items()} for S in (4, 6, 8)}
    df = trend(spectra, predictions(p, n_check=1))
    d = df.sort_values("S")["distance"].to_numpy()
    Sd = np.array([4, 6, 8]) * d
    assert np.all(np.diff(d) < 0) and np.all((0.055 < Sd) & (Sd < 0.062)), Sd
    assert np.allclose(np.array(df["matched"].tolist()).imag, 1.0, atol=1e-9)
