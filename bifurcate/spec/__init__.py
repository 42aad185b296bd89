"""Models from physics: write H and the jump operators once, derive the mean-field model.

A specification is five lines of physics::

    from bifurcate.spec import OpenSystem, parameters, spin, S
    omega, kappa = parameters(omega=0.5, kappa=1.0)
    A = spin("A")
    BTC = OpenSystem(omega * A.x, jumps=[(kappa / S, A.m)], name="btc")
    MODEL = BTC.mean_field()          # a bifurcate.Model with generated, exact kernels

* :mod:`bifurcate.spec.operators` - spins, bosons, parameters and the operator algebra;
* :mod:`bifurcate.spec.system` - :class:`OpenSystem` (validation; the term lists the exact
  engine builds its Liouvillian from);
* :mod:`bifurcate.spec.meanfield` - the mean-field derivation (conventions documented there);
* :mod:`bifurcate.spec.kernels` - generated numba kernels (rhs, exact Jacobian, parameter
  derivatives, second and third derivative forms) and the :class:`~bifurcate.Model`.
"""
from bifurcate.spec.operators import S, Boson, Operator, Parameter, Spin, boson, parameters, spin
from bifurcate.spec.system import OpenSystem

__all__ = ["S", "parameters", "spin", "boson", "OpenSystem", "Operator", "Parameter", "Spin", "Boson",
           "derivatives", "system_of", "auto_problem"]


def derivatives(model):
    """The generated kernel module (``dparams``, ``d2``, ``d3``) of a model built from a
    specification, or None for a hand-written model."""
    from bifurcate.spec.kernels import derivatives as _d

    return _d(model)


def system_of(model):
    """The :class:`OpenSystem` a model was built from, or None."""
    from bifurcate.spec.kernels import system_of as _s

    return _s(model)


def auto_problem(model_or_system, name=None):
    """The AUTO-07p problem of a specification (see :func:`bifurcate.spec.kernels.auto_problem`)."""
    from bifurcate.spec.kernels import auto_problem as _a

    return _a(model_or_system, name)
