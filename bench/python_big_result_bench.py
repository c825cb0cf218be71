#!/usr/bin/env python3
"""Python twin of PoolBench's big_result section (issue 14), which ../shared/bench/python_pool_bench.py lacks.

    python3 bench/python_big_result_bench.py [--quick]

big_result: one task returns one 300 MiB bytes object (make_big(n) = b"\\x07" * n), W = 2 workers,
spawn, the pool created and warmed (one small apply) before the clock starts; median of 3 calls
(1 with --quick). Each implementation runs in a fresh interpreter (a child of this one), so that
parent_peak_rss_mib is the VmHWM of a process that did nothing else. Output as the shared peer:
name<TAB>value<TAB>unit, '#' lines are comments. bench/compare.py runs this beside the shared script.
"""

import multiprocessing as mp
import os
import subprocess
import sys
import time
from concurrent.futures import ProcessPoolExecutor

W = 2
SIZE = 300 << 20


def make_big(n):
    return b"\x07" * n


def peak_rss_mib():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024.0
    return float("nan")


def emit(name, value, unit):
    print(f"{name}\t{value:.6g}\t{unit}" if isinstance(value, float) else f"{name}\t{value}\t{unit}", flush=True)


def child(impl, reps):
    ctx = mp.get_context("spawn")
    before = peak_rss_mib()
    times = []
    if impl == "pool":
        with ctx.Pool(W) as pool:
            pool.apply(make_big, (10,))
            for _ in range(reps):
                t0 = time.perf_counter()
                res = pool.apply(make_big, (SIZE,))
                times.append(time.perf_counter() - t0)
                assert len(res) == SIZE and res[-1] == 7, "check failed: big result"
                del res
    else:
        with ProcessPoolExecutor(W, mp_context=ctx) as ex:
            ex.submit(make_big, 10).result()
            for _ in range(reps):
                t0 = time.perf_counter()
                res = ex.submit(make_big, SIZE).result()
                times.append(time.perf_counter() - t0)
                assert len(res) == SIZE and res[-1] == 7, "check failed: big result"
                del res
    times.sort()
    print(f"@result\t{times[len(times) // 2]}\t{before}\t{peak_rss_mib()}\t{times}", flush=True)


def main():
    quick = "--quick" in sys.argv
    if "--child" in sys.argv:
        impl = sys.argv[sys.argv.index("--child") + 1]
        return child(impl, int(sys.argv[sys.argv.index("--reps") + 1]))
    reps = 1 if quick else 3
    print(f"# big_result: one {SIZE} B bytes result per call, W={W}, spawn, median of {reps}, "
          f"each implementation in a fresh interpreter (peak RSS = its VmHWM)", flush=True)
    for impl in ("pool", "ppe"):
        r = subprocess.run([sys.executable, os.path.abspath(__file__), "--child", impl, "--reps", str(reps)],
                           capture_output=True, text=True, timeout=600)
        line = next((ln for ln in r.stdout.splitlines() if ln.startswith("@result")), None)
        if line is None:
            emit(f"big_result.{impl}.seconds", "error", "s")
            print("# " + r.stderr[-500:].replace("\n", "\n# "), flush=True)
            continue
        _, med, before, peak, samples = line.split("\t")
        emit(f"big_result.{impl}.seconds", float(med), "s")
        emit(f"big_result.{impl}.mib_per_s", SIZE / (1 << 20) / float(med), "MiB/s")
        emit(f"big_result.{impl}.parent_peak_rss_mib", float(peak), "MiB")
        emit(f"big_result.{impl}.parent_rss_before_mib", float(before), "MiB")
        print(f"#   {impl} samples s: {samples}", flush=True)


if __name__ == "__main__":
    main()
