"""Provenance: the ``metadata.json`` written beside every artefact (table, figure, report)."""
from __future__ import annotations

import dataclasses
import json
import platform
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Mapping

import numpy as np

__all__ = ["provenance", "write_metadata", "git_commit", "to_jsonable"]


def git_commit(path: str | Path | None = None) -> str | None:
    """Commit hash of the checkout holding this package (None outside a git checkout)."""
    here = Path(path) if path else Path(__file__).resolve().parent
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=here, capture_output=True, text=True, timeout=5)
    except (OSError, subprocess.SubprocessError):
        return None
    if out.returncode != 0:
        return None
    dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=here, capture_output=True,
                           text=True, timeout=5).stdout.strip()
    return out.stdout.strip() + ("+dirty" if dirty else "")


def to_jsonable(obj: Any) -> Any:
    """Recursively turn numpy scalars/arrays, dataclasses and paths into JSON-friendly values."""
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {f.name: to_jsonable(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
    if isinstance(obj, Mapping):
        return {str(k): to_jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple, set)):
        return [to_jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return to_jsonable(obj.tolist())
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, (complex, np.complexfloating)):
        return [obj.real, obj.imag]
    if isinstance(obj, Path):
        return str(obj)
    if isinstance(obj, (str, int, float, bool)) or obj is None:
        return obj
    return repr(obj)


def provenance(**extra: Any) -> dict:
    """Versions, commit, machine and time, plus whatever the caller adds (seeds, options, params)."""
    import numba
    import scipy

    import bifurcate

    meta = {
        "package": "lmg-bifurcate",
        "version": bifurcate.__version__,
        "git_commit": git_commit(),
        "python": sys.version.split()[0],
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "numba": numba.__version__,
        "platform": platform.platform(),
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
    meta.update(to_jsonable(extra))
    return meta


def write_metadata(path: str | Path, **extra: Any) -> Path:
    """Write ``metadata.json`` (or ``<name>.metadata.json`` for a file path) beside an artefact."""
    p = Path(path)
    target = p / "metadata.json" if p.is_dir() else p.with_name(p.name + ".metadata.json")
    target.write_text(json.dumps(provenance(**extra), indent=2, sort_keys=False))
    return target
