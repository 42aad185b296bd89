"""Butcher tableaux of the explicit Runge-Kutta methods, as plain data.

Each embedded pair is stored in the layout of SciPy's ``_ivp/rk.py``: ``A`` (s x s, strictly lower),
``B`` (s), ``C`` (s), and error weights over the ``s + 1`` stage derivatives, the last one being the
derivative at the new point (first-same-as-last). For DOP853 the two error estimators ``E3`` and
``E5`` are combined as in Hairer, Norsett & Wanner, *Solving ODEs I*, Sec. II.10.

References
----------
J. R. Dormand, P. J. Prince, "A family of embedded Runge-Kutta formulae", J. Comput. Appl. Math. 6
(1980). E. Hairer, S. P. Norsett, G. Wanner, *Solving Ordinary Differential Equations I* (1993).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

__all__ = ["Tableau", "DP5", "DOP853", "RK4", "TABLEAUX", "METHOD_CODES"]


@dataclass(frozen=True, eq=False)
class Tableau:
    """An explicit Runge-Kutta tableau (embedded pair if ``E5`` is non-empty).

    Attributes
    ----------
    name : str
    order : int
        Order of the propagated solution.
    error_order : int
        Order of the error estimator (step-size exponent ``-1 / (error_order + 1)``).
    A : ndarray, shape (s, s)
    B, C : ndarray, shape (s,)
    E5, E3 : ndarray, shape (s + 1,)
        Error weights; ``E3`` is all zeros except for DOP853.
    A_extra, C_extra, D : ndarray
        DOP853 only: three extra stages and the coefficients of its 7th-order dense output
        (Hairer's ``dop853.f`` CONTD8), used on steps that contain a requested output time.
    """

    name: str
    order: int
    error_order: int
    A: np.ndarray
    B: np.ndarray
    C: np.ndarray
    E5: np.ndarray
    E3: np.ndarray
    A_extra: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))
    C_extra: np.ndarray = field(default_factory=lambda: np.zeros(0))
    D: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))

    @property
    def n_stages(self) -> int:
        return self.B.shape[0]


def _dp5() -> Tableau:
    A = np.zeros((6, 6))
    A[1, :1] = [1 / 5]
    A[2, :2] = [3 / 40, 9 / 40]
    A[3, :3] = [44 / 45, -56 / 15, 32 / 9]
    A[4, :4] = [19372 / 6561, -25360 / 2187, 64448 / 6561, -212 / 729]
    A[5, :5] = [9017 / 3168, -355 / 33, 46732 / 5247, 49 / 176, -5103 / 18656]
    B = np.array([35 / 384, 0, 500 / 1113, 125 / 192, -2187 / 6784, 11 / 84])
    C = np.array([0, 1 / 5, 3 / 10, 4 / 5, 8 / 9, 1])
    # embedded 4th-order weights b* (7 stages, the last is f(y_new)); E = b - b*
    b_star = np.array([5179 / 57600, 0, 7571 / 16695, 393 / 640, -92097 / 339200, 187 / 2100, 1 / 40])
    E5 = np.append(B, 0.0) - b_star
    return Tableau("DP5", 5, 4, A, B, C, E5, np.zeros(7))


def _dop853() -> Tableau:
    # The DOP853 coefficients (Hairer's dop853.f) are long; SciPy ships them as a data module.
    from scipy.integrate._ivp import dop853_coefficients as c

    s = c.N_STAGES
    A = np.ascontiguousarray(c.A[:s, :s], dtype=float)
    return Tableau("DOP853", 8, 7, A, np.asarray(c.B, float), np.asarray(c.C[:s], float),
                   np.asarray(c.E5, float), np.asarray(c.E3, float),
                   A_extra=np.ascontiguousarray(c.A[s + 1:], dtype=float),
                   C_extra=np.ascontiguousarray(c.C[s + 1:], dtype=float), D=np.ascontiguousarray(c.D, dtype=float))


def _rk4() -> Tableau:
    A = np.zeros((4, 4))
    A[1, 0] = 0.5
    A[2, 1] = 0.5
    A[3, 2] = 1.0
    return Tableau("RK4", 4, 0, A, np.array([1 / 6, 1 / 3, 1 / 3, 1 / 6]), np.array([0, 0.5, 0.5, 1.0]),
                   np.zeros(0), np.zeros(0))


DP5 = _dp5()
DOP853 = _dop853()
RK4 = _rk4()
TABLEAUX = {"DP5": DP5, "RK45": DP5, "DOP853": DOP853, "RK4": RK4}
#: integer codes used by the kernels
METHOD_CODES = {"DP5": 0, "RK45": 0, "DOP853": 1, "RK4": 2}
