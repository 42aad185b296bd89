"""A resumable, self-healing on-disk result store for sweeps, shareable by several processes.

Layout::

    <root>/<key>/metadata.json                    provenance, inputs, seeds, options, completion,
                                                   and the SHA-256 of its own content
    <root>/<key>/parts/part-<label>-<id>-<sha>.parquet   one file per finished chunk; <sha> is the first
                                                   16 hex digits of the file's SHA-256
    <root>/<key>/table.parquet (+ table.parquet.sha256)  the consolidated table once complete
    <root>/<key>/claims.json, .lock                which process computes which points (shared use)
    <root>/<key>/quarantine/                       corrupt files, moved aside (never deleted)

``key`` is a hash of the inputs (model, grid, seeds, options; see :func:`input_key`), so a
repeated call finds its own directory and returns the cached table, and a different input never
reads a stale one. Each file is written to a temporary name and renamed into place: a process
killed at any moment leaves either a whole part or none, so resuming recomputes only the points
that are in no part, and loses none that are.

Healing: every file is checked when read (a part against the checksum in its name, the table
against its ``.sha256`` side file or the copy in the metadata, ``metadata.json`` against the
checksum it holds, and each of them by parsing it). A file that fails is moved to ``quarantine/`` with a
:class:`StoreRepairWarning`, and its points count as not computed: the sweep recomputes them. A
consolidated table that lacks rows (fewer than ``n_rows`` of the metadata) is not complete: its
rows are kept and the missing points computed.

Sharing: points are claimed before they are computed (:meth:`SweepStore.claim`, under an
exclusive ``flock`` of ``.lock``; the claims live in ``claims.json`` with host, pid and time). A
second process on the same sweep takes only unclaimed points, reads the other's parts as they
appear, and takes over the claims of a process that died (same host: its pid is gone; another
host: after ``stale_after`` seconds). Two processes on one store thus compute each point once and
end with identical tables. ``flock`` needs a local file system (or NFSv4 with locking).
"""
from __future__ import annotations

import contextlib
import hashlib
import json
import os
import socket
import time
import uuid
import warnings
from pathlib import Path
from typing import Any, Iterable, Mapping

import pandas as pd

from analysis.provenance import provenance, to_jsonable

__all__ = ["ResultStore", "SweepStore", "input_key", "STORE_SCHEMA", "StoreRepairWarning", "file_sha256"]

#: bump when the row schema changes, so old stores are not mistaken for new ones
STORE_SCHEMA = 1

_SHA_LEN = 16


class StoreRepairWarning(UserWarning):
    """A corrupt or incomplete file of a result store was quarantined; its points are recomputed."""


def input_key(inputs: Mapping[str, Any], length: int = 16) -> str:
    """Stable hash of the inputs (canonical JSON, floats by ``repr``; SHA-256, first ``length`` hex)."""
    blob = json.dumps(to_jsonable({"schema": STORE_SCHEMA, **inputs}), sort_keys=True, separators=(",", ":"),
                      default=repr)
    return hashlib.sha256(blob.encode()).hexdigest()[:length]


def file_sha256(path: str | Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _meta_digest(meta: Mapping) -> str:
    body = {k: v for k, v in meta.items() if k != "checksum"}
    return hashlib.sha256(json.dumps(body, sort_keys=True, separators=(",", ":"), default=repr).encode()).hexdigest()


def _fsync_write(path: Path, data: bytes) -> None:
    with open(path, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # pragma: no cover - another user's live process
        return True
    return True


class SweepStore:
    """The directory of one sweep (one input key). Create through :meth:`ResultStore.sweep`.

    Parameters
    ----------
    path : str or Path
    key : str
    stale_after : float
        Seconds after which a claim of a process on another host is taken over (claims of this
        host are taken over as soon as their process is gone).
    """

    def __init__(self, path: str | Path, key: str, stale_after: float = 3600.0):
        self.path = Path(path)
        self.key = key
        self.parts_dir = self.path / "parts"
        self.meta_path = self.path / "metadata.json"
        self.table_path = self.path / "table.parquet"
        self.table_sum_path = self.path / "table.parquet.sha256"
        self.claims_path = self.path / "claims.json"
        self.lock_path = self.path / ".lock"
        self.quarantine_dir = self.path / "quarantine"
        self.stale_after = float(stale_after)
        self._host = socket.gethostname()
        self._token = uuid.uuid4().hex
        self._verified: dict[str, tuple[int, int, frozenset]] = {}   # part name -> (size, mtime_ns, points)
        self._lock_fh = None
        self._lock_depth = 0

    def __repr__(self) -> str:
        return f"SweepStore({str(self.path)!r}, complete={self.is_complete})"

    # -- healing -------------------------------------------------------------------------------
    def quarantine(self, path: Path, reason: str) -> Path | None:
        """Move a corrupt file aside (``quarantine/``) and warn; returns its new path."""
        self.quarantine_dir.mkdir(parents=True, exist_ok=True)
        target = self.quarantine_dir / f"{path.name}.{time.strftime('%Y%m%dT%H%M%S')}.{uuid.uuid4().hex[:6]}"
        try:
            os.replace(path, target)
        except FileNotFoundError:   # another process moved or consolidated it first
            return None
        warnings.warn(f"result store {self.path}: {path.name} is corrupt ({reason}); moved to {target} and its "
                      f"points will be recomputed", StoreRepairWarning, stacklevel=3)
        return target

    # -- locking -------------------------------------------------------------------------------
    @contextlib.contextmanager
    def locked(self):
        """Exclusive lock of this sweep (``flock`` of ``.lock``; re-entrant within this object)."""
        import fcntl

        if self._lock_depth == 0:
            self.path.mkdir(parents=True, exist_ok=True)
            self._lock_fh = open(self.lock_path, "a+")
            fcntl.flock(self._lock_fh.fileno(), fcntl.LOCK_EX)
        self._lock_depth += 1
        try:
            yield
        finally:
            self._lock_depth -= 1
            if self._lock_depth == 0:
                fcntl.flock(self._lock_fh.fileno(), fcntl.LOCK_UN)
                self._lock_fh.close()
                self._lock_fh = None

    # -- metadata ------------------------------------------------------------------------------
    def metadata(self) -> dict:
        """The metadata ({} if absent; a corrupt file is quarantined with a warning and {} returned)."""
        try:
            raw = self.meta_path.read_bytes()
        except FileNotFoundError:
            return {}
        try:
            meta = json.loads(raw.decode("utf-8"))
            if not isinstance(meta, dict):
                raise ValueError(f"expected a JSON object, got {type(meta).__name__}")
        except (ValueError, UnicodeDecodeError) as exc:
            self.quarantine(self.meta_path, f"not valid JSON: {exc}")
            return {}
        if "checksum" in meta and meta["checksum"] != _meta_digest(meta):
            self.quarantine(self.meta_path, "checksum mismatch")
            return {}
        return meta

    def _write_json(self, meta: Mapping) -> None:
        meta = dict(to_jsonable(meta))
        meta["checksum"] = _meta_digest(meta)
        tmp = self.meta_path.with_name(f".metadata.{uuid.uuid4().hex}.tmp")
        _fsync_write(tmp, json.dumps(meta, indent=2).encode())
        os.replace(tmp, self.meta_path)

    def init(self, inputs: Mapping[str, Any], **extra: Any) -> None:
        """Create the directory and ``metadata.json`` (kept if it exists: a resume keeps its history)."""
        self.parts_dir.mkdir(parents=True, exist_ok=True)
        with self.locked():
            for stale in self.parts_dir.glob(".*.tmp"):  # half-written parts of a killed run
                if time.time() - stale.stat().st_mtime > 60 or not self._claims_live():
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
        with self.locked():
            meta = self.metadata()
            meta.update(to_jsonable(fields))
            self._write_json(meta)

    # -- the table -----------------------------------------------------------------------------
    def _table_ok(self) -> bool:
        """The consolidated table exists and passes its checksum (else it is quarantined)."""
        if not self.table_path.exists():
            return False
        try:
            want = self.table_sum_path.read_text().strip()
        except FileNotFoundError:
            want = None
        except (OSError, UnicodeDecodeError):
            want = ""
        if not want:   # side file lost or damaged: the copy in the metadata
            want = self.metadata().get("table_sha256") or None
        if want is not None and file_sha256(self.table_path) != want:
            self.quarantine(self.table_path, "checksum mismatch")
            return False
        if want is None:   # written before checksums: at least it must parse
            try:
                import pyarrow.parquet as pq

                pq.read_metadata(self.table_path)
            except Exception as exc:  # noqa: BLE001 - any parse failure is corruption
                self.quarantine(self.table_path, f"unreadable: {exc}")
                return False
        return True

    def _read_table(self) -> pd.DataFrame | None:
        if not self._table_ok():
            return None
        try:
            return pd.read_parquet(self.table_path, engine="pyarrow")
        except FileNotFoundError:
            return None
        except Exception as exc:  # noqa: BLE001
            self.quarantine(self.table_path, f"unreadable: {exc}")
            return None

    @property
    def is_complete(self) -> bool:
        """The consolidated table is present, intact and has every row the metadata promises."""
        meta = self.metadata()
        if meta.get("complete") and not self.table_path.exists():
            warnings.warn(f"result store {self.path}: table.parquet of a complete sweep is missing; its points will "
                          f"be recomputed", StoreRepairWarning, stacklevel=2)
            return False
        if not (meta.get("complete") and self._table_ok()):
            return False
        try:
            import pyarrow.parquet as pq

            n = pq.read_metadata(self.table_path).num_rows
        except Exception as exc:  # noqa: BLE001
            self.quarantine(self.table_path, f"unreadable: {exc}")
            return False
        if "n_rows" in meta and n != meta["n_rows"]:
            warnings.warn(f"result store {self.path}: table.parquet has {n} rows, expected {meta['n_rows']}; "
                          f"the missing points will be recomputed", StoreRepairWarning, stacklevel=2)
            return False
        return True

    # -- parts ---------------------------------------------------------------------------------
    def part_files(self) -> list[Path]:
        return sorted(self.parts_dir.glob("part-*.parquet")) if self.parts_dir.exists() else []

    def _part_points(self, f: Path, column: str = "point") -> frozenset | None:
        """Points of a verified part (checksum in its name, parses); None if corrupt (quarantined) or gone."""
        import pyarrow.parquet as pq

        try:
            st = f.stat()
        except FileNotFoundError:
            return None
        hit = self._verified.get(f.name)
        if hit is not None and hit[:2] == (st.st_size, st.st_mtime_ns):
            return hit[2]
        stem = f.name[: -len(".parquet")]
        want = stem.rsplit("-", 1)[-1]
        try:
            if len(want) == _SHA_LEN and all(c in "0123456789abcdef" for c in want):
                if file_sha256(f)[:_SHA_LEN] != want:
                    self.quarantine(f, "checksum mismatch")
                    return None
            pts = frozenset(int(p) for p in pq.read_table(f, columns=[column]).column(column).to_pylist())
        except FileNotFoundError:
            return None
        except Exception as exc:  # noqa: BLE001 - unreadable part: corruption
            self.quarantine(f, f"unreadable: {type(exc).__name__}: {exc}")
            return None
        self._verified[f.name] = (st.st_size, st.st_mtime_ns, pts)
        return pts

    def done_points(self, column: str = "point") -> set[int]:
        """Point ids present in some intact part or the consolidated table."""
        with self.locked():
            done: set[int] = set()
            tab = self._read_table()
            if tab is not None and column in tab:
                done.update(int(p) for p in tab[column])
            for f in self.part_files():
                pts = self._part_points(f, column)
                if pts:
                    done.update(pts)
            return done

    def write_part(self, df: pd.DataFrame, label: str = "", column: str = "point") -> Path:
        """Write one finished chunk atomically (temporary name, fsync, rename), its checksum in the
        name, and release this process's claims of its points."""
        self.parts_dir.mkdir(parents=True, exist_ok=True)
        base = f"part-{label}{'-' if label else ''}{uuid.uuid4().hex[:8]}"
        tmp = self.parts_dir / f".{base}.tmp"
        df.to_parquet(tmp, engine="pyarrow", index=False)
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())
        final = self.parts_dir / f"{base}-{file_sha256(tmp)[:_SHA_LEN]}.parquet"
        os.replace(tmp, final)
        if column in df:
            self.release(int(p) for p in df[column])
        return final

    def load(self, column: str = "point") -> pd.DataFrame:
        """All stored rows (intact table and parts), sorted by ``column``, one row per id (the
        table first, then parts in name order)."""
        with self.locked():
            frames = []
            tab = self._read_table()
            if tab is not None:
                frames.append(tab)
            for f in self.part_files():
                if self._part_points(f, column) is None:
                    continue
                try:
                    frames.append(pd.read_parquet(f, engine="pyarrow"))
                except FileNotFoundError:
                    continue
                except Exception as exc:  # noqa: BLE001
                    self.quarantine(f, f"unreadable: {exc}")
        frames = [f for f in frames if len(f)]
        if not frames:
            return pd.DataFrame()
        df = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
        return df.drop_duplicates(subset=[column], keep="first").sort_values(column).reset_index(drop=True)

    def rows(self, points: Iterable[int], column: str = "point") -> pd.DataFrame:
        """Stored rows of the given points (those present; others absent)."""
        want = set(int(p) for p in points)
        df = self.load(column)
        return df[df[column].isin(want)].reset_index(drop=True) if len(df) else df

    def consolidate(self, df: pd.DataFrame, **fields: Any) -> None:
        """Write ``table.parquet`` (and its checksum) from the full table, mark complete, then drop
        the parts. Under the lock: a second process finds the sweep complete and does nothing."""
        with self.locked():
            meta = self.metadata()
            if meta.get("complete") and self._table_ok() and meta.get("n_rows") == len(df):
                return
            tmp = self.path / f".table.{uuid.uuid4().hex}.tmp"
            df.to_parquet(tmp, engine="pyarrow", index=False)
            with open(tmp, "rb") as fh:
                os.fsync(fh.fileno())
            digest = file_sha256(tmp)
            sum_tmp = self.path / f".table-sum.{uuid.uuid4().hex}.tmp"
            _fsync_write(sum_tmp, (digest + "\n").encode())
            os.replace(sum_tmp, self.table_sum_path)
            os.replace(tmp, self.table_path)
            self.update_metadata(complete=True, n_rows=len(df), table_sha256=digest, **fields)
            for f in self.part_files():
                f.unlink(missing_ok=True)
            self._verified.clear()
            self.claims_path.unlink(missing_ok=True)

    # -- claims (sharing one sweep between processes) ------------------------------------------
    def _read_claims(self) -> dict[int, dict]:
        try:
            raw = json.loads(self.claims_path.read_bytes().decode("utf-8"))
            return {int(k): v for k, v in raw.items() if isinstance(v, dict)}
        except FileNotFoundError:
            return {}
        except (ValueError, UnicodeDecodeError, AttributeError) as exc:
            self.quarantine(self.claims_path, f"not valid JSON: {exc}")
            return {}

    def _write_claims(self, claims: Mapping[int, dict]) -> None:
        tmp = self.path / f".claims.{uuid.uuid4().hex}.tmp"
        _fsync_write(tmp, json.dumps({str(k): v for k, v in claims.items()}).encode())
        os.replace(tmp, self.claims_path)

    def _live(self, c: Mapping) -> bool:
        if c.get("token") == self._token:
            return True
        if c.get("host") == self._host:
            # this process's own earlier (interrupted) call, or a process that is gone
            return c.get("pid") != os.getpid() and _pid_alive(int(c.get("pid", -1)))
        return time.time() - float(c.get("time", 0)) < self.stale_after

    def _claims_live(self) -> bool:
        return any(self._live(c) and c.get("token") != self._token for c in self._read_claims().values())

    def claim(self, points: Iterable[int], max_n: int, column: str = "point") -> list[int]:
        """Claim up to ``max_n`` of ``points`` (in order) that are neither stored nor claimed by a
        live process; returns the claimed ones ([] if none is left to take)."""
        with self.locked():
            done = self.done_points(column)
            claims = {p: c for p, c in self._read_claims().items() if self._live(c)}
            got = []
            for p in points:
                p = int(p)
                if p in done or (p in claims and claims[p].get("token") != self._token):
                    continue
                claims[p] = {"host": self._host, "pid": os.getpid(), "token": self._token, "time": time.time()}
                got.append(p)
                if len(got) >= max_n:
                    break
            if got:
                self._write_claims(claims)
            return got

    def release(self, points: Iterable[int]) -> None:
        """Drop this process's claims of ``points``."""
        pts = set(int(p) for p in points)
        if not pts:
            return
        with self.locked():
            claims = self._read_claims()
            keep = {p: c for p, c in claims.items() if not (p in pts and c.get("token") == self._token)}
            if len(keep) != len(claims):
                self._write_claims(keep)

    def claimed_elsewhere(self, points: Iterable[int]) -> set[int]:
        """Those of ``points`` claimed by another live process."""
        with self.locked():
            claims = self._read_claims()
        return {int(p) for p in points if int(p) in claims and claims[int(p)].get("token") != self._token
                and self._live(claims[int(p)])}


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
