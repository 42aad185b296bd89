"""One options object for the continuation core (issue 14, item 1).

``ContinuationOptions`` is read by every problem (equilibria, cycles, two-parameter curves,
homoclinic orbits); ``CycleOptions`` is a subclass that only adds what is about cycles and
changes some defaults. Checked here: the hierarchy and the shared field names, the alias
``max_points = max_steps + 1`` (constructor, ``dataclasses.replace``, overrides, branch lengths),
the defaults cycle branches have always used, that the core reads the cycle step control from
the object (not from constants), and that bad input names the field.
"""
from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

from bifurcate.continuation import ContinuationOptions, continue_equilibria
from bifurcate.continuation.options import options_with
from bifurcate.cycles import CycleOptions, continue_cycles
from bifurcate.cycles.continuation import core_options
from bifurcate.models import STUART_LANDAU

SL_HOPF = ([0.0, 0.0], {"mu": 0.0}, "mu", 1.0)   # Stuart-Landau: cycles r = sqrt(mu), period 2 pi


def _names(cls) -> set[str]:
    return {f.name for f in dataclasses.fields(cls)}


def test_one_options_class_hierarchy_with_the_same_field_names():
    assert issubclass(CycleOptions, ContinuationOptions)
    assert isinstance(CycleOptions(), ContinuationOptions)
    core, cyc = _names(ContinuationOptions), _names(CycleOptions)
    assert core <= cyc   # every core field, under its own name, in the cycle options
    # the cycle options only add what is about cycles; no second spelling of a core setting
    assert cyc - core == {"ntst", "ncol", "direction", "adapt_every", "detect", "max_period", "max_period_growth",
                          "vertical_tol", "vertical_points", "amplitude_min", "floquet", "floquet_tol",
                          "homoclinic_tol", "ntst_max", "period_weight", "normal_forms"}
    for old in ("max_points", "max_newton", "max_turn_cos", "newton_max_iter"):
        assert old not in cyc
    # the type of each shared field is the core's
    core_types = {f.name: f.type for f in dataclasses.fields(ContinuationOptions)}
    assert all(f.type == core_types[f.name] for f in dataclasses.fields(CycleOptions) if f.name in core)


def test_the_core_runs_a_cycle_branch_on_the_cycle_options_themselves():
    o = CycleOptions(ntst=12, growth=1.2, shrink=0.5, slow_newton=5)
    assert core_options(o) is o and core_options(o, o.ds) is o
    c = core_options(o, 0.005)   # the first step halved at a Hopf start: only ds changes
    assert type(c) is CycleOptions and c.ds == 0.005 and dataclasses.replace(c, ds=o.ds) == o


def test_cycle_defaults_are_the_ones_cycle_branches_always_had():
    c = CycleOptions()
    old = dict(ntst=40, ncol=4, ds=0.02, ds_min=1e-7, ds_max=0.2, max_points=200, p_min=-math.inf, p_max=math.inf,
               direction=1, newton_tol=1e-9, newton_maxiter=10, adapt_every=3, detect=True, locate_tol=1e-9,
               max_period=1e4, max_period_growth=50.0, vertical_tol=1e-8, vertical_points=3, amplitude_min=1e-7,
               floquet=True, floquet_tol=1e-4, homoclinic_tol=1e-6, ntst_max=None, max_angle=math.acos(0.8),
               period_weight=0.0, normal_forms=True,
               # the step control the cycle driver used to hard-code (STEP_GROWTH, STEP_SHRINK, SLOW_NEWTON),
               # and the localisation it always ran with
               growth=1.5, shrink=0.6, slow_newton=6, locate=True, locate_maxiter=80)
    for name, value in old.items():
        assert getattr(c, name) == value, name
    assert c.max_steps == 199
    # the core's own defaults are untouched (equilibria, codim-2 curves)
    e = ContinuationOptions()
    assert (e.ds, e.ds_max, e.max_steps, e.newton_tol, e.locate_tol, e.max_angle, e.shrink, e.slow_newton) == (
        0.01, 0.05, 2000, 1e-10, 1e-12, 0.5, 0.7, None)


@pytest.mark.parametrize("cls", [ContinuationOptions, CycleOptions])
def test_max_points_is_an_exact_alias_of_max_steps(cls):
    for n in (1, 2, 77, 200):
        a = cls(max_points=n)
        assert a == cls(max_steps=n - 1) and a.max_steps == n - 1 and a.max_points == n
        assert dataclasses.replace(cls(), max_points=n) == a   # replace passes every field: the alias wins
        assert cls(max_points=n, max_steps=n - 1) == a          # both, consistent
    with pytest.raises(TypeError, match="max_steps or its alias max_points"):
        cls(max_points=10, max_steps=10)
    with pytest.raises(ValueError, match="max_points must be an integer >= 1, got 0"):
        cls(max_points=0)
    with pytest.raises(TypeError, match="max_points must be an integer"):
        cls(max_points=2.5)
    with pytest.raises(ValueError, match="max_steps must be an integer >= 0"):
        cls(max_steps=-1)


def test_branch_lengths_under_the_alias_on_cycles_and_equilibria():
    a = continue_cycles(STUART_LANDAU, SL_HOPF, max_points=8, ntst=10)
    b = continue_cycles(STUART_LANDAU, SL_HOPF, max_steps=7, ntst=10)
    assert a.status == b.status == 0 and len(a) == len(b) == 8
    assert np.array_equal(a.param_values, b.param_values) and a.options == b.options
    assert "max_steps = 7" in a.message and "max_points = 8" in a.message
    one = continue_cycles(STUART_LANDAU, SL_HOPF, max_steps=0, ntst=10)   # the start only
    assert one.status == 0 and len(one) == 1 and one.param_values[0] == pytest.approx(a.param_values[0])
    eq = continue_equilibria(STUART_LANDAU, [0.0, 0.0], param="mu", params={"mu": -1.0}, max_steps=0)
    assert len(eq) == 1
    eq5 = continue_equilibria(STUART_LANDAU, [0.0, 0.0], param="mu", params={"mu": -1.0}, max_points=5)
    assert len(eq5) == 5


def test_the_cycle_step_control_is_read_from_the_options():
    """growth / shrink are fields, not constants of the driver: changing them changes the steps."""
    base = continue_cycles(STUART_LANDAU, SL_HOPF, max_steps=12, ntst=10, ds_max=1.0)
    flat = continue_cycles(STUART_LANDAU, SL_HOPF, max_steps=12, ntst=10, ds_max=1.0, growth=1.0)
    s_base, s_flat = np.diff(base.param_values), np.diff(flat.param_values)
    assert s_base[-1] > 5 * s_base[1]     # grows by 1.5 after each easy step
    assert np.ptp(s_flat[2:]) < 0.2 * np.ptp(s_base[2:])   # growth 1: nearly constant steps
    for br in (base, flat):   # the same cycles either way: r = sqrt(mu)
        assert np.allclose(br.columns["amplitude"][1:], np.sqrt(br.param_values[1:]), atol=1e-7)


def test_a_plain_continuation_options_runs_a_cycle_branch():
    core = ContinuationOptions(ds=-0.02, ds_max=0.2, max_steps=9, newton_tol=1e-9, locate_tol=1e-9)
    c = CycleOptions.from_options(core, ntst=10)
    assert type(c) is CycleOptions and c.direction == -1 and c.ds == 0.02   # the core's sign convention
    for f in dataclasses.fields(ContinuationOptions):
        if f.name != "ds":
            assert getattr(c, f.name) == getattr(core, f.name), f.name   # read as it is, not the cycle defaults
    assert CycleOptions.from_options(c) is c and CycleOptions.from_options(None) == CycleOptions()
    br = continue_cycles(STUART_LANDAU, SL_HOPF, options=ContinuationOptions(max_steps=9, ds_max=0.2), ntst=10)
    assert isinstance(br.options, CycleOptions) and len(br) == 10 and br.status == 0
    assert br.options.newton_tol == 1e-10 and br.options.shrink == 0.7   # the object's own values
    assert np.allclose(br.columns["amplitude"][1:], np.sqrt(br.param_values[1:]), atol=1e-7)
    with pytest.raises(TypeError, match="options must be a CycleOptions or a ContinuationOptions, got dict"):
        continue_cycles(STUART_LANDAU, SL_HOPF, options={"ds": 0.1})
    # and the other way: a CycleOptions is a ContinuationOptions for the other problems
    assert options_with(c) is c and options_with(None) == ContinuationOptions()
    assert options_with(c, {"max_points": 3}).max_steps == 2
    with pytest.raises(TypeError, match="options must be a ContinuationOptions"):
        options_with({"ds": 0.1})


def test_homoclinic_entry_points_check_their_options():
    from bifurcate.homoclinic import grow_period

    br = continue_cycles(STUART_LANDAU, SL_HOPF, max_steps=3, ntst=10)
    with pytest.raises(TypeError, match="options must be a ContinuationOptions"):
        grow_period(STUART_LANDAU, br, "mu", 100.0, options={"ds": 0.1})


@pytest.mark.parametrize("cls", [ContinuationOptions, CycleOptions])
@pytest.mark.parametrize("field, value, exc, match", [
    ("ds", 0.0, ValueError, "ds"),
    ("ds_min", -1.0, ValueError, "ds_min"),
    ("ds_max", float("nan"), ValueError, "ds_max"),
    ("max_steps", 2.5, TypeError, "max_steps"),
    ("newton_maxiter", 0, ValueError, "newton_maxiter"),
    ("newton_tol", 0.0, ValueError, "newton_tol"),
    ("locate_tol", -1e-9, ValueError, "locate_tol"),
    ("fd_step", 0.0, ValueError, "fd_step"),
    ("stab_tol", -1.0, ValueError, "stab_tol"),
    ("max_angle", 4.0, ValueError, "max_angle"),
    ("growth", 0.5, ValueError, "growth"),
    ("shrink", 1.0, ValueError, "shrink"),
    ("slow_newton", 0, ValueError, "slow_newton"),
    ("locate", "yes", TypeError, "locate"),
    ("p_min", float("nan"), ValueError, "p_min"),
])
def test_bad_core_fields_name_the_field(cls, field, value, exc, match):
    with pytest.raises(exc, match=match):
        cls(**{field: value})


@pytest.mark.parametrize("field, value, exc, match", [
    ("ntst", 1, ValueError, "expected ntst"),
    ("ntst", 40.0, TypeError, "ntst"),
    ("ncol", 8, ValueError, "ncol"),
    ("direction", 0, ValueError, "expected direction"),
    ("direction", True, ValueError, "expected direction"),
    ("ds", -0.02, ValueError, "ds > 0 for a cycle branch"),
    ("adapt_every", -1, ValueError, "adapt_every"),
    ("vertical_points", 0, ValueError, "vertical_points"),
    ("detect", 1, TypeError, "detect"),
    ("floquet", "no", TypeError, "floquet"),
    ("floquet_tol", 0.0, ValueError, "floquet_tol"),
    ("homoclinic_tol", float("nan"), ValueError, "homoclinic_tol"),
    ("vertical_tol", -1.0, ValueError, "vertical_tol"),
    ("amplitude_min", float("inf"), ValueError, "amplitude_min"),
    ("ntst_max", 10, ValueError, "ntst_max"),
    ("ntst_max", 80.5, TypeError, "ntst_max"),
    ("max_period", 0.0, ValueError, "max_period"),
    ("max_period_growth", 1.0, ValueError, "max_period_growth"),
    ("period_weight", -1.0, ValueError, "period_weight"),
    ("normal_forms", "yes", ValueError, "normal_forms"),
    ("max_newton", 5, TypeError, "'max_newton' is spelled 'newton_maxiter'"),
])
def test_bad_cycle_fields_name_the_field(field, value, exc, match):
    with pytest.raises(exc, match=match):
        CycleOptions(**{field: value})


def test_two_parameter_curves_of_equilibria_check_their_options():
    from bifurcate.continuation import continue_codim2

    eq = continue_equilibria(STUART_LANDAU, [0.0, 0.0], param="mu", params={"mu": -0.5}, p_max=0.5)
    (hb,) = eq.special("HB")
    with pytest.raises(TypeError, match="options must be a ContinuationOptions"):
        continue_codim2(STUART_LANDAU, hb, "omega", options={"ds": 0.1})
