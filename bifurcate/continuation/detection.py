"""Test functions for codimension-one points of equilibria, and the labelling of located points.

* LP (fold): the parameter component of the unit tangent, tau_p, changes sign.
* BP (branch point): det [[F_y, F_p], [t^T]] (the augmented Jacobian of the corrector) changes
  sign. At a symmetric pitchfork tau_p does not vanish (the trivial branch goes straight through),
  so a pitchfork is a BP and never an LP.
* HB (Hopf): the bialternate-product test prod_{i<j} (l_i + l_j) over the tangent-space
  eigenvalues changes sign. It also vanishes at a neutral saddle (a real pair with
  l_i + l_j = 0); the located point is labelled HB only if the pair is complex, and NSad otherwise.
  A sign change whose both ends have a pair summing to zero within the stability tolerance is
  rounding noise along a branch of centres, not a crossing: no point is reported.

References
----------
Kuznetsov, Elements of Applied Bifurcation Theory (3rd ed.), Sec. 10.2; Govaerts, Numerical
Methods for Bifurcations of Dynamical Equilibria (2000), Ch. 4.
"""
from __future__ import annotations

import numpy as np

from bifurcate.continuation.hopf import first_lyapunov_coefficient
from bifurcate.continuation.pseudo_arclength import TestFunction, tangent_at
from bifurcate.equilibria import spectrum_tolerance
from bifurcate.results import BifurcationPoint

__all__ = ["equilibrium_tests", "bialternate_product", "critical_pair", "make_point", "hopf_data"]


def bialternate_product(ev: np.ndarray) -> float:
    """prod_{i<j} (l_i + l_j): zero iff two eigenvalues sum to zero (Hopf or neutral saddle);
    real for a real matrix. Equals the determinant of the bialternate product 2A (.) I."""
    ev = np.asarray(ev)
    iu, ju = np.triu_indices(len(ev), 1)
    return float(np.prod(ev[iu] + ev[ju]).real)


def critical_pair(ev: np.ndarray):
    """The pair (i, j) minimising |l_i + l_j|, and whether it is a complex-conjugate pair."""
    ev = np.asarray(ev)
    iu, ju = np.triu_indices(len(ev), 1)
    k = int(np.argmin(np.abs(ev[iu] + ev[ju])))
    i, j = int(iu[k]), int(ju[k])
    scale = max(1.0, float(np.max(np.abs(ev))))
    complex_pair = abs(ev[i].imag) > 1e-7 * scale and abs(ev[i] - np.conj(ev[j])) < 1e-6 * scale
    return i, j, complex_pair


def hopf_data(model, y, p, l1_tol: float) -> dict:
    """omega, l1 and the criticality label of a Hopf point."""
    try:
        l1, omega = first_lyapunov_coefficient(model, y, p)
    except (ValueError, np.linalg.LinAlgError) as exc:
        return {"omega": np.nan, "l1": np.nan, "criticality": "unknown", "l1_message": str(exc)}
    if not np.isfinite(l1):
        crit = "unknown"
    elif abs(l1) <= l1_tol:
        crit = "degenerate"
    else:
        crit = "supercritical" if l1 < 0 else "subcritical"
    return {"omega": omega, "l1": l1, "criticality": crit, "period": 2 * np.pi / omega if omega else np.inf}


def equilibrium_tests(problem, opts) -> list[TestFunction]:
    """The LP, BP and HB test functions of an :class:`EquilibriumProblem` (as enabled in ``opts``)."""
    tests = []
    n = problem.n

    if opts.detect_lp:
        def lp(x, t_ref):
            return float(tangent_at(problem, x, t_ref)[-1])

        tests.append(TestFunction("LP", lp, lambda x, t: ("LP", {}), 1))
    if opts.detect_bp:
        def bp(x, t_ref):
            M = np.vstack([problem.jacobian(x), t_ref])
            return float(np.linalg.det(M))

        def bp_classify(x, t):
            # the critical eigenvector (null vector of F_y), for branch switching
            _, _, Vt = np.linalg.svd(problem.state_jacobian(x))
            return "BP", {"null_vector": Vt[-1].copy()}

        tests.append(TestFunction("BP", bp, bp_classify, 1))
    if opts.detect_hb:
        def hb(x, t_ref):
            return bialternate_product(problem.eigenvalues(x))

        def hb_classify(x, t):
            ev = problem.eigenvalues(x)
            i, j, cplx = critical_pair(ev)
            if not cplx:
                return "NSad", {"pair": (complex(ev[i]), complex(ev[j]))}
            return "HB", hopf_data(problem.model, x[:n], problem.pvec(x), opts.l1_tol)

        tests.append(TestFunction("HB", hb, hb_classify, 2))
    return tests


def _neutral_bracket(problem, e: dict, opts) -> bool:
    """True if the sign change of the Hopf test is rounding noise: at both ends of the bracket
    some pair sums to zero within the stability tolerance (scaled to the spectrum). Along a
    branch of centres (purely imaginary pairs: a time-reversible or conservative flow) the pair's
    real part is noise of either sign; a genuine crossing is far from zero at one end at least."""
    for key in ("x_a", "x_b"):
        ev = np.asarray(problem.eigenvalues(e[key]))
        if len(ev) < 2:
            return False
        iu, ju = np.triu_indices(len(ev), 1)
        tol = 2.0 * float(spectrum_tolerance(ev[None, :], opts.stab_tol)[0])
        if np.min(np.abs(ev[iu] + ev[ju])) > tol:
            return False
    return True


def make_point(problem, tf: TestFunction, e: dict, param_values: np.ndarray, param: str, opts):
    """A :class:`BifurcationPoint` from a located (or bracketed) event of an equilibrium branch."""
    x = e["x"]
    if tf.kind == "HB" and _neutral_bracket(problem, e, opts):
        return None
    kind, data = tf.classify(x, e["t"]) if tf.classify else (tf.kind, {})
    if kind is None:
        return None
    model = problem.model
    p = problem.pvec(x)
    row = int(e["row"])
    data = dict(data)
    data.update(param_name=param, sigma=float(e["sigma"]), sigma_bracket=(0.0, float(e["ds"])),
                test=tf.func(x, e["t"]))
    return BifurcationPoint(kind=kind, param=float(x[-1]), state=x[:-1].copy(), params=model.unpack_params(p),
                            index=row, located=bool(e["located"]),
                            precision=float(abs(e["x_hi"][-1] - e["x_lo"][-1])),
                            bracket=(float(param_values[row]), float(param_values[min(row + 1, len(param_values) - 1)])),
                            eigenvalues=problem.eigenvalues(x), data=data)
