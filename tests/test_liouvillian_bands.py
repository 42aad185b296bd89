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


def test_shift_invert_band_mode_is_the_propagators():
    """(1.5, 0.45), S = 4, odd sector: the mode whose imaginary part approaches the cycle's omega
    (propagator: -0.408 + 1.724 i) is found by shift-invert aimed at -0.35 + 1.84 i, by sparse LU and by
    preconditioned GMRES, to the propagator's precision."""
    p = {"J": 1.5, "lam": 0.45}
    prop = band_spectra(4, p, k=4, sectors=[(1,)])[(1,)]
    z_prop = prop[0][np.argmin(np.abs(prop[0] - (-0.4 + 1.8j)))]
    assert abs(z_prop - (-0.408 + 1.724j)) < 2e-3
    for direct_max in (10 ** 6, 10):
        si = band_spectra(4, p, k=3, sectors=[(1,)], method="shift-invert", shifts=[-0.35 + 1.84j],
                          direct_max=direct_max, tol=1e-10, inner_rtol=1e-10)[(1,)]
        z = si[0][np.argmin(np.abs(si[0] - z_prop))]
        assert abs(z - z_prop) < 1e-8 and np.all(si[1] < 1e-8), (z, z_prop, si[1])
    with pytest.raises(ValueError, match="expected shifts"):
        band_spectra(4, p, sectors=[(1,)], method="shift-invert")


def test_band_trend_tells_a_closing_mode_from_a_finite_one():
    from studies.liouvillian_bands import band_trend

    S = np.array([4.0, 6, 8, 10, 12, 14, 16])
    closing = band_trend(S, -3.0 / S + 1.8385j * (1 - 0.5 / S), 1.8385)
    # 3 / S is both a power law and a "finite limit" 0 + 3 / S: the limit must come out 0
    assert abs(closing["fit"]["power"]["b"] - 1) < 1e-9 and abs(closing["fit"]["finite"]["g_inf"]) < 1e-9
    assert closing["fit"]["exponential"]["rss"] > 1e3 * closing["fit"]["power"]["rss"]
    assert np.allclose(closing["local_power_re"], 1.0) and abs(closing["im_power"] - 1) < 1e-9
    finite = band_trend(S, -(0.38 + 0.2 / S) + 1.8j, 1.8385)
    assert finite["fit"]["choice"] == "finite" and abs(finite["fit"]["finite"]["g_inf"] - 0.38) < 1e-9
    assert max(finite["local_power_re"]) < 0.2


@pytest.mark.slow
def test_phase_diffusion_scales_like_one_over_S():
    """TWA on the cycle of (1.5, 0.45): Var(t_n) grows linearly and S D_phi is the same at S = 100 and 400
    (measured 28-32 at S = 50 and 200 with 300 trajectories): the band's closing rate ~ 30 / S."""
    from studies.liouvillian_bands import phase_diffusion_estimate

    a = phase_diffusion_estimate(100, n_traj=120, n_periods=8, seed=2)
    b = phase_diffusion_estimate(400, n_traj=120, n_periods=8, seed=3)
    assert np.all(np.diff(a["var"][1:]) > -0.2 * max(a["var"]))  # grows (noisy but not decreasing)
    assert 10 < a["S_D"] < 60 and 10 < b["S_D"] < 60, (a["S_D"], b["S_D"])
    assert 0.5 < a["S_D"] / b["S_D"] < 2.0
    assert abs(b["mean_period"] - 3.4176) < 0.2
