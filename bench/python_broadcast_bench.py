#!/usr/bin/env python3
"""Python twin of PoolBench's broadcast section (issue 14, Pool.share), which ../shared/bench/python_pool_bench.py lacks.

    python3 bench/python_broadcast_bench.py [--quick]

broadcast: one 200 MiB bytes value (byte i = i % 256) read by 100 tasks, W = 2 workers, spawn; task i counts
the bytes equal to 7 in its 1/100th of the value (bytes.count, C speed), so the tasks' whole compute is one
pass over the value. Python has no broadcast: the two ways it is done are measured.
  - arg:  pool.map(task, [(value, i) for i in range(100)]) with the default chunk size (13): each chunk
          pickles the value once (pickle memoizes it within a chunk), so it crosses 8 times;
  - init: Pool(initializer=keep, initargs=(value,)) then pool.map(task, range(100)): spawn pickles the
          initargs once per worker, so it crosses W times (the closest Python comes to "once").
The pool is created and warmed before the clock starts for 'arg'; for 'init' the clock includes creating the
pool, since that is where the value travels. Also measured in-process: the 100 tasks in a loop (compute) and
one copy of the value (memoryview.tobytes): ratio = pool seconds / (compute + copy), the issue's target
being <= 1.5. Median of 3 (1 with --quick). Output as the shared peer: name<TAB>value<TAB>unit; '#' lines
are comments. bench/compare.py runs this beside the shared script.
"""

import multiprocessing as mp
import sys
import time

W = 2
SIZE = 200 << 20
TASKS = 100
SLICE = SIZE // TASKS

_value = None


def make_value():
    return bytes(range(256)) * (SIZE // 256)


def count_sevens(value, i):
    return value.count(7, i * SLICE, (i + 1) * SLICE)


def task_arg(pair):
    value, i = pair
    return count_sevens(value, i)


def keep(value):
    global _value
    _value = value


def task_init(i):
    return count_sevens(_value, i)


def emit(name, value, unit):
    print(f"{name}\t{value:.6g}\t{unit}" if isinstance(value, float) else f"{name}\t{value}\t{unit}", flush=True)


def median(xs):
    xs = sorted(xs)
    return xs[len(xs) // 2]


def main():
    quick = "--quick" in sys.argv
    reps = 1 if quick else 3
    ctx = mp.get_context("spawn")
    value = make_value()
    expected = TASKS * (SLICE // 256)
    print(f"# broadcast: a {SIZE} B value read by {TASKS} tasks (each counts 7s in 1/{TASKS} of it), W={W}, "
          f"spawn, median of {reps}", flush=True)

    computes, copies = [], []
    for _ in range(max(reps, 3)):
        t0 = time.perf_counter()
        total = sum(count_sevens(value, i) for i in range(TASKS))
        computes.append(time.perf_counter() - t0)
        assert total == expected, "check failed: in-process"
        t0 = time.perf_counter()
        copy = memoryview(value).tobytes()
        copies.append(time.perf_counter() - t0)
        del copy
    compute, copy_s = median(computes), median(copies)
    emit("broadcast.compute_seconds", compute, "s")
    emit("broadcast.copy_seconds", copy_s, "s")

    times = []
    with ctx.Pool(W) as pool:
        pool.map(abs, range(4 * W), 1)  # warm: both workers started
        for _ in range(reps):
            t0 = time.perf_counter()
            out = pool.map(task_arg, [(value, i) for i in range(TASKS)])
            times.append(time.perf_counter() - t0)
            assert sum(out) == expected, "check failed: arg"
    arg = median(times)
    emit("broadcast.pool.arg.seconds", arg, "s")
    emit("broadcast.pool.arg.ratio", arg / (compute + copy_s), "x")
    print(f"#   pool arg samples s: {times}", flush=True)

    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        with ctx.Pool(W, initializer=keep, initargs=(value,)) as pool:
            out = pool.map(task_init, range(TASKS))
            times.append(time.perf_counter() - t0)
        assert sum(out) == expected, "check failed: init"
    init = median(times)
    emit("broadcast.pool.init.seconds", init, "s")
    emit("broadcast.pool.init.ratio", init / (compute + copy_s), "x")
    print(f"#   pool init samples s (pool start included): {times}", flush=True)


if __name__ == "__main__":
    main()
