"""The exact quantum engine: Liouvillians, symmetry blocks, steady states, spectra, spin Wigner functions.

Public API
----------
Any open system given as term lists (:mod:`.system`; a :class:`bifurcate.spec.OpenSystem`)
    :func:`steady_state_system` -> :class:`SystemSteadyState`; :func:`liouvillian_system` ->
    :class:`SystemLiouvillian`; :func:`system_spectrum` -> :class:`SystemSpectrum`;
    :func:`detect_symmetries`; :func:`slowest_spectrum` -> :class:`SlowestSpectrum` (two-mode systems, the
    slowest eigenvalues per Z2 sector by preconditioned Davidson, :mod:`.spectrum`).
Generic operators (:mod:`.operators`)
    :func:`spin_operators`, :func:`boson_operators`, :func:`liouvillian`, :func:`validate_spin`, :func:`to_qobj`.
The LMG dimer built by hand (:mod:`.lmg_dimer`, the independent twin of its specification)
    :func:`hamiltonian`, :func:`jump_operators`, :func:`qutip_model`, ... and :func:`steady_state`
    -> :class:`SteadyState` (:mod:`.steady`), :func:`liouvillian_spectrum` (:mod:`.spectrum`).
Spin Wigner functions (:mod:`.wigner`)
    :func:`spin_wigner` -> :class:`SpinWigner`.
"""
from .lmg_dimer import (DEFAULT_PARAMS, dimer_operators, hamiltonian, jump_operators, lmg_hamiltonian,
                        lmg_jump_operators, lmg_qutip_model, magnetisation_quantum_numbers, pt_dimer_hamiltonian,
                        qutip_model, validate_params)
from .operators import SpinOperators, boson_operators, liouvillian, spin_operators, to_qobj, validate_spin
from .spectrum import LiouvillianSpectrum, SlowestSpectrum, liouvillian_spectrum, sector_liouvillians, slowest_spectrum
from .steady import (METHODS, QuantumSizeError, SteadyState, SteadyStateError, SteadyStateOptions, memory_estimate,
                     steady_state)
from .system import (DEFAULT_CUTOFF, SystemLiouvillian, SystemSpectrum, SystemSteadyState, detect_symmetries,
                     liouvillian_system, steady_state_system, system_spectrum)
from .wigner import SpinWigner, angles_of, parity_kernel, spin_wigner

__all__ = [
    "spin_operators", "boson_operators", "liouvillian", "validate_spin", "to_qobj", "SpinOperators",
    "DEFAULT_PARAMS", "dimer_operators", "hamiltonian", "jump_operators", "lmg_hamiltonian", "lmg_jump_operators",
    "lmg_qutip_model", "magnetisation_quantum_numbers", "pt_dimer_hamiltonian", "qutip_model", "validate_params",
    "LiouvillianSpectrum", "liouvillian_spectrum", "sector_liouvillians", "SlowestSpectrum", "slowest_spectrum",
    "METHODS", "SteadyState", "SteadyStateError", "SteadyStateOptions", "steady_state", "QuantumSizeError",
    "memory_estimate",
    "steady_state_system", "liouvillian_system", "system_spectrum", "detect_symmetries", "SystemSteadyState",
    "SystemLiouvillian", "SystemSpectrum", "DEFAULT_CUTOFF",
    "SpinWigner", "angles_of", "parity_kernel", "spin_wigner",
]
