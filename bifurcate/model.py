"""The :class:`Model` abstraction: names, parameters, compiled kernels and phase-space geometry.

A model is one file under :mod:`bifurcate.models` (or any importable module of the user's) that
defines two numba kernels and one :class:`Model` object::

    @njit
    def rhs(y, p, out):        # y: (n,), p: (n_params,), out: (n,)
        ...
    @njit
    def jac(y, p, out):        # out: (n, n), d rhs_i / d y_j
        ...
    MY_MODEL = Model(name=..., state_names=..., param_names=..., defaults=..., rhs=rhs, jac=jac,
                     geometry=SphereProduct(((0, 1, 2),)), module=__name__, attr="MY_MODEL")

Kernels see parameters as one float64 vector in ``param_names`` order; users see dictionaries.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Any, Mapping, Sequence

import numpy as np

from bifurcate._numba import njit

__all__ = ["Model", "Geometry", "Euclidean", "SphereProduct", "Symmetry", "get_model"]


# --------------------------------------------------------------------------------------------
# geometry
# --------------------------------------------------------------------------------------------
@njit
def tangent_basis_kernel(y, sphere_blocks, free_idx, out):
    """Orthonormal basis of the tangent space at ``y`` of a product of unit spheres and a
    Euclidean factor.

    Parameters
    ----------
    y : (n,) state; each sphere block is assumed (close to) unit length.
    sphere_blocks : (n_spheres, 3) int, the coordinates of each sphere.
    free_idx : (n_free,) int, Euclidean coordinates.
    out : (n, d) with d = 2 n_spheres + n_free; overwritten.

    Returns 0. Columns 2k, 2k+1 span the tangent plane of sphere k; the last n_free columns are
    coordinate vectors. For each sphere the first vector is the coordinate axis least aligned
    with r, made orthogonal to r; the second is r x e1.
    """
    n = y.shape[0]
    for i in range(n):
        for j in range(out.shape[1]):
            out[i, j] = 0.0
    for k in range(sphere_blocks.shape[0]):
        i0 = sphere_blocks[k, 0]
        i1 = sphere_blocks[k, 1]
        i2 = sphere_blocks[k, 2]
        nr = math.sqrt(y[i0] ** 2 + y[i1] ** 2 + y[i2] ** 2)
        if nr == 0.0:
            r0, r1, r2 = 0.0, 0.0, 1.0
        else:
            r0, r1, r2 = y[i0] / nr, y[i1] / nr, y[i2] / nr
        a0, a1, a2 = abs(r0), abs(r1), abs(r2)
        # axis least aligned with r
        if a0 <= a1 and a0 <= a2:
            e0, e1, e2 = 1.0, 0.0, 0.0
        elif a1 <= a2:
            e0, e1, e2 = 0.0, 1.0, 0.0
        else:
            e0, e1, e2 = 0.0, 0.0, 1.0
        d = e0 * r0 + e1 * r1 + e2 * r2
        e0 -= d * r0
        e1 -= d * r1
        e2 -= d * r2
        ne = math.sqrt(e0 * e0 + e1 * e1 + e2 * e2)
        e0 /= ne
        e1 /= ne
        e2 /= ne
        f0 = r1 * e2 - r2 * e1
        f1 = r2 * e0 - r0 * e2
        f2 = r0 * e1 - r1 * e0
        c = 2 * k
        out[i0, c] = e0
        out[i1, c] = e1
        out[i2, c] = e2
        out[i0, c + 1] = f0
        out[i1, c + 1] = f1
        out[i2, c + 1] = f2
    c0 = 2 * sphere_blocks.shape[0]
    for j in range(free_idx.shape[0]):
        out[free_idx[j], c0 + j] = 1.0
    return 0


class Geometry:
    """Phase space of a model: a product of unit spheres and a Euclidean factor.

    Attributes
    ----------
    n : int
        Dimension of the embedding (the state vector).
    dim : int
        Dimension of the phase space (the tangent space).
    sphere_blocks : ndarray (n_spheres, 3) of int
    free_idx : ndarray (n_free,) of int
    """

    def __init__(self, n: int, sphere_blocks: Sequence[Sequence[int]] = ()):
        blocks = np.asarray(sphere_blocks, dtype=np.int64).reshape(-1, 3)
        used = blocks.ravel().tolist()
        if len(set(used)) != len(used) or any(i < 0 or i >= n for i in used):
            raise ValueError(f"sphere blocks must be disjoint indices in [0, {n}), got {sphere_blocks!r}")
        self.n = int(n)
        self.sphere_blocks = blocks
        self.free_idx = np.array([i for i in range(n) if i not in used], dtype=np.int64)
        self.dim = 2 * blocks.shape[0] + self.free_idx.size

    @property
    def n_spheres(self) -> int:
        return self.sphere_blocks.shape[0]

    def __repr__(self) -> str:
        return f"{type(self).__name__}(n={self.n}, spheres={self.sphere_blocks.tolist()})"

    # -- projections ------------------------------------------------------------------------
    def project(self, y: np.ndarray) -> np.ndarray:
        """Nearest point of the phase space (each sphere block normalised). Works on (..., n)."""
        y = np.array(y, dtype=float, copy=True)
        for blk in self.sphere_blocks:
            r = np.linalg.norm(y[..., blk], axis=-1, keepdims=True)
            y[..., blk] = y[..., blk] / np.where(r == 0, 1.0, r)
        return y

    def constraint(self, y: np.ndarray) -> np.ndarray:
        """|r_k|^2 - 1 for each sphere, shape (..., n_spheres)."""
        y = np.asarray(y, dtype=float)
        return np.stack([np.sum(y[..., blk] ** 2, axis=-1) - 1.0 for blk in self.sphere_blocks], axis=-1) \
            if self.n_spheres else np.zeros(y.shape[:-1] + (0,))

    def tangent_basis(self, y: np.ndarray) -> np.ndarray:
        """Orthonormal basis T (n x dim) of the tangent space at ``y``."""
        out = np.empty((self.n, self.dim))
        tangent_basis_kernel(np.asarray(y, dtype=float), self.sphere_blocks, self.free_idx, out)
        return out

    def random_points(self, n_points: int, rng: np.random.Generator, scale: float = 1.0) -> np.ndarray:
        """Points uniform on each sphere (Euclidean coordinates normal with std ``scale``).

        Returns (n_points, n).
        """
        y = rng.normal(size=(n_points, self.n))
        y[:, self.free_idx] *= scale
        return self.project(y)


class Euclidean(Geometry):
    """R^n."""

    def __init__(self, n: int):
        super().__init__(n, ())


class SphereProduct(Geometry):
    """A product of unit spheres S^2 x ... (plus Euclidean coordinates not in any block)."""

    def __init__(self, sphere_blocks: Sequence[Sequence[int]], n: int | None = None):
        blocks = np.asarray(sphere_blocks, dtype=np.int64).reshape(-1, 3)
        super().__init__(int(blocks.max()) + 1 if n is None else n, blocks)


# --------------------------------------------------------------------------------------------
# symmetries
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Symmetry:
    """A linear map S of the state with f(S y) = s S f(y), s = -1 if it reverses time.

    Attributes
    ----------
    name : str
    matrix : ndarray (n, n)
    reverses_time : bool
        True for a reversing symmetry (t -> -t): S maps solutions y(t) to S y(-t).
    """

    name: str
    matrix: np.ndarray
    reverses_time: bool = False

    def __call__(self, y: np.ndarray) -> np.ndarray:
        return np.asarray(y) @ self.matrix.T


# --------------------------------------------------------------------------------------------
# the model
# --------------------------------------------------------------------------------------------
_REGISTRY: dict[str, "Model"] = {}


@dataclass(frozen=True, eq=False)
class Model:
    """A smooth autonomous vector field with names, parameters and geometry.

    Parameters
    ----------
    name : str
        Short identifier (registry key).
    state_names : tuple of str, length n
    param_names : tuple of str
        Order of the parameter vector the kernels receive.
    defaults : mapping str -> float
        A default for every parameter.
    rhs, jac : numba dispatchers
        ``rhs(y, p, out)`` writes f(y; p) into ``out`` (n,); ``jac(y, p, out)`` writes df/dy into
        ``out`` (n, n). Both include any radial damping (see :mod:`bifurcate.models.lmg_dimer`).
    geometry : Geometry
    module, attr : str
        Importable module that defines ``rhs``/``jac`` and the attribute holding this model; used to
        generate per-model integrators that numba can cache, and to pickle the model by reference.
    fixed : mapping str -> float
        Parameters pinned by a special case (see :meth:`fix`); hidden from ``free_params``.
    symmetries : tuple of Symmetry
    description, references : str
    """

    name: str
    state_names: tuple[str, ...]
    param_names: tuple[str, ...]
    defaults: Mapping[str, float]
    rhs: Any
    jac: Any
    geometry: Geometry
    module: str
    attr: str
    fixed: Mapping[str, float] = field(default_factory=dict)
    symmetries: tuple[Symmetry, ...] = ()
    description: str = ""
    references: str = ""

    def __post_init__(self):
        object.__setattr__(self, "state_names", tuple(self.state_names))
        object.__setattr__(self, "param_names", tuple(self.param_names))
        missing = set(self.param_names) - set(self.defaults)
        if missing:
            raise ValueError(f"model {self.name!r}: every parameter needs a default, missing {sorted(missing)}")
        if len(self.state_names) != self.geometry.n:
            raise ValueError(f"model {self.name!r}: {len(self.state_names)} state names for a geometry of "
                             f"dimension {self.geometry.n}")
        object.__setattr__(self, "defaults", MappingProxyType({k: float(self.defaults[k]) for k in self.param_names}))
        object.__setattr__(self, "fixed", MappingProxyType({k: float(v) for k, v in self.fixed.items()}))
        _REGISTRY.setdefault(self.name, self)

    # -- sizes -------------------------------------------------------------------------------
    @property
    def n(self) -> int:
        """Dimension of the state vector (embedding)."""
        return self.geometry.n

    @property
    def dim(self) -> int:
        """Dimension of the phase space."""
        return self.geometry.dim

    @property
    def free_params(self) -> tuple[str, ...]:
        return tuple(k for k in self.param_names if k not in self.fixed)

    def __repr__(self) -> str:
        fixed = f", fixed={dict(self.fixed)}" if self.fixed else ""
        return f"Model({self.name!r}, state={self.state_names}, params={self.free_params}{fixed})"

    def __reduce__(self):
        # pickled by reference (Dask workers, multiprocessing): rebuilt from the defining module
        return (get_model, (self.name, self.module, self.attr, dict(self.fixed)))

    # -- special cases -----------------------------------------------------------------------
    def fix(self, name: str | None = None, **values: float) -> "Model":
        """A special case with some parameters pinned, e.g. ``LMG_DIMER.fix(J=0.0)``."""
        self._check_names(values)
        fixed = dict(self.fixed)
        fixed.update({k: float(v) for k, v in values.items()})
        new_name = name or f"{self.name}[{','.join(f'{k}={v:g}' for k, v in fixed.items())}]"
        return replace(self, name=new_name, fixed=fixed)

    # -- parameters --------------------------------------------------------------------------
    def _check_names(self, params: Mapping[str, Any]) -> None:
        unknown = [k for k in params if k not in self.param_names]
        if unknown:
            raise KeyError(f"unknown parameter(s) {unknown} for model {self.name!r}; expected names from "
                           f"{list(self.param_names)}")

    def params(self, params: Mapping[str, float] | None = None, **kwargs: float) -> dict[str, float]:
        """Full parameter dictionary: defaults, then ``params``, then keyword arguments, then pins."""
        merged = dict(params or {})
        merged.update(kwargs)
        self._check_names(merged)
        pinned = [k for k in merged if k in self.fixed and float(merged[k]) != self.fixed[k]]
        if pinned:
            raise ValueError(f"parameter(s) {pinned} are fixed in model {self.name!r} at "
                             f"{ {k: self.fixed[k] for k in pinned} }, got {[merged[k] for k in pinned]}")
        out = dict(self.defaults)
        for k, v in merged.items():
            try:
                fv = float(v)
            except (TypeError, ValueError):
                raise TypeError(f"parameter {k!r} must be a real number, got {v!r}") from None
            if not math.isfinite(fv):
                raise ValueError(f"parameter {k!r} must be finite, got {fv}")
            out[k] = fv
        out.update(self.fixed)
        return out

    def pack_params(self, params: Mapping[str, float] | None = None, **kwargs: float) -> np.ndarray:
        """The float64 parameter vector the kernels take, in ``param_names`` order."""
        d = self.params(params, **kwargs)
        return np.array([d[k] for k in self.param_names], dtype=np.float64)

    def unpack_params(self, p: np.ndarray) -> dict[str, float]:
        return {k: float(v) for k, v in zip(self.param_names, p)}

    def param_index(self, name: str) -> int:
        if name not in self.param_names:
            raise KeyError(f"unknown parameter {name!r} for model {self.name!r}; expected one of "
                           f"{list(self.param_names)}")
        if name in self.fixed:
            raise ValueError(f"parameter {name!r} is fixed at {self.fixed[name]} in model {self.name!r}")
        return self.param_names.index(name)

    # -- states ------------------------------------------------------------------------------
    def check_state(self, y: Any, *, batch: bool = False) -> np.ndarray:
        """Validate a state (n,) or, with ``batch``, states (m, n); returns float64 arrays."""
        arr = np.asarray(y, dtype=float)
        ok = (arr.ndim == 2 and arr.shape[1] == self.n) if batch else (arr.shape == (self.n,))
        if not ok:
            want = f"(m, {self.n})" if batch else f"({self.n},)"
            raise ValueError(f"state for model {self.name!r} must have shape {want} "
                             f"({', '.join(self.state_names)}), got shape {arr.shape}")
        if not np.all(np.isfinite(arr)):
            raise ValueError(f"state for model {self.name!r} must be finite, got {arr}")
        return np.ascontiguousarray(arr)

    def state_dict(self, y: np.ndarray) -> dict[str, float]:
        return {k: float(v) for k, v in zip(self.state_names, y)}

    # -- evaluation ------------------------------------------------------------------------
    def f(self, y, params: Mapping[str, float] | None = None) -> np.ndarray:
        """The vector field at ``y`` (n,)."""
        y = self.check_state(y)
        out = np.empty(self.n)
        self.rhs(y, self.pack_params(params), out)
        return out

    def jacobian(self, y, params: Mapping[str, float] | None = None) -> np.ndarray:
        """df/dy at ``y``, (n, n) in the embedding."""
        y = self.check_state(y)
        out = np.empty((self.n, self.n))
        self.jac(y, self.pack_params(params), out)
        return out

    def tangent_jacobian(self, y, params: Mapping[str, float] | None = None) -> np.ndarray:
        """T^T J T (dim x dim) with T the tangent basis at ``y``.

        At an equilibrium on the phase space the tangent space is invariant under J, so the
        eigenvalues of this matrix are exactly the phase-space stability exponents; the radial
        eigenvalues of the embedding are excluded.
        """
        T = self.geometry.tangent_basis(y)
        return T.T @ self.jacobian(y, params) @ T

    def tangent_eigenvalues(self, y, params: Mapping[str, float] | None = None) -> np.ndarray:
        """Eigenvalues of :meth:`tangent_jacobian`, sorted by decreasing real part."""
        ev = np.linalg.eigvals(self.tangent_jacobian(y, params))
        return ev[np.argsort(-ev.real, kind="stable")]

    def random_states(self, n_states: int, seed: int | np.random.Generator | None = None) -> np.ndarray:
        """Initial conditions uniform on the phase space (spheres); (n_states, n)."""
        from bifurcate.utils import as_generator

        return self.geometry.random_points(int(n_states), as_generator(seed))

    # -- compiled integrators ----------------------------------------------------------------
    @property
    def kernels(self):
        """The per-model compiled integrators (generated once, cached by numba on disk)."""
        from bifurcate.kernels.codegen import model_kernels

        return model_kernels(self)


def get_model(name: str, module: str | None = None, attr: str | None = None,
              fixed: Mapping[str, float] | None = None) -> Model:
    """Look a model up by name (or rebuild it from its module when unpickling)."""
    if module is not None:
        import importlib

        base = getattr(importlib.import_module(module), attr)
        if not isinstance(base, Model) and callable(getattr(base, "mean_field", None)):
            base = base.mean_field(name)   # a specification (bifurcate.spec.OpenSystem)
        if fixed and dict(fixed) != dict(base.fixed):
            extra = {k: v for k, v in fixed.items() if base.fixed.get(k) != v}
            return _REGISTRY.get(name) or base.fix(name=name, **extra)
        return base
    import bifurcate.models  # noqa: F401  (registers the shipped models)

    try:
        return _REGISTRY[name]
    except KeyError:
        raise KeyError(f"unknown model {name!r}; known models: {sorted(_REGISTRY)}") from None
