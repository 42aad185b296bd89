"""Issue 16 speed targets, measured (not promised): the exact steady state of the LMG dimer at J != 0, and the
six slowest Liouvillian eigenvalues per symmetry sector, against QuTiP in the same run where QuTiP can run.

Run::

    python -m studies.benchmarks.bench_issue16 steady 16 --J 1.5 --lam 0.45 [--qutip] [--preconditioner kron]
    python -m studies.benchmarks.bench_issue16 steady 24 --J 1.5 --lam 0.45 [--workers 1]
    python -m studies.benchmarks.bench_issue16 spectrum 16 --J 1.5 --lam 0.45 --method slowest --qutip-S 3
    python -m studies.benchmarks.bench_issue16 spectrum 16 --J 1.5 --lam 0 --method slowest --qutip-S 3
    python -m studies.benchmarks.bench_issue16 spectrum 16 --J 1.5 --lam 0.45 --method davidson [--qutip]
    python -m studies.benchmarks.bench_issue16 spectrum 16 --J 1.5 --lam 0.45 [--method shift-invert|propagator]
        [--k 6] [--shifts auto|0.05,0.05+1.84j] [--direct-max N] [--ab-S 8] [--qutip]

prints one JSON line. ``steady``: our solver (``steady_state``, method "auto": sparse LU for small problems,
preconditioned IDR(s) beyond, certified by the gap-scaled error estimate; it also prints a one-line summary
to stderr: wall and CPU time of the process, Krylov products of the solve and of the certificate,
residual, certified error, status; the CPU time exceeds the wall time when the preconditioner's two
threads overlap) and, with ``--qutip``,
``qutip.steadystate`` (direct sparse LU of the full complex Liouvillian) on one BLAS thread, timed in the
same process one after the other; the JSON holds both times, their ratio, both residuals of the exact
blocked Liouvillian, our certified error estimate and the largest difference of the density matrices.
``spectrum``: ``shift_invert_spectrum`` (default; the ``k`` eigenvalues of largest real part among those nearest
the shifts, every sector, residual and status per pair), ``system_spectrum(method="propagator")`` (the slowest
``k`` of every sector) or ``slowest_spectrum`` (``--method davidson``: block Davidson in the Hermitian basis
preconditioned by the shifted uncoupled resolvent; residual and status per pair, a certificate per sector:
"dense" / "missed" up to 2500 states, "none" beyond); ``--ab-S`` times both at a smaller S in the same process and compares their eigenvalues;
``--qutip`` times QuTiP's dense spectrum of the full Liouvillian (small S only). Timings on the shared machine are only comparable as ratios within one run; the CPU (process)
times are reported too (one BLAS thread: the CPU time is what an idle core would take, roughly).
Measured for ``spectrum`` (shared machine, load average 10-12 on 2 cores, one BLAS thread; CPU = process time)
-------------------------------------------------------------------------------------------------------------
* ``spectrum 16 --J 0 --lam 0.3 --ab-S 8``: 129 U(1) sectors (64 obtained by conjugation), the largest 23 969
  states, each by sparse LU + ARPACK at its own shift ``0.05 + i Im(mean diagonal)``: 335 s CPU (2530 s wall
  under the load), status ok, worst residual 1.1e-11 (||L||_1 = 64.6); slowest mode of charge 1:
  -0.19643 + 1.00000 i (mean field -0.2 + i). A/B at S = 8 in the same run: shift-invert 2.9 s CPU against the
  propagator's 11.8 s (4.1x), but the two agree (to 1e-9) in only 41 of the 65 sectors: in the others
  (mostly high charges, and sector 0 by 0.018) a slow mode sits far from the single shift and shift-invert
  returns the six nearest the shift instead of the six slowest. The per-sector ``covered_im`` window of
  :func:`shift_invert_spectrum` (several shifts) is what certifies "slowest"; the benchmark does not scan yet.
* ``--method slowest`` (``slowest_spectrum``'s own choice: the exact Kronecker-sum spectra when the system is
  uncoupled, else Davidson) with ``--qutip-S 3`` (the same method and QuTiP's dense spectrum at S = 3 in the same
  process). ``idle_wall_extrapolation_s`` is the process CPU time: on an idle machine the wall time would be at most
  that (the resolvent's two threads only shorten it); the wall time measured on the shared machine is reported too.
  S = 16, (1.5, 0) (second session of 2026-11-30, load average 8-9 on the 2 cores): four sectors of ~296 000,
  107.5 s wall, 23.7 s CPU, status ok, certificates "kronecker", worst residual 2.5e-13 (||L||_1 = 103); slowest
  of the sector (0, 1): -1.07e-4 (the tunnelling mode of the two stable fixed points). Same run, S = 3: ours 0.65 s
  CPU against QuTiP's dense spectrum 13.0 s CPU (20x), every value one of QuTiP's (6e-14), none of QuTiP's 15
  eigenvalues right of the cut missing.
  S = 16, (1.5, 0.45) (Davidson, basis 140, block 6, one start; same session, load average 9 falling to 2): NOT
  finished: stopped by hand at the session's end after 59 min wall, 1688 s user + 314 s system CPU (/usr/bin/time),
  peak RSS 3.8 GB, with no result: the 10-minute target is not met at the coupled point (the large system time
  points at page faults from the per-iteration (n, 2k) temporaries, 66 MB each at S = 16: preallocate them next). Where the time goes, measured at S = 8 (even sector, cProfile, 47.8 s wall): passes
  over the Davidson basis 28.6 s (Gram-Schmidt and V^T A V updates 16.6 s, Ritz vectors 12.0 s), resolvents 11.9 s,
  products 1.4 s; at S = 16 one pass over a 150-vector basis costs 0.13-0.20 s CPU against 0.23 s for a resolvent.
  S = 16, (0.5, 0.3) (a coupled point in the normal state), ``spectrum 16 --J 0.5 --lam 0.3 --method davidson``
  (third session of 2026-11-30, idle machine): **2 min 56 s wall** (/usr/bin/time: 239 s user + 34 s system CPU,
  peak RSS 3.6 GB; build 13 s), status "unverified" (converged, worst residual 8.7e-8 against ||L||_1 = 87.3; the
  strip Re z >= Re mu_6, |Im z| <= 75.5 not searched): **within the 10-minute target**. Even sector: 0,
  -0.60536 +- 32.10012i, -0.62633 +- 32.09690i, -0.63142, -0.73772 (74 iterations, 268 products, 359 resolvents);
  odd sector: -0.49375 +- 1.30958i, -0.50119 +- 0.41802i, -0.89473 +- 31.02095i (41 iterations). The same values
  move smoothly with S (odd sector, S = 8 / 10 / 16: -0.48615 +- 1.29116i / -0.48923 +- 1.29861i / -0.49375 +-
  1.30958i; -0.5049 +- 0.51584i / -0.5032 +- 0.48061i / -0.50119 +- 0.41802i; the fast-rotating pair's imaginary
  part grows like 2 S g: 15.05 / 19.04 / 31.02).
  S = 16, (1.5, 0.45), sectors in two forked processes (``processes=2``, the default since the third session of
  2026-11-30; idle machine): **converged, 20 min 13 s wall** (1608 s user + 208 s system CPU, peak RSS 3.6 GB),
  status "unverified" (no certificate at this size), every pair's residual below 1e-9 ||L||_1; measured by
  ``slowest_spectrum(LMG_DIMER_SYSTEM, 16, {"J": 1.5, "lam": 0.45}, k=6, dense_max=0, range_check=False)`` in a
  script (``--method davidson`` adds the numerical-range bound). Even sector: 0, -0.19156, -0.2373, -0.25063,
  -0.37657, -0.4086, -0.42304 (580 iterations, 2044 products, 2980 resolvents, 1199 s); odd sector: -0.07825,
  -0.1919, -0.3198 +- 1.86975i, -0.32638, -0.37714 (350 iterations, 1287 products, 1575 resolvents, 628 s). The
  10-minute target is still NOT met: the even sector alone takes 20 min. Per operation at S = 16 (one thread): a
  resolvent 0.21 s (complex shift; 0.115 s on two threads), a product 0.024 s, one pass over a 120-column basis
  0.12-0.16 s (3.6 GB/s: memory-bound, six passes per iteration), so the even sector splits into resolvents
  ~630 s, basis passes ~460 s, products ~50 s. The iteration counts grow with S (even sector 119 / 129 / 214 / 580
  iterations at S = 6 / 8 / 10 / 16): the uncoupled resolvent is a weaker preconditioner as S grows. Tried and
  rejected (same session, S = 8 and 10): Jacobi-Davidson corrections (8 preconditioned GMRES steps on the
  projected correction equation: a third of the iterations but 2.1x the products and 1.8x the resolvents, slower
  at S = 16 where resolvents dominate; only in the asymptotic phase, below a residual of 1e-2, with up to 30 steps
  to 1e-3: at S = 10 the even sector takes 64 iterations instead of 214 but the same resolvents, 1126 against
  1170, and 47 s against 50-52 s: the Ritz values are right to three digits after about 50 iterations and the rest
  is the slow linear convergence of a preconditioner whose quality falls with S, about 1000 resolvents per sector
  at S = 10 and 3000 at S = 16 whatever the outer method); a single-precision resolvent (1.3x faster per complex solve, but the
  iteration count moved by -1 % / +17 % in the two sectors at S = 10: no net gain); guard vectors (block 10,
  guard 4: 2x the products at S = 8); a basis of 220 (S = 10 even sector: 25 % fewer products and resolvents,
  5 % less time). At S = 10 the two processes take 75 s wall against 118 s one after the other.
* The alternating preconditioner (``slowest_spectrum(..., preconditioner="uncoupled+nojump")``, fourth session of
  2026-11-30; not the default: at (0.5, 0.3), S = 16 (``spectrum 16 --J 0.5 --lam 0.3 --method davidson
  --spectrum-preconditioner uncoupled+nojump``) it had not finished after 9 min, stopped by hand, against
  2 min 56 s with the uncoupled resolvent; the uncoupled resolvent, then the exact no-jump resolvent on the coupling residual
  ``-(L - L_unc) y`` it leaves; shifts pushed off the uncoupled poles). Idle machine, S = 16, (1.5, 0.45),
  ``slowest_spectrum(LMG_DIMER_SYSTEM, 16, {"J": 1.5, "lam": 0.45}, dense_max=0, range_check=False,
  preconditioner="uncoupled+nojump")`` in a script under ``/usr/bin/time``: **13 min 21 s wall** (1196 s user + 142 s system CPU, peak RSS 3.9 GB), status
  "unverified", converged. Even sector: the same seven values as the uncoupled run to 1e-7 (0, -0.19156, -0.2373,
  -0.25063, -0.37657, -0.4086, -0.42304) in 247 iterations, 1398 uncoupled and 1362 no-jump resolvents, 316 pushed
  shifts, 785 s; odd sector 209 iterations, 538 s, with -0.3447 +- 2.2542i as its sixth pair (see below). Against
  20 min 13 s with the uncoupled resolvent alone. With Olsen's correction only below 1e-3 outside the basis:
  **11 min 07 s** (even 286 iterations, 651 s; odd 173, 388 s; sixth odd value -0.37714), but that setting stalled
  at the normal-state point (0.5, 0.3), S = 10, even sector (not converged after 724 iterations, against 77 with
  Olsen below 0.1), so it is not the default. Intermediate versions, same point: the no-jump resolvent in double precision with the
  full product ``L y`` and Olsen below 0.1: 16 min 17 s (even 234 iterations, 963 s); single precision and the
  coupling-only product: 13 min 34 s (even 250 iterations, 800 s). Per operation at S = 16 (one thread): the no-jump
  resolvent 0.25 s in double, 0.13 s in single precision (relative difference 5e-5; S = 10: 90 against 91
  iterations), the uncoupled one 0.11 s at a real shift and 0.21 s at a complex one. What is left in the even
  sector is mostly the passes over the basis: about 1.3 s per iteration, about 60 % of its time. **Which slow modes
  are found depends on the path**: the final settings' and the 13 min 34 s run's odd sectors return -0.3447 +- 2.2542i as
  their sixth pair, right of the -0.37714 that the uncoupled run and the Olsen-below-1e-3 run return, i.e. those
  two missed it (one more reason the status is "unverified" at this size). A stalled pair without the pushed
  shift: S = 10, odd sector, a Ritz value 5e-4 from an uncoupled eigenvalue kept its residual at 5e-4 for 1000
  iterations (the uncoupled resolvent amplified one mode whatever the residual); with the push it converges (to a
  different value, -0.439191: the stalled -0.438593 was not an eigenvalue).
* Retried with the alternating preconditioner (fifth session of 2026-11-30, idle machine; none kept):
  the uncoupled resolvent in single precision (complex64 Sylvester solves: 0.048 / 0.093 s against 0.122 / 0.152 s
  per real / complex shift at S = 16, relative difference 3e-6): S = 10 44 s against 48 s, S = 12 103 s against
  114 s wall, but at S = 16, (1.5, 0.45) 14 min 51 s against 13 min 21 s (even sector 284 iterations against 247:
  the path moved more than the resolvents gained; odd 183 against 209) and at (0.5, 0.3) with the uncoupled
  resolvent 2 min 52 s against 2 min 56 s. Jacobi-Davidson corrections (4 projected GMRES steps preconditioned by
  the alternating step): S = 12 even / odd 52 / 41 iterations against 141 / 150 but 114 s against 101 s wall; with
  2 steps the odd sector at S = 10 lost -0.43919 (returned -0.46264 +- 2.22866i as 5th and 6th). Guard Ritz pairs
  (4, also to converge): S = 12 twice the iterations (230 s). A basis of 80: S = 12 141 s and the odd sector lost
  the pair -0.40889 +- 2.23863i; 200: 104 s against 114 s. Handing the cores of a finished sector's process to the
  one still running (two BLAS threads: basis passes 1.75x, the no-jump resolvent 1.5x faster at S = 16) would save
  an estimated 1 min at the cycle point, but OpenBLAS's rounding depends on its thread count: the eigenvalues
  then differed in the last bits between one and two processes at S = 3-4, i.e. they would depend on which sector
  finished first. Not kept: the sectors stay bit-for-bit reproducible.
* Session of 2026-11-30 evening (idle machine, ``slowest_spectrum(LMG_DIMER_SYSTEM, 16, params, dense_max=0,
  range_check=False, preconditioner=...)`` in a script under ``/usr/bin/time``, sectors in two processes):
  the passes over the Davidson basis are bound by flops, not memory (one core: 13-17 GFlop/s in ``V @ Y`` and
  ``V.T @ P`` at n = 593 000, m = 120, while a plain read of ``V`` runs at 29 GB/s), so (i) Ritz vectors come from real
  coefficient columns (one per real Ritz value, two per conjugate pair: half the columns of ``V [Re Y, Im Y]``) and
  (ii) the products with the basis, the sparse products and the no-jump resolvent's block pairs run on the sector's
  two threads by fixed row chunks (``_RowPasses``; the same rounding on one thread or two, so the sectors stay
  bit-for-bit reproducible; scipy's sparse kernels release the GIL: 1.65x on two threads). S = 12, cycle point, even
  sector alone: 92 s -> 90 s (i) -> 60 s (ii). S = 16, cycle point, unweighted alternating step: **9 min 15 s** and,
  in a second run after a harmless change of the output layout, 9 min 57 s (even sector 214 iterations, 582 s; odd
  181, 451 s; 1077 s user CPU), against 13 min 21 s. Cost per operation at S = 16 (two threads): the uncoupled
  resolvent 0.12 s (complex shift), the no-jump one 0.09 s, a product with L 0.022 s, with the coupling 0.013 s, with
  the recycling terms 0.005 s (1.9 entries per row).
  The unweighted step overshoots at the normal-state point: (0.5, 0.3), S = 12, 69 s (even sector 159 iterations)
  against 46 s with the uncoupled resolvent alone; S = 16 not finished after 6 min (stopped). Weighting the second
  step by the complex alpha minimising ``||r - (L - theta) y||`` (one product with the recycling terms): S = 12 44 s
  (70 iterations; the weights 0.6-0.95 there, 1.0-1.3 at the cycle point), S = 16 2 min 43 s, but the cycle point
  10 min 30 s and S = 10 41 s against 38 s. With alpha real and clipped to [0, 1] (kept, the default): S = 10, cycle
  point, 33 s (even / odd 93 / 77 iterations against 98 / 137 unweighted); S = 12, (0.5, 0.3), 42 s (77 / 26);
  S = 16, (0.5, 0.3), **2 min 30 s** (even 70 iterations, 133 s; odd 26, 69 s; 232 s user CPU), against 2 min 20 s with
  the uncoupled resolvent alone in the same session; S = 16, (1.5, 0.45), **10 min 36 s** (even 235 iterations, 620 s;
  odd 187, 460 s; 1133 s user + 36 s system CPU, peak RSS 3.4 GB; a second run of the final code 10 min 41 s with the
  same iterations), status "unverified", converged, the same seven
  even and six odd values as every earlier run (odd sixth: -0.34468 + 2.25421i). The 10-minute target at the cycle
  point is therefore missed by 6-7 % with the default; the unweighted step met it in one run and not in another
  (9:15 / 9:57; the first run's iteration counts were not recorded); total CPU is about twice the wall time, so only less work, not better packing of the two
  sectors on the cores, would meet it with a margin (the sectors' processes with one thread each instead of two:
  S = 12 92.8 s against 88.2 s, the same iterations). Survey at small S, one process (uncoupled / unweighted
  alternating, seconds): S = 8, (1.5, 0.45) 28.8 / 16.8; (0.5, 0.3) 15.2 / 8.5; (-1.5, 1.0) 188 not converged / 54;
  (1.5, 0.8) 242 not converged / 54; (1.0, 0.2) 5.4 / 5.7: the reason "auto" now takes the alternating step.
* Session of 2026-12-01 (idle machine, the same script under ``/usr/bin/time -v``): the basis passes were not bound
  by flops, as the entry above says, but by OpenBLAS's kernel for that product shape. Written transposed (``V Y``
  as ``(Y^T V^T)^T``, ``V^T P`` as ``(P^T V)^T``, ``X -= V C`` as ``X -= (C^T V^T)^T``: the same sums) they run
  1.5-2.5x faster (n = 593 000, 105 columns, one thread: ``V Y`` with 10 columns 0.063 s against 0.161 s, ``X -= V C``
  0.068 s against 0.161 s, ``V^T P`` 0.063 s against 0.091 s), and the sparse product took twice its time copying
  a column-major right-hand side to row-major in every row chunk (8 columns: 0.185 s against 0.092 s). S = 12, cycle
  point: the same iterations (132 / 109) and digits, 79 s against 91 s wall. S = 16, (1.5, 0.45): **8 min 07 s**
  (873 s user + 33 s system CPU, peak RSS 3.5 GB; even sector 195 iterations, 471 s; odd 188, 381 s; the same
  values as before), against 10 min 36 s; per iteration 2.42 / 2.03 s against 2.64 / 2.46 s. The even sector's
  path changed (195 iterations against 235: the transposed product rounds differently for two C-ordered columns):
  at 235 iterations the run would take about 9 min 45 s. S = 16, (0.5, 0.3): **2 min 03 s** (186 s user CPU; even
  61 iterations, odd 26, the odd sector's path unchanged: 2.24 s per iteration against 2.65 s), against 2 min 30 s.
  Through this benchmark (``spectrum 16 --J 1.5 --lam 0.45 --method davidson``): 8 min 19 s wall, 887 s user +
  37 s system CPU, the same iterations and values. ``steady 24 --J 1.5 --lam 0.45``: 3 min 32 s wall, 338 s CPU,
  status ok, 211 + 66 products, certified error 2.6e-10. ``spectrum 16 --J 0 --lam 0.3 --method propagator`` (the
  six slowest of each of the 129 U(1) sectors, Arnoldi on the propagator: the dominant modes whatever their
  imaginary part): 4 min 25 s wall, 263 s user CPU, peak RSS 0.8 GB, status ok, worst residual 2.2e-10; slowest of
  charge 1: -0.19643 + 1.00000i. ``--method slowest`` there is refused (ValueError: the U(1) sectors are not closed
  under X -> X^+, which the Hermitian basis needs). Strong coupling, S = 16, (1.5, 0.8), the default: not finished
  after 26 min wall (stopped by its timeout; no iteration counts: the sectors' processes were killed). At S = 8 that
  point took 54 s against the cycle point's 16.8 s (unweighted alternating step, one process), so the 10-minute
  target holds at (1.5, 0), (0, 0.3), (0.5, 0.3) and (1.5, 0.45), not at lam >= 0.8.
  A second Gram-Schmidt pass only below 1 % of a column's norm (instead of Kahan's 1/sqrt 2) was tried and
  rejected: classical Gram-Schmidt then multiplies the loss of orthogonality by 1 / ratio with every block, and at
  S = 12 the even sector's basis lost it completely (``info["orthogonality"]`` 1.0; not converged after 1050
  iterations). With Kahan's criterion 95-100 % of the columns take the second pass and the final bases are
  orthogonal to 3e-14 - 2e-13.
* ``--method davidson`` (first session of 2026-11-30, load average 9-16 on the 2 cores, one BLAS thread, two
  resolvent threads, code before the basis rework):
  S = 3, (1.5, 0.45), ``--qutip``: 3.1 s CPU against QuTiP's dense spectrum of the full Liouvillian 12.4 s CPU
  (ratio 4.0); every eigenvalue found is one of QuTiP's (largest distance 1.7e-8), residuals below 1e-9 ||L||_1;
  but both sectors certified "missed": the modes -0.600 +- 5.763i (even) and -0.642 +- 4.232i (odd) lie right of
  the 6th found (found after the restart fix: the first; the second, 0.34 from its uncoupled seed, not).
  S = 16, (1.5, 0.45) and (0.5, 0.3): sectors of 592 961 real unknowns, 15.6 M non-zeros; measured per operation
  (CPU): the build 17 s, a product 0.06 s, a resolvent 0.23 s (complex shift; two threads), peak memory 3.4 GB
  for the build. The whole runs did NOT finish within the session: (1.5, 0.45) was stopped by its 4500 s
  timeout (/usr/bin/time: 1:15:00 wall at 19 % CPU, 568 s user + 318 s system CPU, peak RSS 3.4 GB) without a
  result; (0.5, 0.3) was stopped after 4 min CPU. The 10-minute target is NOT met: 15 min of CPU did not
  finish the two sectors (the run used the code of commit 834cd12: keep 12 of 80 columns at a restart).
  Counts at small S (final code): S = 4 about 570 / 750 products and 470 / 510 resolvents per sector; S = 6
  about 840 / 1130 products and 580 / 730 resolvents: at S = 16 costs of 0.06 s and 0.23 s give roughly
  3-5 min CPU per sector if the counts grow like the steady state's Krylov counts (1.8x from S = 8 to 16).
* The steady state is the shift 0 of the same inverse: ``steady 16 --J 1.5 --lam 0.45 --preconditioner lindblad``
  before / after the refactoring, same run of the machine: identical results (Z_B 0.466561423889764, residual
  6.3e-14, certified error 1.6e-10, 152 + 42 products), CPU 37.1 s / 37.6 s.
* J != 0 (two Z2 sectors of 593 000 states at S = 16) by shift-invert: no run; one preconditioner application costs 1.07 s
  CPU and a product 0.10 s, and GMRES needs 73-79 products per solve at S = 8 (more at larger S), so 20-35
  Arnoldi solves per sector take hours: the 10-minute target is not met on this route.
"""
from __future__ import annotations

import argparse
import json
import sys
import time


def _steady(S, params, qutip: bool, preconditioner: str, workers="auto") -> dict:
    import numpy as np
    from threadpoolctl import threadpool_limits

    from bifurcate.quantum._blocks import BlockLiouvillian
    from bifurcate.quantum.steady import SteadyStateOptions, _validate, steady_state

    opts = SteadyStateOptions(n_threads=1, preconditioner=preconditioner, workers=workers)
    t, c = time.perf_counter(), time.process_time()
    r = steady_state(S, params, options=opts)
    ours, cpu = time.perf_counter() - t, time.process_time() - c
    st = r.stats
    out = {"status": r.status, "method": r.method, "time_ours_s": ours, "cpu_ours_s": cpu, "residual_ours": r.residual,
           "error_estimate": st.get("error_estimate"), "certificate": st.get("certificate"),
           "matvecs": st.get("matvecs"), "gap_matvecs": st.get("gap_matvecs"),
           "products_total": (st.get("matvecs") or 0) + (st.get("gap_matvecs") or 0),
           "time_setup_s": st.get("time_setup"), "time_solve_s": st.get("time_solve"),
           "time_validate_certify_s": st.get("time_validate"),
           "workers": (st.get("preconditioner") or {}).get("workers"),
           "preconditioner": st.get("preconditioner"), "n_unknowns": st.get("n_unknowns"),
           "ZB": r.ZB, "message": r.message}
    if qutip:
        import qutip as qt

        from bifurcate.quantum.lmg_dimer import qutip_model

        H, c_ops = qutip_model(S, params)
        with threadpool_limits(limits=1):
            t, c = time.perf_counter(), time.process_time()
            rho = qt.steadystate(H, c_ops).full()
            tq, cq = time.perf_counter() - t, time.process_time() - c
        B = BlockLiouvillian.build(S, r.params, "Z2")
        blocks = [rho[np.ix_(ix, ix)] for ix in B.index]
        ev = _validate(B, blocks, SteadyStateOptions(max_residual=1.0, positivity_tol=1.0, trace_tol=1.0))
        out.update(time_qutip_s=tq, cpu_qutip_s=cq, ratio_qutip_over_ours=tq / ours, residual_qutip=ev["residual"],
                   max_abs_rho_difference=float(np.abs(rho - r.rho).max()))
    return out


def _spectrum_run(S, params, method: str, k: int, shifts, direct_max, preconditioner: str = "auto") -> dict:
    """One spectrum computation, timed (wall and process CPU): ``"propagator"`` (``system_spectrum``, the
    slowest ``k`` per sector) or ``"shift-invert"`` (``shift_invert_spectrum``, the ``k`` of largest real
    part among those nearest the shifts, every sector, conjugate sectors once)."""
    from bifurcate.models.lmg_dimer import LMG_DIMER_SYSTEM
    from bifurcate.quantum import system_spectrum
    from bifurcate.quantum.spectrum import shift_invert_spectrum

    t, c = time.perf_counter(), time.process_time()
    if method in ("davidson", "slowest"):
        from bifurcate.quantum.spectrum import slowest_spectrum

        # "slowest": slowest_spectrum's own choice (the exact Kronecker-sum spectra of an uncoupled system, else
        # Davidson); "davidson": Davidson whatever the system
        r = slowest_spectrum(LMG_DIMER_SYSTEM, S, params, k=k, method="auto" if method == "slowest" else "davidson",
                             preconditioner=preconditioner)
        extra = {"residuals": {str(key): [float(x) for x in v] for key, v in r.residuals.items()},
                 "pair_status": {str(key): v for key, v in r.pair_status.items()},
                 "certificate": {str(key): v for key, v in r.certificate.items()},
                 "build_s": r.stats["build_s"], "norm1": r.stats["norm1"],
                 "work": {str(key): {f: (str(v.get(f)) if f == "ritz_next" else v.get(f))
                                     for f in ("size", "products", "solves", "iterations", "converged", "seconds",
                                               "ritz_next", "resolvents", "preconditioner")}
                          for key, v in r.stats["sectors"].items()},
                 "condition": {str(key): [float(x) for x in v["condition"]] for key, v in r.stats["sectors"].items()
                               if "condition" in v},
                 "checks": r.stats.get("checks"), "preconditioner": r.stats.get("preconditioner")}
    elif method == "propagator":
        r = system_spectrum(LMG_DIMER_SYSTEM, S, params, k=k, method="propagator")
        extra = {"products": {str(key): v for key, v in r.stats["products"].items()},
                 "residuals": {str(key): [float(x) for x in v] for key, v in r.stats["residuals"].items()}}
    else:
        r = shift_invert_spectrum(LMG_DIMER_SYSTEM, S, params, k=k, shifts=shifts, direct_max=direct_max)
        extra = {"residuals": {str(key): [float(x) for x in v] for key, v in r.residuals.items()},
                 "pair_status": {str(key): v for key, v in r.pair_status.items()},
                 "work": {str(key): {f: v.get(f) for f in ("size", "direct", "solves", "inner_products",
                                                            "inner_failures", "seconds", "mirror_of")}
                          for key, v in r.stats["sectors"].items()}}
    wall, cpu = time.perf_counter() - t, time.process_time() - c
    if method in ("davidson", "slowest") and r.stats.get("processes", 1) > 1:
        cpu += sum(v.get("cpu_s", 0.0) for v in r.stats["sectors"].values())  # the forked sectors' own CPU
    return {"method": method, "S": S, "k": k, "time_s": wall, "cpu_s": cpu, "status": r.status, "message": r.message,
            "sectors": {str(key): [[float(z.real), float(z.imag)] for z in v] for key, v in r.sectors.items()},
            **extra}


def _compare(a: dict, b: dict) -> dict:
    """Per sector, the largest distance from each eigenvalue of ``b`` to the nearest of ``a`` (both runs
    must hold the same eigenvalues for the comparison to mean anything; the steady state's 0 included)."""
    import numpy as np

    out = {}
    for key, vb in b["sectors"].items():
        va = np.array([complex(*z) for z in a["sectors"].get(key, [])])
        if len(va) == 0:
            continue
        zb = np.array([complex(*z) for z in vb])
        out[key] = float(max(np.min(np.abs(va - z)) for z in zb))
    return out


def _spectrum(S, params, method: str = "propagator", k: int = 6, shifts="auto", direct_max=None, ab_S=None,
              qutip: bool = False, qutip_S=None, preconditioner: str = "auto") -> dict:
    out = _spectrum_run(S, params, method, k, shifts, direct_max, preconditioner)
    # on a shared machine the wall time says little; the process CPU time bounds what an idle machine's wall
    # time would be (the resolvent's two threads can only make the wall time shorter than the CPU time)
    out["idle_wall_extrapolation_s"] = out["cpu_s"]
    if qutip_S is not None:
        # the same method and QuTiP's dense spectrum at a small S, in the same process (QuTiP cannot run at S)
        out["small"] = _spectrum(qutip_S, params, method, k, shifts, direct_max, qutip=True,
                                 preconditioner=preconditioner)
    if ab_S is not None:
        # A/B in the same run: both methods at ab_S, shift-invert first then the propagator
        ab = {"shift-invert": _spectrum_run(ab_S, params, "shift-invert", k, shifts, direct_max),
              "propagator": _spectrum_run(ab_S, params, "propagator", k, shifts, direct_max)}
        ab["max_distance_shift_invert_to_propagator"] = _compare(ab["propagator"], ab["shift-invert"])
        ab["ratio_cpu_propagator_over_shift_invert"] = ab["propagator"]["cpu_s"] / ab["shift-invert"]["cpu_s"]
        ab["ratio_wall_propagator_over_shift_invert"] = ab["propagator"]["time_s"] / ab["shift-invert"]["time_s"]
        out["ab"] = ab
    if qutip:
        # what a QuTiP user does at small S: the dense spectrum of the full Liouvillian (no sectors)
        import numpy as np
        import qutip as qt
        from threadpoolctl import threadpool_limits

        from bifurcate.quantum.lmg_dimer import qutip_model

        H, c_ops = qutip_model(S, params)
        with threadpool_limits(limits=1):
            t, c = time.perf_counter(), time.process_time()
            ev = qt.liouvillian(H, c_ops).eigenenergies()
            tq, cq = time.perf_counter() - t, time.process_time() - c
        allv = np.concatenate([[complex(*z) for z in v] for v in out["sectors"].values()])
        # an eigenvalue of QuTiP's right of every sector's k-th found one belongs to some sector and lies right of
        # that sector's k-th: it must have been found
        cut = max(min(complex(*z).real for z in v) for v in out["sectors"].values())
        right = ev[ev.real > cut + 1e-7]
        missing = [z for z in right if np.min(np.abs(allv - z)) > 1e-6 * (1 + abs(z))]
        out["qutip"] = {"time_s": tq, "cpu_s": cq, "ratio_cpu_qutip_over_ours": cq / out["cpu_s"],
                        "max_distance_ours_to_qutip": float(max(np.min(np.abs(ev - z)) for z in allv)),
                        "qutip_right_of_cut": int(len(right)), "qutip_missing_right_of_cut": len(missing),
                        "missing": [[float(z.real), float(z.imag)] for z in missing]}
    return out


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description="issue 16 speed benchmarks")
    ap.add_argument("what", choices=("steady", "spectrum"))
    ap.add_argument("S", type=float)
    ap.add_argument("--J", type=float, default=1.5)
    ap.add_argument("--lam", type=float, default=0.0)
    ap.add_argument("--qutip", action="store_true", help="also run qutip.steadystate in the same process")
    ap.add_argument("--preconditioner", default="auto", choices=("auto", "sylvester", "kron", "lindblad"))
    ap.add_argument("--workers", default="auto", help="threads of the 'lindblad' preconditioner ('auto': up to 2)")
    sp_ = ap.add_argument_group("spectrum")
    sp_.add_argument("--method", default="shift-invert",
                     choices=("shift-invert", "propagator", "davidson", "slowest"),
                     help="spectrum: the method timed at S")
    sp_.add_argument("--k", type=int, default=6, help="spectrum: eigenvalues per sector")
    sp_.add_argument("--shifts", default="auto",
                     help="spectrum: 'auto' or comma-separated complex shifts, e.g. 0.05,0.05+1.84j")
    sp_.add_argument("--direct-max", type=int, default=None, help="spectrum: largest sector solved by sparse LU")
    sp_.add_argument("--qutip-S", type=float, default=None,
                     help="spectrum: also run the method and QuTiP's dense spectrum at this (small) S, same process")
    sp_.add_argument("--spectrum-preconditioner", default="auto", choices=("auto", "uncoupled", "uncoupled+nojump"),
                     help="davidson / slowest: slowest_spectrum's preconditioner")
    sp_.add_argument("--ab-S", type=float, default=None,
                     help="spectrum: also run shift-invert and the propagator at this S in the same process (A/B)")
    a = ap.parse_args(argv)
    params = {"J": a.J, "lam": a.lam}
    t = time.perf_counter()
    if a.what == "steady":
        workers = a.workers if a.workers == "auto" else int(a.workers)
        c = time.process_time()
        out = _steady(a.S, params, a.qutip, a.preconditioner, workers)
        out = {"what": a.what, "S": a.S, **params, **out, "wall_time_s": time.perf_counter() - t,
               "cpu_time_s": time.process_time() - c}
        # the headline first (stderr), the full record as one JSON line (stdout)
        print(f"steady S={a.S:g} J={a.J:g} lam={a.lam:g}: status {out['status']}, wall {out['wall_time_s']:.1f} s, "
              f"CPU {out['cpu_time_s']:.1f} s, products {out['matvecs']} + {out['gap_matvecs']} (certificate), "
              f"residual {out['residual_ours']:.1e}, certified error {out['error_estimate']:.1e}", file=sys.stderr)
        print(json.dumps(out, default=str))
        return out
    else:
        shifts = a.shifts if a.shifts == "auto" else tuple(complex(x) for x in a.shifts.split(","))
        out = _spectrum(a.S, params, a.method, a.k, shifts, a.direct_max, a.ab_S, a.qutip, a.qutip_S,
                        preconditioner=a.spectrum_preconditioner)
    out = {"what": a.what, "S": a.S, **params, **out, "wall_time_s": time.perf_counter() - t}
    print(json.dumps(out, default=str))
    return out


if __name__ == "__main__":
    main()
