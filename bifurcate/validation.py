"""Argument checks shared by the public functions: one message style everywhere.

Every check names the argument, says what was expected and shows what came::

    >>> check_count("n_initial", 2.5)
    Traceback (most recent call last):
    ...
    TypeError: n_initial must be an integer, got 2.5 (float)

The checks return the cleaned value (``int``, ``float``, float64 array) so a caller writes
``n = check_count("n_initial", n_initial)`` and goes on with a value of the right type. They raise
``TypeError`` for a value of the wrong kind, ``ValueError`` for one of the right kind outside its
domain (NaN, negative, wrong shape, unordered) and ``KeyError`` for an unknown name; each of them
is what a user can fix, so none is ever caught and turned into a "success".

:func:`check_memory` estimates the bytes an allocation needs and refuses it, with the estimate and
the limit, before anything is allocated (the limit is ``$BIFURCATE_MAX_BYTES`` or half of the
physical memory, and never more than the address space left under ``ulimit -v``).
"""
from __future__ import annotations

import math
import numbers
import os
from typing import Any, Iterable, Mapping, Sequence

import numpy as np

__all__ = ["check_finite", "check_real", "check_count", "check_range", "check_interval", "check_array",
           "check_params", "check_mapping", "check_choice", "check_bool", "check_seed", "check_memory",
           "memory_limit", "address_space_left", "estimate_bytes"]


def _show(value: Any) -> str:
    text = repr(value)
    if len(text) > 80:
        text = text[:77] + "..."
    return f"{text} ({type(value).__name__})"


def check_real(name: str, value: Any, *, allow_nan: bool = False, allow_inf: bool = False) -> float:
    """A real number (bool and strings refused), finite unless allowed; returns ``float``."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (numbers.Real, np.floating, np.integer)):
        if isinstance(value, np.ndarray) and value.ndim == 0 and value.dtype.kind in "iuf":
            value = value.item()
        else:
            raise TypeError(f"{name} must be a real number, got {_show(value)}")
    v = float(value)
    if math.isnan(v) and not allow_nan:
        raise ValueError(f"{name} must be a finite number, got nan")
    if math.isinf(v) and not allow_inf:
        raise ValueError(f"{name} must be a finite number, got {v}")
    return v


def check_finite(name: str, value: Any) -> float | np.ndarray:
    """A finite real number or array of them (float64 array for array input)."""
    if np.ndim(value) == 0 and not isinstance(value, np.ndarray):
        return check_real(name, value)
    arr = check_array(name, value)
    return arr


def check_range(name: str, value: Any, lo: float | None = None, hi: float | None = None, *,
                lo_open: bool = False, hi_open: bool = False) -> float:
    """A finite real number in ``[lo, hi]`` (bounds open with ``lo_open``/``hi_open``, None = unbounded)."""
    v = check_real(name, value)
    bad = (lo is not None and (v < lo or (lo_open and v == lo))) or \
          (hi is not None and (v > hi or (hi_open and v == hi)))
    if bad:
        left = "-inf" if lo is None else f"{lo:g}"
        right = "inf" if hi is None else f"{hi:g}"
        interval = f"{'(' if lo_open or lo is None else '['}{left}, {right}{')' if hi_open or hi is None else ']'}"
        raise ValueError(f"{name} must lie in {interval}, got {v!r}")
    return v


def check_count(name: str, value: Any, minimum: int = 1, maximum: int | None = None) -> int:
    """An integer count (``int`` or an integral numpy integer; 2.0, 2.5, "2" and True refused) in
    ``[minimum, maximum]``."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (numbers.Integral, np.integer)):
        raise TypeError(f"{name} must be an integer, got {_show(value)}")
    v = int(value)
    if v < minimum or (maximum is not None and v > maximum):
        upper = "" if maximum is None else f" and <= {maximum}"
        raise ValueError(f"{name} must be an integer >= {minimum}{upper}, got {v}")
    return v


def check_bool(name: str, value: Any) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False, got {_show(value)}")
    return bool(value)


def check_choice(name: str, value: Any, choices: Iterable[Any]) -> Any:
    choices = list(choices)
    if value not in choices:
        raise ValueError(f"{name} must be one of {choices}, got {value!r}")
    return value


def check_interval(name: str, value: Any, *, increasing: bool = True) -> tuple[float, float]:
    """A pair ``(lo, hi)`` of finite numbers with ``lo < hi`` (``increasing``)."""
    if isinstance(value, (str, bytes)) or not isinstance(value, (Sequence, np.ndarray)) or len(value) != 2:
        raise TypeError(f"{name} must be a pair (low, high) of numbers, got {_show(value)}")
    lo = check_real(f"{name}[0]", value[0])
    hi = check_real(f"{name}[1]", value[1])
    if increasing and not lo < hi:
        raise ValueError(f"{name} must satisfy low < high, got ({lo!r}, {hi!r})")
    return lo, hi


def check_array(name: str, value: Any, *, ndim: int | None = None, shape: Sequence[int | None] | None = None,
                finite: bool = True, min_size: int = 1, sorted_: bool = False, strictly: bool = False) -> np.ndarray:
    """A float64 array: numeric (no strings, objects, complex), ``ndim``/``shape`` (None = any length
    along that axis), at least ``min_size`` elements, finite, and optionally sorted (increasing)."""
    if isinstance(value, (str, bytes, Mapping)):
        raise TypeError(f"{name} must be an array of numbers, got {_show(value)}")
    try:
        raw = np.asarray(value)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{name} must be an array of numbers, got {_show(value)} ({exc})") from None
    if raw.dtype.kind not in "biuf" or raw.dtype.kind == "b":
        raise TypeError(f"{name} must be an array of real numbers, got dtype {raw.dtype} from {_show(value)}")
    arr = raw.astype(np.float64)
    if ndim is not None and arr.ndim != ndim:
        raise ValueError(f"{name} must be a {ndim}-D array, got shape {arr.shape}")
    if shape is not None:
        if arr.ndim != len(shape) or any(s is not None and s != a for s, a in zip(shape, arr.shape)):
            want = "(" + ", ".join("any" if s is None else str(s) for s in shape) + ")"
            raise ValueError(f"{name} must have shape {want}, got {arr.shape}")
    if arr.size < min_size:
        raise ValueError(f"{name} must have at least {min_size} element(s), got shape {arr.shape}")
    if finite and arr.size and not np.all(np.isfinite(arr)):
        bad = np.argwhere(~np.isfinite(arr))[0]
        raise ValueError(f"{name} must be finite, got {arr[tuple(bad)]} at index {tuple(int(i) for i in bad)}")
    if sorted_ and arr.size > 1:
        d = np.diff(arr.ravel())
        if np.any(d <= 0) if strictly else np.any(d < 0):
            raise ValueError(f"{name} must be {'strictly ' if strictly else ''}increasing, got {arr.ravel()[:8]}"
                             f"{'...' if arr.size > 8 else ''}")
    return arr


def check_mapping(name: str, value: Any, *, allow_none: bool = True) -> dict:
    """A mapping (dict-like) or None; a string such as ``"J=1.5"`` is refused with a hint."""
    if value is None and allow_none:
        return {}
    if not isinstance(value, Mapping):
        hint = ""
        if isinstance(value, str):
            hint = " (write {'J': 1.5}, not 'J=1.5')"
        raise TypeError(f"{name} must be a mapping of name -> value{hint}, got {_show(value)}")
    for k in value:
        if not isinstance(k, str):
            raise TypeError(f"{name} keys must be strings (parameter names), got {_show(k)}")
    return dict(value)


def check_params(model, mapping: Any, name: str = "params") -> dict[str, float]:
    """A parameter mapping for ``model``: names known, values finite reals; returns the full set
    (defaults filled in) as :meth:`bifurcate.model.Model.params` does."""
    d = check_mapping(name, mapping)
    unknown = [k for k in d if k not in model.param_names]
    if unknown:
        raise KeyError(f"{name}: unknown parameter(s) {unknown} for model {model.name!r}; expected names from "
                       f"{list(model.param_names)}")
    for k, v in d.items():
        check_real(f"{name}[{k!r}]", v)
    return model.params(d)


def check_seed(name: str, value: Any):
    """None, a non-negative int, a SeedSequence or a Generator."""
    if value is None or isinstance(value, (np.random.Generator, np.random.SeedSequence)):
        return value
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (numbers.Integral, np.integer)):
        raise TypeError(f"{name} must be None, a non-negative int, a SeedSequence or a numpy Generator, "
                        f"got {_show(value)}")
    if int(value) < 0:
        raise ValueError(f"{name} must be a non-negative int, got {int(value)}")
    return int(value)


# --------------------------------------------------------------------------------------------
# memory
# --------------------------------------------------------------------------------------------
def memory_limit() -> int:
    """Bytes one call may allocate: ``$BIFURCATE_MAX_BYTES`` if set, else half the physical memory
    (8 GiB if that cannot be read); never more than the address space this process has left under
    its ``ulimit -v`` (RLIMIT_AS), so that a cap set by the user gives this clear refusal instead of
    a ``MemoryError`` half way through."""
    env = os.environ.get("BIFURCATE_MAX_BYTES")
    if env:
        try:
            lim = int(float(env))
        except (ValueError, OverflowError):
            raise ValueError(f"BIFURCATE_MAX_BYTES must be a number of bytes, got {env!r}") from None
        if lim <= 0:
            raise ValueError(f"BIFURCATE_MAX_BYTES must be a positive number of bytes, got {env!r}")
    else:
        try:
            lim = int(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // 2)
        except (AttributeError, ValueError, OSError):  # pragma: no cover - not POSIX
            lim = 8 << 30
    room = address_space_left()
    return lim if room is None else min(lim, room)


def address_space_left() -> int | None:
    """Bytes of address space left under this process's RLIMIT_AS (``ulimit -v``), or None when
    there is no such limit (or it cannot be read)."""
    try:
        import resource

        soft, _ = resource.getrlimit(resource.RLIMIT_AS)
        if soft == resource.RLIM_INFINITY or soft <= 0:
            return None
        with open("/proc/self/statm") as fh:
            used = int(fh.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except (ImportError, OSError, ValueError, IndexError, AttributeError):
        return None
    return max(0, int(soft) - used)


def estimate_bytes(*shapes: Sequence[int], itemsize: int = 8) -> int:
    """Bytes of arrays of the given shapes (Python ints: no overflow)."""
    total = 0
    for s in shapes:
        total += math.prod(int(x) for x in s) * itemsize
    return total


def _fmt_bytes(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if n < 1024 or unit == "PiB":
            return f"{n:.3g} {unit}"
        n /= 1024
    return f"{n:.3g} PiB"  # pragma: no cover


def check_memory(what: str, n_bytes: int, limit: int | None = None, *, fix: str | None = None) -> int:
    """Refuse an allocation of ``n_bytes`` beyond ``limit`` (default :func:`memory_limit`) with the
    estimate and the limit in the message (``MemoryError`` is not used: it is a user's choice of
    sizes, a ``ValueError``). ``fix`` names the arguments that set the size (``"fewer n_initial"``)."""
    lim = memory_limit() if limit is None else int(limit)
    if n_bytes > lim:
        less = f"ask for less: {fix}" if fix else "ask for less"
        raise ValueError(f"{what} would need about {_fmt_bytes(n_bytes)}, more than the limit of {_fmt_bytes(lim)} "
                         f"(set BIFURCATE_MAX_BYTES to raise it, or {less})")
    return int(n_bytes)
