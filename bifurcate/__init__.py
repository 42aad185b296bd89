"""bifurcate: bifurcation analysis of driven-dissipative mean-field models.

The engine: models and their compiled kernels, integration, equilibria, continuation of
equilibria and limit cycles, two-parameter curves and Lyapunov spectra. See the README for a tour.
"""
from __future__ import annotations

from bifurcate import models
from bifurcate.continuation import (ContinuationOptions, continue_codim2, continue_equilibria, mirror_branch,
                                    switch_branch)
from bifurcate.cycles import CycleBranch, CycleOptions, continue_cycles, sample_codim2, switch_at_pd
from bifurcate.equilibria import EquilibriumSet, find_equilibria, newton_equilibrium
from bifurcate.integrate import (EnsembleResult, IntegrationOptions, Trajectory, integrate, integrate_ensemble,
                                 param_grid)
from bifurcate.lyapunov import (LyapunovEnsemble, LyapunovOptions, LyapunovSpectrum, lyapunov_extend, lyapunov_spectra,
                                lyapunov_spectrum)
from bifurcate.checks import ModelCheck, check_model
from bifurcate.model import Euclidean, Geometry, Model, SphereProduct, Symmetry, get_model
from bifurcate.results import BifurcationPoint, Branch, crosswalk_frame

__version__ = "0.1.0"

__all__ = [
    "__version__", "models", "Model", "check_model", "ModelCheck", "Geometry", "Euclidean", "SphereProduct", "Symmetry", "get_model",
    # integration
    "integrate", "integrate_ensemble", "param_grid", "IntegrationOptions", "Trajectory", "EnsembleResult",
    # equilibria and continuation
    "find_equilibria", "newton_equilibrium", "EquilibriumSet", "ContinuationOptions", "continue_equilibria",
    "continue_codim2", "switch_branch", "mirror_branch", "Branch", "BifurcationPoint", "crosswalk_frame",
    # limit cycles
    "continue_cycles", "switch_at_pd", "sample_codim2", "CycleOptions", "CycleBranch",
    # Lyapunov spectra
    "lyapunov_spectrum", "lyapunov_spectra", "lyapunov_extend", "LyapunovOptions", "LyapunovSpectrum", "LyapunovEnsemble",
]
