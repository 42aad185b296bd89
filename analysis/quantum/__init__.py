"""Exact quantum cross-check of the LMG dimer: the master equation (5) at finite spin length S.

The engine (operators, Liouvillian blocks, solvers, spectra, Wigner functions) lives in
:mod:`bifurcate.quantum`; this package re-exports it under the old names and adds the studies'
questions (cuts, finite-size trends, the merge with mean field, trajectories, plots, gap scans).

Public API
----------
Operators (:mod:`.operators`)
    :func:`spin_operators`, :func:`hamiltonian`, :func:`jump_operators`, :func:`lmg_hamiltonian`,
    :func:`lmg_jump_operators`, :func:`pt_dimer_hamiltonian`, :func:`qutip_model`, :func:`lmg_qutip_model`,
    :func:`liouvillian`, :func:`validate_params`, :func:`validate_spin`.
Steady states (:mod:`.steady`)
    :func:`steady_state` -> :class:`SteadyState` (validated; :class:`SteadyStateError` otherwise).
Spin Wigner functions (:mod:`.wigner`)
    :func:`spin_wigner` -> :class:`SpinWigner`; :func:`plot_wigner_map`, :func:`plot_wigner_sphere`.
Trajectories (:mod:`.trajectories`)
    :func:`quantum_trajectories` -> :class:`TrajectoryEstimate` (``qutip.mcsolve``, error bars).
Spectrum (:mod:`.spectrum`)
    :func:`liouvillian_spectrum` -> :class:`LiouvillianSpectrum`; :func:`gap_scan`.
Cross-check (:mod:`.crosscheck`)
    :func:`cut`, :func:`merge_meanfield`, :func:`finite_size_trend`, :func:`pt_normal_deficit`,
    :data:`PAPER_CUTS`.

References
----------
S. Kothe and P. Kirton, "PT-symmetry breaking phase transitions in an LMG dimer", Eqs. (1)-(5), Figs. 1, 3, 4.
"""
from .operators import (DEFAULT_PARAMS, hamiltonian, jump_operators, liouvillian, lmg_hamiltonian,
                        lmg_jump_operators, lmg_qutip_model, pt_dimer_hamiltonian, qutip_model, spin_operators,
                        validate_params, validate_spin)
from .steady import METHODS, SteadyState, SteadyStateError, SteadyStateOptions, steady_state
from .wigner import SpinWigner, plot_wigner_map, plot_wigner_sphere, spin_wigner
from .trajectories import TrajectoryEstimate, quantum_trajectories
from .spectrum import LiouvillianSpectrum, gap_scan, liouvillian_spectrum
from bifurcate.quantum import (QuantumSizeError, SystemSteadyState, detect_symmetries, liouvillian_system,
                               steady_state_system, system_spectrum)
from .crosscheck import PAPER_CUTS, cut, finite_size_trend, merge_meanfield, pt_normal_deficit

__all__ = [
    "DEFAULT_PARAMS", "hamiltonian", "jump_operators", "liouvillian", "lmg_hamiltonian", "lmg_jump_operators",
    "lmg_qutip_model", "pt_dimer_hamiltonian", "qutip_model", "spin_operators", "validate_params", "validate_spin",
    "METHODS", "SteadyState", "SteadyStateError", "SteadyStateOptions", "steady_state",
    "SpinWigner", "plot_wigner_map", "plot_wigner_sphere", "spin_wigner",
    "TrajectoryEstimate", "quantum_trajectories",
    "LiouvillianSpectrum", "gap_scan", "liouvillian_spectrum",
    "QuantumSizeError", "SystemSteadyState", "detect_symmetries", "liouvillian_system", "steady_state_system",
    "system_spectrum",
    "PAPER_CUTS", "cut", "finite_size_trend", "merge_meanfield", "pt_normal_deficit",
]
