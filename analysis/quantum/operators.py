"""Operators of the master equation (5); the engine code lives in :mod:`bifurcate.quantum`.

Re-exports the hand-built LMG dimer (:mod:`bifurcate.quantum.lmg_dimer`) and the generic operators
(:mod:`bifurcate.quantum.operators`) under their old names, so ``analysis.quantum.operators`` imports keep working.
"""
from bifurcate.quantum.lmg_dimer import (DEFAULT_PARAMS, DimerOperators, dimer_operators, hamiltonian,  # noqa: F401
                                         jump_operators, lmg_hamiltonian, lmg_jump_operators, lmg_qutip_model,
                                         magnetisation_quantum_numbers, pt_dimer_hamiltonian, qutip_model,
                                         validate_params)
from bifurcate.quantum.operators import (SpinOperators, boson_operators, liouvillian, spin_operators,  # noqa: F401
                                         to_qobj, validate_spin)

__all__ = [
    "DEFAULT_PARAMS", "validate_spin", "validate_params", "SpinOperators", "spin_operators",
    "dimer_operators", "hamiltonian", "jump_operators", "lmg_hamiltonian", "lmg_jump_operators",
    "pt_dimer_hamiltonian", "to_qobj", "qutip_model", "lmg_qutip_model", "liouvillian",
    "magnetisation_quantum_numbers",
]
