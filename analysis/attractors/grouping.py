"""Grouping trajectories into invariant sets by shared support, and mirror images.

Finite-time means of members of one chaotic attractor differ by sampling noise that shrinks only
like T^-1/2, so distance between means either splits an attractor or, with a loose radius, merges
neighbours. Here two trajectories of one kind are one set when the cells of a coarse grid their
orbits occupy overlap (at least ``overlap_min`` of one orbit's samples lie in cells the other visits;
links are transitive): a
chaotic orbit fills its attractor's cells whatever its means, while disjoint attractors (the two
Z2 mirrors of a symmetry-broken phase) occupy disjoint cells. Fixed points are grouped by the
equilibrium they sit on (exact). Non-attracting families (neutral orbits, conservative chaos) are
one family per connected region: linked when their cells on a coarser grid touch (share a cell or
are neighbours).

A set is the *mirror* of another if a symmetry of the model maps its occupied cells onto the
other's (or, for fixed points, maps one equilibrium onto the other).

Compare Attractors.jl's recurrence-based mapping (cells of a grid visited repeatedly define an
attractor); here the grid only compares supports of already-decided trajectories.
"""
from __future__ import annotations

import numpy as np

__all__ = ["occupied_cells", "support_overlap", "in_sorted", "shared_both_ways", "merge_cells", "group_by_support", "group_by_touch", "dilate",
           "components", "mirror_pairs"]


def _cells(samples: np.ndarray, lo: np.ndarray, h: np.ndarray, nbins: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    idx = np.floor((samples - lo) / h).astype(np.int64)
    idx = np.clip(idx, 0, nbins - 1)
    code = np.zeros(idx.shape[0], dtype=np.int64)
    for k in range(idx.shape[1]):
        code = code * int(nbins[k]) + idx[:, k]
    u, c = np.unique(code, return_counts=True)
    return u, c / c.sum()


def occupied_cells(samples: list[np.ndarray], frac: float, lo: np.ndarray | None = None,
                   hi: np.ndarray | None = None) -> tuple[list[np.ndarray], tuple]:
    """Cells of a grid (``1 / frac`` cells per component over [lo, hi]) occupied by each orbit.

    Parameters
    ----------
    samples : list of ndarray (k_i, n)
    frac : float
    lo, hi : ndarray (n,), optional
        Grid bounds; default the range of all samples (a component without spread gets one cell).

    Returns
    -------
    (cells, grid) with ``cells[i] = (codes, weights)``: the sorted unique cell codes of orbit i and
    the fraction of its samples in each, and ``grid = (lo, h, nbins)``.
    """
    allv = np.concatenate([s for s in samples if len(s)], axis=0) if any(len(s) for s in samples) else None
    if allv is None:
        return [_EMPTY for _ in samples], (None, None, None)
    lo = allv.min(axis=0) if lo is None else np.asarray(lo, float)
    hi = allv.max(axis=0) if hi is None else np.asarray(hi, float)
    nb_max = max(1, int(round(1.0 / frac)))
    span = hi - lo
    # a component whose spread is tiny compared with the others gets a single cell
    big = span > 1e-6 * max(1.0, float(span.max()))
    nbins = np.where(big, nb_max, 1).astype(np.int64)
    h = np.where(big, span / nb_max, 1.0) * (1 + 1e-9)
    return [_cells(s, lo, h, nbins) if len(s) else _EMPTY for s in samples], (lo, h, nbins)


_EMPTY = (np.zeros(0, np.int64), np.zeros(0))


def support_overlap(a, b) -> float:
    """Shared support of two occupations ``(codes, weights)``: the larger of the fraction of a's
    samples in cells that b visits and the fraction of b's samples in cells that a visits (0 if one
    is empty). A chaotic orbit spends most of its time in cells that any long orbit on the same
    attractor also visits, whatever the two orbits' finite-time means."""
    (ca, wa), (cb, wb) = a, b
    if ca.size == 0 or cb.size == 0:
        return 0.0
    ina = in_sorted(ca, cb)
    inb = in_sorted(cb, ca)
    return float(max(wa[ina].sum(), wb[inb].sum()))


def in_sorted(ca: np.ndarray, cb: np.ndarray) -> np.ndarray:
    """``np.isin(ca, cb)`` for sorted arrays of unique cell codes (as :func:`occupied_cells` gives
    them), by binary search: the same mask, 2-6 times faster on the few hundred cells of an orbit
    (``np.isin`` chooses between sorting and a lookup table on every call)."""
    if cb.size == 0 or ca.size == 0:
        return np.zeros(ca.size, dtype=bool)
    pos = np.searchsorted(cb, ca)
    pos[pos == cb.size] = 0
    return cb[pos] == ca


def shared_both_ways(a, b) -> float:
    """Two-way shared support of occupations ``(codes, weights)``: the smaller of the fraction of
    a's samples in cells b visits and of b's samples in cells a visits (a cycle inside a chaotic
    sea shares one way only)."""
    (ca, wa), (cb, wb) = a, b
    return float(min(wa[in_sorted(ca, cb)].sum(), wb[in_sorted(cb, ca)].sum()))


def merge_cells(parts) -> tuple[np.ndarray, np.ndarray]:
    """Union of occupations (weights averaged over the parts)."""
    parts = [p for p in parts if p[0].size]
    if not parts:
        return _EMPTY
    codes = np.concatenate([p[0] for p in parts])
    w = np.concatenate([p[1] / len(parts) for p in parts])
    u, inv = np.unique(codes, return_inverse=True)
    return u, np.bincount(inv, weights=w, minlength=u.size)


def components(adj: np.ndarray) -> np.ndarray:
    """Connected components of a symmetric boolean adjacency matrix; labels in order of first member."""
    m = adj.shape[0]
    lab = np.arange(m)
    if m == 0:
        return lab
    A = adj | np.eye(m, dtype=bool)
    while True:
        new = np.min(np.where(A, lab[None, :], m), axis=1)
        if np.array_equal(new, lab):
            break
        lab = new
    _, out = np.unique(lab, return_inverse=True)
    return out.astype(np.int64)


def dilate(cells, grid) -> np.ndarray:
    """Codes of the cells of an occupation and of all their neighbours (the 3^n block around each)."""
    codes = cells[0]
    lo, h, nbins = grid
    if codes.size == 0 or lo is None:
        return codes
    n = len(nbins)
    idx = np.empty((codes.size, n), dtype=np.int64)
    c = codes.copy()
    for k in range(n - 1, -1, -1):
        idx[:, k] = c % nbins[k]
        c //= nbins[k]
    offs = np.stack(np.meshgrid(*[np.arange(-1, 2)] * n, indexing="ij"), axis=-1).reshape(-1, n)
    nb = (idx[:, None, :] + offs[None, :, :]).reshape(-1, n)
    nb = nb[np.all((nb >= 0) & (nb < nbins), axis=1)]
    out = np.zeros(nb.shape[0], dtype=np.int64)
    for k in range(n):
        out = out * int(nbins[k]) + nb[:, k]
    return np.unique(out)


def _decode(codes: np.ndarray, nbins) -> np.ndarray:
    """Cell indices (k, n) of cell codes (k,) on a grid with ``nbins`` cells per component."""
    n = len(nbins)
    idx = np.empty((codes.size, n), dtype=np.int16 if int(np.max(nbins)) < 2 ** 14 else np.int64)
    c = codes.copy()
    for k in range(n - 1, -1, -1):
        idx[:, k] = c % nbins[k]
        c //= nbins[k]
    return idx


def _dilated_masks(u: np.ndarray, mask: np.ndarray, nbins) -> np.ndarray:
    """Per occupied cell ``u`` (sorted codes): the OR of the bit ``mask`` of that cell and of its occupied
    neighbours (the 3^n block). Dense grids are dilated axis by axis (the Chebyshev ball is a box), large
    ones over the 3^n offsets by sorted search."""
    nb = np.asarray(nbins, dtype=np.int64)
    n = nb.size
    if int(np.prod(nb)) <= 4_000_000:
        D = np.zeros(int(np.prod(nb)), dtype=np.uint64)
        D[u] = mask
        D = D.reshape(tuple(int(b) for b in nb))
        for k in range(n):
            if nb[k] < 2:
                continue
            E = D.copy()
            lo_ = [slice(None)] * n
            hi_ = [slice(None)] * n
            lo_[k], hi_[k] = slice(1, None), slice(None, -1)
            E[tuple(lo_)] |= D[tuple(hi_)]
            E[tuple(hi_)] |= D[tuple(lo_)]
            D = E
        return D.reshape(-1)[u]
    idx = _decode(u, nbins).astype(np.int64)
    mult = np.ones(n, dtype=np.int64)
    for k in range(n - 2, -1, -1):
        mult[k] = mult[k + 1] * nb[k + 1]
    axes = [np.arange(-1, 2) if nb[k] > 1 else np.zeros(1, dtype=np.int64) for k in range(n)]
    offs = np.stack(np.meshgrid(*axes, indexing="ij"), axis=-1).reshape(-1, n)
    reach = mask.copy()   # per cell: the orbits on it or on a neighbouring cell
    for o in offs:
        if not o.any():
            continue
        q = idx + o
        ok = np.nonzero(np.all((q >= 0) & (q < nb), axis=1))[0]
        if not ok.size:
            continue
        cq = q[ok] @ mult
        pos = np.minimum(np.searchsorted(u, cq), u.size - 1)
        hit = u[pos] == cq
        reach[ok[hit]] |= mask[pos[hit]]
    return reach


def group_by_touch(cells: list, grid) -> np.ndarray:
    """Connected components of 'the occupations touch' (share a cell or neighbouring cells): one
    family per connected region of the phase space at the grid's resolution.

    The same relation as 'cells of j lie in :func:`dilate` of i' (tested). Every occupied cell
    carries the bit mask of the orbits that visit it (one 64-bit word per 64 orbits); the masks are
    dilated by one cell (:func:`_dilated_masks`) and the dilated masks of an orbit's cells name the
    orbits it touches (no pairwise comparison, also beyond 64 orbits)."""
    m = len(cells)
    lo, h, nbins = grid
    adj = np.zeros((m, m), dtype=bool)
    if lo is None or m == 0:
        return components(adj)
    codes = np.concatenate([np.asarray(c[0], dtype=np.int64) for c in cells])
    owner = np.concatenate([np.full(len(c[0]), i, dtype=np.int64) for i, c in enumerate(cells)])
    if codes.size == 0:
        return components(adj)
    u, inv = np.unique(codes, return_inverse=True)
    inv = inv.reshape(-1)
    # an orbit's cells, contiguous: owner is sorted by construction
    sizes = np.bincount(owner, minlength=m)
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    has = sizes > 0
    one = np.uint64(1)
    for w0 in range(0, m, 64):
        width = min(64, m - w0)
        sel = (owner >= w0) & (owner < w0 + width)
        mask = np.zeros(u.size, dtype=np.uint64)
        np.bitwise_or.at(mask, inv[sel], np.left_shift(one, (owner[sel] - w0).astype(np.uint64)))
        reach = _dilated_masks(u, mask, nbins)[inv]          # per (orbit, cell) entry
        r = np.bitwise_or.reduceat(reach, starts[has])       # per orbit with cells
        bits = ((r[:, None] >> np.arange(width, dtype=np.uint64)[None, :]) & one).astype(bool)
        adj[np.nonzero(has)[0], w0:w0 + width] = bits
    adj |= adj.T
    np.fill_diagonal(adj, False)
    return components(adj)


def group_by_support(cells: list, overlap_min: float) -> np.ndarray:
    """Connected components of the graph 'shared support >= overlap_min' (:func:`support_overlap`)."""
    m = len(cells)
    adj = np.zeros((m, m), dtype=bool)
    for i in range(m):
        for j in range(i + 1, m):
            if support_overlap(cells[i], cells[j]) >= overlap_min:
                adj[i, j] = adj[j, i] = True
    return components(adj)


def mirror_pairs(set_cells: list, set_samples: list[np.ndarray], symmetries, grid, overlap_min: float,
                 kinds: list[str]) -> list[list[tuple[int, str]]]:
    """For every set, the sets (index, symmetry name) its image under a model symmetry lands on.

    ``set_samples[i]`` are orbit samples of set i (fixed points: the state itself); images are
    binned on the same grid ``grid = (lo, h, nbins)``. Only sets of the same kind are compared; a
    set may be its own mirror (a symmetric set).
    """
    lo, h, nbins = grid
    out: list[list[tuple[int, str]]] = [[] for _ in set_cells]
    if lo is None:
        return out
    for sym in symmetries:
        S = np.asarray(sym.matrix, dtype=float)
        for i, Y in enumerate(set_samples):
            if len(Y) == 0:
                continue
            img = Y @ S.T
            inside = np.all((img >= lo - 1e-12) & (img <= lo + h * nbins + 1e-12), axis=1)
            if inside.mean() < overlap_min:
                continue
            ci = _cells(img[inside], lo, h, nbins)
            for j, cj in enumerate(set_cells):
                if kinds[j] != kinds[i]:
                    continue
                if support_overlap(ci, cj) >= overlap_min:
                    out[i].append((j, sym.name))
    return out
