"""Spin Wigner function: QuTiP relation, normalisation, overlap, qubit closed form, Fig. 4(b) lobes, plots."""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import qutip  # noqa: E402
from scipy.optimize import fsolve  # noqa: E402

from analysis.quantum import steady_state  # noqa: E402
from analysis.quantum.wigner import angles_of, plot_wigner_map, plot_wigner_sphere, spin_wigner  # noqa: E402

TH = np.linspace(0, np.pi, 41)
PH = np.linspace(-np.pi, np.pi, 61)


@pytest.mark.parametrize("j", [0.5, 1, 1.5, 2, 3, 5])
def test_relation_to_qutip_spin_wigner(j):
    rho = qutip.rand_dm(int(2 * j + 1), seed=7)
    w = spin_wigner(rho, TH, PH)
    wq, _, _ = qutip.spin_wigner(rho, TH, PH)  # indexed [phi, theta]
    np.testing.assert_allclose(w.W, np.sqrt(4 * np.pi / (2 * j + 1)) * wq.T, atol=1e-12)


@pytest.mark.parametrize("j", [0.5, 2, 4])
def test_normalisation_and_overlap(j):
    n = int(2 * j + 1)
    r1, r2 = qutip.rand_dm(n, seed=1), qutip.rand_dm(n, seed=2)
    w1 = spin_wigner(r1, n_theta=241, n_phi=241)
    w2 = spin_wigner(r2, w1.theta, w1.phi)
    assert w1.integral() == pytest.approx(1.0, abs=1e-4)  # trapezoidal error ~ h^2
    prod = type(w1)(w1.theta, w1.phi, w1.W * w2.W, w1.j)
    assert prod.integral() == pytest.approx((r1 * r2).tr().real, abs=1e-3)


def test_qubit_closed_form():
    rho = qutip.rand_dm(2, seed=3)
    r = [qutip.expect(o, rho) for o in (qutip.sigmax(), qutip.sigmay(), qutip.sigmaz())]
    w = spin_wigner(rho, TH, PH)
    T, P = np.meshgrid(TH, PH, indexing="ij")
    n_dot_r = np.sin(T) * np.cos(P) * r[0] + np.sin(T) * np.sin(P) * r[1] + np.cos(T) * r[2]
    np.testing.assert_allclose(w.W, 0.5 * (1 + np.sqrt(3) * n_dot_r), atol=1e-13)


def test_coherent_state_peaks_at_its_direction():
    th0, ph0 = 1.1, -2.2
    w = spin_wigner(qutip.spin_coherent(4, th0, ph0), n_theta=181, n_phi=361)
    th, ph = w.argmax()
    assert abs(th - th0) < 0.02 and abs(ph - ph0) < 0.02
    assert np.allclose(angles_of([np.sin(th0) * np.cos(ph0), np.sin(th0) * np.sin(ph0), np.cos(th0)]),
                       [[th0], [ph0]])


def _spin_b_fixed_points(g=1.0, gamma=0.5, J=1.5):
    """Fixed points of Eqs. (9)-(11) at lam = 0 (spin B alone) on the unit sphere, with tangent stability."""
    def f(v):
        X, Y, Z = v
        return [g * Y - gamma * X * Z, -g * X + 2 * J * Z * X - gamma * Y * Z, -2 * J * Y * X + gamma * (1 - Z * Z)]

    def jac(v):
        X, Y, Z = v
        return np.array([[-gamma * Z, g, -gamma * X], [-g + 2 * J * Z, -gamma * Z, 2 * J * X - gamma * Y],
                         [-2 * J * Y, -2 * J * X, -2 * gamma * Z]])

    found = []
    for th in np.linspace(0.2, 2.9, 6):
        for ph in np.linspace(-3.0, 3.0, 7):
            v0 = [np.sin(th) * np.cos(ph), np.sin(th) * np.sin(ph), np.cos(th)]
            v, _, ier, _ = fsolve(f, v0, fprime=jac, full_output=True)
            if ier == 1 and abs(np.linalg.norm(v) - 1) < 1e-8 and not any(np.allclose(v, u, atol=1e-7) for u in found):
                found.append(v)
    stable = []
    for v in found:
        Pm = np.eye(3) - np.outer(v, v)
        ev = np.linalg.eigvals(Pm @ jac(v) @ Pm)
        ev = ev[np.argsort(np.abs(ev))][1:]  # drop the radial zero
        if np.all(ev.real < 0):
            stable.append(v)
    return stable


def test_fig4b_spin_B_has_two_lobes_at_the_mean_field_fixed_points():
    """(J, lam) = (1.5, 0), S = 3: J > J_c = 0.625 makes spin B ferromagnetic (two stable fixed points)."""
    fps = _spin_b_fixed_points()
    assert len(fps) == 2 and all(abs(v[0]) > 0.5 for v in fps)
    np.testing.assert_allclose(fps[0][:2], -fps[1][:2], atol=1e-8)  # Z2 partners
    r = steady_state(3, {"J": 1.5, "lam": 0.0})
    w = spin_wigner(r.reduced("B"), n_theta=181, n_phi=361)
    T, P = np.meshgrid(w.theta, w.phi, indexing="ij")
    n = np.stack([np.sin(T) * np.cos(P), np.sin(T) * np.sin(P), np.cos(T)], axis=-1)
    north = w.W[0, 0]
    for v in fps:
        ang = np.arccos(np.clip(n @ v, -1, 1))
        near = ang < 0.35
        w_near = w.W[near].max()
        assert w_near > 0.9 * w.W.max()         # a lobe (local high) within 20 degrees of the fixed point
        assert w_near > 2.5 * north             # much higher than at the pole (the paramagnetic direction)
    # the global maximum sits next to one of the two fixed points
    th, ph = w.argmax()
    top = np.array([np.sin(th) * np.cos(ph), np.sin(th) * np.sin(ph), np.cos(th)])
    assert min(np.arccos(np.clip(top @ v, -1, 1)) for v in fps) < 0.3


def test_plots_return_axes_with_overlays():
    w = spin_wigner(qutip.spin_coherent(2, 1.0, 0.5), n_theta=31, n_phi=41)
    pts = np.array([[0.5, 0.1, 0.86], [-0.5, -0.1, 0.86]])
    traj = np.column_stack([np.cos(np.linspace(0, 6, 50)), np.sin(np.linspace(0, 6, 50)), np.zeros(50)])
    ax = plot_wigner_map(w, overlay=[pts, traj])
    assert ax.get_xlabel() and len(ax.lines) == 2
    fig, ax0 = plt.subplots()
    assert plot_wigner_map(w, ax=ax0, overlay=pts, colorbar=False) is ax0
    ax3 = plot_wigner_sphere(w, overlay=pts)
    assert hasattr(ax3, "get_zlim") and len(ax3.lines) == 1
    plt.close("all")


def test_bad_input():
    with pytest.raises(ValueError, match="expected a square density matrix"):
        spin_wigner(np.ones((2, 3)))
    with pytest.raises(ValueError, match=r"expected points of shape \(k, 3\)"):
        angles_of(np.ones((4, 2)))
    assert spin_wigner(np.array([1.0, 0.0])).W.shape == (91, 181)  # a ket is accepted
