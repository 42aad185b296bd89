"""A resumable on-disk result store for sweeps: parquet parts plus a ``metadata.json``.

Layout::

    <root>/<key>/metadata.json           provenance, inputs, seeds, options, completion
    <root>/<key>/parts/part-*.parquet    one file per finished chunk (written atomically)
    <root>/<key>/table.parquet           the consolidated table once the sweep is complete

``key`` is a hash of the inputs (model, grid, seeds, options; see :func:`input_key`), so a
repeated call finds its own directory and returns the cached table, and a different input never
reads a stale one. Each chunk is written to a temporary name and renamed into place: a process
killed at any moment leaves either a whole part or none, so resuming recomputes only the points
that are in no part, and loses none that are.

Only the process that drives the sweep writes (Dask workers return their chunks to it); two
drivers on the same key at once are not supported.
"""
from __future__ import annotations

import hashlib
import json
import os
import uuid
from pathlib import Path
from typing import Any, Mapping

import pandas as pd

from analysis.provenance import provenance, to_jsonable

__all__ = ["ResultStore", "SweepStore", "input_key", "STORE_SCHEMA"]

#: bump when the row schema changes, so old stores are not mistaken for new ones
STORE_SCHEMA = 1


def input_key(inputs: Mapping[str, Any], length: int = 16) -> str:
    """Stable hash of the inputs (canonical JSON, floats by ``repr``; SHA-256, first ``length`` hex)."""
    blob = json.dumps(to_jsonable({"schema": STORE_SCHEMA, **inputs}), sort_keys=True, separators=(",", ":"),
                      default=repr)
    return hashlib.sha256(blob.encode()).hexdigest()[:length]


class SweepStore:
    """The directory of one sweep (one input key). Create through :meth:`ResultStore.sweep`."""

    def __init__(self, path: str | Path, key: str):
        self.path = Path(path)
        self.key = key
        self.parts_dir = self.path / "parts"
        self.meta_path = self.path / "metadata.json"
        self.table_path = self.path / "table.parquet"

    def __repr__(self) -> str:
        return f"SweepStore({str(self.path)!r}, complete={self.is_complete})"

    # -- metadata ------------------------------------------------------------------------------
    def metadata(self) -> dict:
        if not self.meta_path.exists():
            return {}
        return json.loads(self.meta_path.read_text())

    def _write_json(self, meta: Mapping) -> None:
        tmp = self.meta_path.with_name(f".metadata.{uuid.uuid4().hex}.tmp")
        tmp.write_text(json.dumps(to_jsonable(meta), indent=2))
        os.replace(tmp, self.meta_path)

    def init(self, inputs: Mapping[str, Any], **extra: Any) -> None:
        """Create the directory and ``metadata.json`` (kept if it exists: a resume keeps its history)."""
        self.parts_dir.mkdir(parents=True, exist_ok=True)
        for stale in self.parts_dir.glob(".*.tmp"):  # half-written parts of a killed run
            stale.unlink(missing_ok=True)
        meta = self.metadata()
        if meta:
            if meta.get("key") != self.key:
                raise ValueError(f"store {self.path} holds key {meta.get('key')!r}, expected {self.key!r}")
            meta.setdefault("sessions", []).append(provenance(**extra).get("created"))
        else:
            meta = provenance(key=self.key, inputs=inputs, complete=False, **extra)
            meta["sessions"] = [meta["created"]]
        self._write_json(meta)

    def update_metadata(self, **fields: Any) -> None:
        meta = self.metadata()
        meta.update(to_jsonable(fields))
        self._write_json(meta)

    @property
    def is_complete(self) -> bool:
        return self.table_path.exists() and bool(self.metadata().get("complete"))

    # -- parts ---------------------------------------------------------------------------------
    def part_files(self) -> list[Path]:
        return sorted(self.parts_dir.glob("part-*.parquet")) if self.parts_dir.exists() else []

    def done_points(self, column: str = "point") -> set[int]:
        """Point ids present in some finished part (or the consolidated table)."""
        import pyarrow.parquet as pq

        if self.table_path.exists():
            return set(pq.read_table(self.table_path, columns=[column]).column(column).to_pylist())
        done: set[int] = set()
        for f in self.part_files():
            done.update(pq.read_table(f, columns=[column]).column(column).to_pylist())
        return done

    def write_part(self, df: pd.DataFrame, label: str = "") -> Path:
        """Write one finished chunk atomically (temporary name, fsync, rename)."""
        self.parts_dir.mkdir(parents=True, exist_ok=True)
        name = f"part-{label}{'-' if label else ''}{uuid.uuid4().hex[:8]}.parquet"
        tmp = self.parts_dir / f".{name}.tmp"
        df.to_parquet(tmp, engine="pyarrow", index=False)
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, self.parts_dir / name)
        return self.parts_dir / name

    def load(self, column: str = "point") -> pd.DataFrame:
        """All stored rows, sorted by ``column``, one row per id (the first written wins)."""
        if self.table_path.exists():
            return pd.read_parquet(self.table_path, engine="pyarrow")
        files = self.part_files()
        if not files:
            return pd.DataFrame()
        df = pd.concat([pd.read_parquet(f, engine="pyarrow") for f in files], ignore_index=True)
        return df.drop_duplicates(subset=[column], keep="first").sort_values(column).reset_index(drop=True)

    def consolidate(self, df: pd.DataFrame, **fields: Any) -> None:
        """Write ``table.parquet`` from the full table, mark complete, then drop the parts."""
        tmp = self.path / f".table.{uuid.uuid4().hex}.tmp"
        df.to_parquet(tmp, engine="pyarrow", index=False)
        os.replace(tmp, self.table_path)
        self.update_metadata(complete=True, n_rows=len(df), **fields)
        for f in self.part_files():
            f.unlink(missing_ok=True)


class ResultStore:
    """A directory of sweeps, one sub-directory per input key.

    Parameters
    ----------
    root : str or Path
        Created if missing.

    Examples
    --------
    >>> store = ResultStore("results/phase")          # doctest: +SKIP
    >>> sweep = store.sweep({"model": "lmg_dimer", "grid": ...})
    """

    def __init__(self, root: str | Path):
        self.root = Path(root)

    def __repr__(self) -> str:
        return f"ResultStore({str(self.root)!r})"

    def sweep(self, inputs: Mapping[str, Any]) -> SweepStore:
        key = input_key(inputs)
        return SweepStore(self.root / key, key)

    def keys(self) -> list[str]:
        return sorted(p.name for p in self.root.iterdir() if (p / "metadata.json").exists()) if self.root.exists() else []

    @staticmethod
    def coerce(store) -> "ResultStore | None":
        if store is None or isinstance(store, ResultStore):
            return store
        if isinstance(store, (str, os.PathLike)):
            return ResultStore(store)
        raise TypeError(f"store must be None, a path or a ResultStore, got {type(store).__name__}")
