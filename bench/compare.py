#!/usr/bin/env python3
"""Run the Python peer benchmark and procpool's Java twin, print one comparison table.

    bench/compare.py [--quick] [--only startup,tiny_map,...]

Builds the examples module (a reactor build from the repo root; never `mvn install`), runs
../shared/bench/python_pool_bench.py (multiprocessing.Pool and ProcessPoolExecutor) and
dev.procpool.examples.bench.PoolBench (procpool in process and thread mode) one after the other with
the same options, keeps both raw outputs (name<TAB>value<TAB>unit) in target/bench/<time>/ and prints a
Markdown table: workload | Python Pool | Python PPE | procpool | procpool threads | procpool/Pool |
better | target (issue 7).  Ratios below 1 are good where lower is better, above 1 where higher is.

Other options: --java-opts "..." (JVM options of the benchmark JVM and its child JVMs),
--worker-jvm-options "..." (options for every worker JVM), --python-tsv FILE / --java-tsv FILE
(take that side from an earlier run instead of running it), --skip-build, --python-bench PATH.
"""

import argparse
import datetime
import os
import platform
import shlex
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_PY_BENCH = os.path.normpath(os.path.join(ROOT, "..", "shared", "bench", "python_pool_bench.py"))
# workloads the shared peer lacks, with their Python twins in this repository: section -> script
EXTRA_PY_BENCHES = {"big_result": os.path.join(ROOT, "bench", "python_big_result_bench.py"),
                    "broadcast": os.path.join(ROOT, "bench", "python_broadcast_bench.py")}
# Java-only sections whose rows sit beside another Python section's: section -> the Python section to run
PY_BESIDE = {"spares": "startup"}
MAIN_CLASS = "dev.procpool.examples.bench.PoolBench"


def log(msg):
    print(f"[compare] {msg}", file=sys.stderr, flush=True)


def sh(cmd, **kw):
    return subprocess.run(cmd, text=True, capture_output=True, **kw)


# ------------------------------------------------------------------------------------ machine
def machine_info():
    lines = []
    now = datetime.datetime.now().astimezone()
    lines.append(f"date: {now.strftime('%Y-%m-%d %H:%M:%S %Z')}")
    cpu = "?"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    nproc = sh(["nproc"]).stdout.strip() or str(os.cpu_count())
    mem = "?"
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemTotal:"):
                    mem = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    except OSError:
        pass
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    lines.append(f"machine: nproc={nproc}, CPU {cpu}, RAM {mem}, {platform.system()} {platform.release()}, "
                 f"load average at start {load}")
    jv = sh(["java", "-version"]).stderr.strip().splitlines()
    lines.append("java: " + " | ".join(jv))
    lines.append(f"python: {platform.python_implementation()} {platform.python_version()} ({sys.executable})")
    rev = sh(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"]).stdout.strip()
    branch = sh(["git", "-C", ROOT, "rev-parse", "--abbrev-ref", "HEAD"]).stdout.strip()
    dirty = " (uncommitted changes)" if sh(["git", "-C", ROOT, "status", "--porcelain", "--untracked-files=no"]).stdout.strip() else ""
    lines.append(f"procpool: {branch} @ {rev}{dirty}")
    return lines


# ------------------------------------------------------------------------------------ build/run
def build():
    cmd = ["mvn", "-q", "-B", "-o", "-DskipTests", "-pl", "examples", "-am", "package",
           "dependency:build-classpath", "-Dmdep.outputFile=target/bench.classpath"]
    log("building: " + " ".join(cmd))
    r = sh(cmd, cwd=ROOT)
    if r.returncode != 0:
        cmd.remove("-o")
        log("offline build failed, retrying online: " + " ".join(cmd))
        r = sh(cmd, cwd=ROOT)
        if r.returncode != 0:
            sys.exit("build failed:\n" + r.stdout[-3000:] + r.stderr[-3000:])


def java_classpath():
    with open(os.path.join(ROOT, "examples", "target", "bench.classpath")) as f:
        deps = f.read().strip()
    # the examples jar, not target/classes: workers get this class path, and procpool's class-data-sharing
    # archive for workers only covers jars
    import glob
    jars = [j for j in glob.glob(os.path.join(ROOT, "examples", "target", "procpool-examples*.jar"))
            if not j.endswith(("-sources.jar", "-javadoc.jar", "-tests.jar"))]
    if not jars:
        sys.exit("no examples jar in examples/target")
    return max(jars, key=os.path.getmtime) + os.pathsep + deps  # the one just built (the name may change)


def run(cmd, out_path, err_path, label):
    log(f"running {label}: " + " ".join(shlex.quote(c) for c in cmd))
    t0 = datetime.datetime.now()
    with open(out_path, "w") as out, open(err_path, "w") as err:
        rc = subprocess.call(cmd, stdout=out, stderr=err, cwd=ROOT)
    log(f"{label} finished rc={rc} in {(datetime.datetime.now() - t0).total_seconds():.0f} s -> {out_path}")
    if rc != 0:
        with open(err_path) as f:
            log(f"{label} stderr tail:\n" + f.read()[-2000:])
    return rc


def parse(path):
    vals = {}
    if not path or not os.path.exists(path):
        return vals
    with open(path) as f:
        for line in f:
            if line.startswith("#") or "\t" not in line:
                continue
            parts = line.rstrip("\n").split("\t")
            if len(parts) >= 3:
                vals[parts[0]] = parts[1]
    return vals


# ------------------------------------------------------------------------------------ table
def num(v):
    try:
        return float(v)
    except (TypeError, ValueError):
        return None


def fmt(v):
    x = num(v)
    if x is None:
        return "–" if v is None else str(v)
    a = abs(x)
    if a >= 100_000:
        return f"{x:,.0f}"
    if a >= 100:
        return f"{x:.0f}"
    if a >= 10:
        return f"{x:.1f}"
    if a >= 1:
        return f"{x:.2f}"
    return f"{x:.3g}"


# (label, unit, better, python Pool key, python PPE key, procpool key, threads key, target)
# target: ("ratio", op, value) compares procpool/Pool; ("abs", op, value) compares procpool itself.
ROWS = [
    ("startup: first result (Py spawn)", "ms", "lower",
     "startup.pool.spawn.first_result", "startup.ppe.spawn.first_result",
     "startup.procpool.first_result", "startup.procpool_threads.first_result", None),
    ("startup: all workers ready (Py spawn)", "ms", "lower",
     "startup.pool.spawn.all_workers_ready", "startup.ppe.spawn.all_workers_ready",
     "startup.procpool.all_workers_ready", "startup.procpool_threads.all_workers_ready", ("ratio", "<=", 0.9)),
    ("startup: all workers ready (Py fork)", "ms", "lower",
     "startup.pool.fork.all_workers_ready", "startup.ppe.fork.all_workers_ready",
     "startup.procpool.all_workers_ready", "startup.procpool_threads.all_workers_ready", None),
    ("startup: ready+close+join (Py spawn)", "ms", "lower",
     "startup.pool.spawn.ready_close_join", "startup.ppe.spawn.ready_close_join",
     "startup.procpool.ready_close_join", "startup.procpool_threads.ready_close_join", None),
    ("startup: floor, 2 bare JVMs at once (Kryo + 1 frame)", "ms", "lower",
     "startup.pool.spawn.all_workers_ready", None, "startup.floor.bare", None, None),
    ("startup: floor, 2 JVMs at once, AppCDS + flags", "ms", "lower",
     "startup.pool.spawn.all_workers_ready", None, "startup.floor.appcds_flags", None, None),
    ("startup: create+close+join (Py spawn)", "ms", "lower",
     "startup.pool.spawn.create_close_join", None,
     "startup.procpool.create_close_join", "startup.procpool_threads.create_close_join", None),
    ("spares: second pool, all workers ready (Py fork)", "ms", "lower",
     "startup.pool.fork.all_workers_ready", "startup.ppe.fork.all_workers_ready",
     "spares.procpool.second_pool_ready", None, ("abs", "<=", 5)),
    ("spares: second pool, first in a fresh JVM (Py fork)", "ms", "lower",
     "startup.pool.fork.all_workers_ready", "startup.ppe.fork.all_workers_ready",
     "spares.procpool.second_pool_ready_first", None, ("abs", "<=", 5)),
    ("spares: second pool, W ready in stats() (no task yet; Py fork)", "ms", "lower",
     "startup.pool.fork.all_workers_ready", "startup.ppe.fork.all_workers_ready",
     "spares.procpool.second_pool_handshake", None, None),
    ("spares off: second pool, all workers ready (Py spawn)", "ms", "lower",
     "startup.pool.spawn.all_workers_ready", "startup.ppe.spawn.all_workers_ready",
     "spares.procpool_nospares.second_pool_ready", None, None),
    ("spares: back to W ready after a worker's kill -9", "ms", "lower", None, None,
     "spares.procpool.crash_back_to_ready", None, ("abs", "<=", 20)),
    ("spares off: back to W ready after a worker's kill -9", "ms", "lower", None, None,
     "spares.procpool_nospares.crash_back_to_ready", None, None),
    ("spares: back to W ready after a worker's recycling (result returned)", "ms", "lower", None, None,
     "spares.procpool.recycle_back_to_ready", None, ("abs", "<=", 20)),
    ("spares off: back to W ready after a worker's recycling", "ms", "lower", None, None,
     "spares.procpool_nospares.recycle_back_to_ready", None, None),
    ("spares: RSS of one idle spare JVM", "MiB", "lower", None, None, "spares.procpool.rss_per_spare_mib", None, None),
    ("spares: RSS of one ready worker (after a small map)", "MiB", "lower", None, None,
     "spares.procpool.rss_per_worker_mib", None, None),
    ("tiny_map: default chunks", "tasks/s", "higher",
     "tiny_map.pool.chunk_default.tasks_per_s", "tiny_map.ppe.chunk_default.tasks_per_s",
     "tiny_map.procpool.chunk_default.tasks_per_s", "tiny_map.procpool_threads.chunk_default.tasks_per_s",
     ("ratio", ">=", 3)),
    ("tiny_map: chunk 1", "tasks/s", "higher",
     "tiny_map.pool.chunk1.tasks_per_s", "tiny_map.ppe.chunk1.tasks_per_s",
     "tiny_map.procpool.chunk1.tasks_per_s", "tiny_map.procpool_threads.chunk1.tasks_per_s", ("ratio", ">=", 4)),
    ("tiny_map: in-process, no pool", "tasks/s", "higher",
     "tiny_map.inprocess.tasks_per_s", None, "tiny_map.inprocess.tasks_per_s", None, None),
    ("apply latency: median", "µs", "lower",
     "apply_latency.pool.median_us", "apply_latency.ppe.median_us",
     "apply_latency.procpool.median_us", "apply_latency.procpool_threads.median_us", ("ratio", "<=", 1 / 3)),
    ("apply latency: p99", "µs", "lower",
     "apply_latency.pool.p99_us", "apply_latency.ppe.p99_us",
     "apply_latency.procpool.p99_us", "apply_latency.procpool_threads.p99_us", None),
    ("cpu_bound: sequential, no pool", "s", "lower",
     "cpu_bound.sequential.seconds", None, "cpu_bound.sequential.seconds", None, None),
    ("cpu_bound: pool seconds", "s", "lower",
     "cpu_bound.pool.seconds", "cpu_bound.ppe.seconds",
     "cpu_bound.procpool.seconds", "cpu_bound.procpool_threads.seconds", None),
    ("cpu_bound: speedup", "×", "higher",
     "cpu_bound.pool.speedup", "cpu_bound.ppe.speedup",
     "cpu_bound.procpool.speedup", "cpu_bound.procpool_threads.speedup", ("abs", ">=", 1.9)),
    ("cpu_bound_heavy: speedup (Py: cpu_bound)", "×", "higher",
     "cpu_bound.pool.speedup", "cpu_bound.ppe.speedup",
     "cpu_bound_heavy.procpool.speedup", "cpu_bound_heavy.procpool_threads.speedup", ("abs", ">=", 1.9)),
    ("cpu_bound_heavy: pool seconds (Py: cpu_bound)", "s", "lower",
     "cpu_bound.pool.seconds", "cpu_bound.ppe.seconds",
     "cpu_bound_heavy.procpool.seconds", "cpu_bound_heavy.procpool_threads.seconds", None),
    ("bytes: 1 MiB items", "MiB/s", "higher",
     "bytes.pool.1MiB.mib_per_s", "bytes.ppe.1MiB.mib_per_s",
     "bytes.procpool.1MiB.mib_per_s", "bytes.procpool_threads.1MiB.mib_per_s", ("ratio", ">=", 2)),
    ("bytes: 64 KiB items", "MiB/s", "higher",
     "bytes.pool.64KiB.mib_per_s", "bytes.ppe.64KiB.mib_per_s",
     "bytes.procpool.64KiB.mib_per_s", "bytes.procpool_threads.64KiB.mib_per_s", None),
    ("big_result: one 300 MiB byte[] result", "s", "lower",
     "big_result.pool.seconds", "big_result.ppe.seconds",
     "big_result.procpool.seconds", "big_result.procpool_threads.seconds", ("ratio", "<=", 0.1)),
    ("big_result: caller peak RSS", "MiB", "lower",
     "big_result.pool.parent_peak_rss_mib", "big_result.ppe.parent_peak_rss_mib",
     "big_result.procpool.parent_peak_rss_mib", "big_result.procpool_threads.parent_peak_rss_mib", None),
    ("broadcast: 200 MiB array used by 100 tasks (Py: as argument)", "s", "lower",
     "broadcast.pool.arg.seconds", None,
     "broadcast.procpool.seconds", "broadcast.procpool_threads.seconds", None),
    ("broadcast: same (Py: initializer, pool start included)", "s", "lower",
     "broadcast.pool.init.seconds", None,
     "broadcast.procpool.seconds", "broadcast.procpool_threads.seconds", None),
    ("broadcast: seconds / (compute + one copy) (Py: as argument)", "×", "lower",
     "broadcast.pool.arg.ratio", None,
     "broadcast.procpool.ratio", "broadcast.procpool_threads.ratio", ("abs", "<=", 1.5)),
    ("imap: tasks/s", "tasks/s", "higher",
     "imap.pool_imap.tasks_per_s", None, "imap.procpool.imap.tasks_per_s", "imap.procpool_threads.imap.tasks_per_s",
     None),
    ("imap: parent growth", "MiB", "lower",
     "imap.pool_imap.parent_growth_mib", None,
     "imap.procpool.imap.parent_growth_mib", "imap.procpool_threads.imap.parent_growth_mib", None),
    ("imap paused consumer: parent growth", "MiB", "lower",
     "imap.pool_imap_paused_consumer.parent_growth_mib", None,
     "imap.procpool.imap_paused_consumer.parent_growth_mib",
     "imap.procpool_threads.imap_paused_consumer.parent_growth_mib", ("abs", "<=", 8)),
    ("imap paused consumer: heap retained (after full GC)", "MiB", "lower",
     None, None, "imap.procpool.imap_paused_retained.retained_mib",
     "imap.procpool_threads.imap_paused_retained.retained_mib", None),
    ("imap paused consumer: parent peak RSS", "MiB", "lower",
     "imap.pool_imap_paused_consumer.parent_peak_rss_mib", None,
     "imap.procpool.imap_paused_consumer.parent_peak_rss_mib",
     "imap.procpool_threads.imap_paused_consumer.parent_peak_rss_mib", None),
    ("imap input via map: tasks/s", "tasks/s", "higher",
     "imap.pool_map.tasks_per_s", "imap.ppe_map.tasks_per_s",
     "imap.procpool.map.tasks_per_s", "imap.procpool_threads.map.tasks_per_s", None),
    ("imap input via map: parent growth", "MiB", "lower",
     "imap.pool_map.parent_growth_mib", "imap.ppe_map.parent_growth_mib",
     "imap.procpool.map.parent_growth_mib", "imap.procpool_threads.map.parent_growth_mib", None),
    ("imap in-process, no pool: peak RSS", "MiB", "lower",
     "imap.inprocess.parent_peak_rss_mib", None, "imap.inprocess.parent_peak_rss_mib", None, None),
]

# (label, python Pool case, python PPE case, procpool case, threads case)
CRASH_ROWS = [
    ("f(3) exits: os._exit(1) / Runtime.halt(1)", "pool_map.os_exit", "ppe_map.os_exit",
     "procpool.map.halt", "procpool_threads.map.halt"),
    ("f(3) exits: os._exit(1) / System.exit(1)", "pool_map.os_exit", "ppe_map.os_exit",
     "procpool.map.system_exit", "procpool_threads.map.system_exit"),
    ("f(3) kills itself with SIGKILL", "pool_map.sigkill", "ppe_map.sigkill",
     "procpool.map.sigkill", "procpool_threads.map.sigkill"),
    ("f(3) raises", "pool_map.raise", "ppe_map.raise", "procpool.map.raise", "procpool_threads.map.raise"),
    ("map_async(...).get(timeout), f(3) exits", "pool_map_async_get_timeout.os_exit", None,
     "procpool.map_async_get_timeout.halt", None),
]


def ratio(p, j):
    a, b = num(p), num(j)
    if a is None or b is None or a == 0:
        return None
    return b / a


def target_text(t):
    if t is None:
        return ""
    kind, op, v = t
    vs = f"{v:.2f}".rstrip("0").rstrip(".") if v != 1 / 3 else "1/3"
    return (f"ratio {op} {vs}" if kind == "ratio" else f"procpool {op} {vs}")


def meets(t, r, j):
    if t is None:
        return ""
    kind, op, v = t
    x = r if kind == "ratio" else num(j)
    if x is None:
        return ""
    ok = x <= v if op == "<=" else x >= v
    return " ✓" if ok else " ✗"


def crash_cell(vals, prefix):
    if prefix is None:
        return "–"
    base = "crash." + prefix
    outcome = vals.get(base + ".outcome")
    if outcome is None:
        return "–"
    o = outcome
    if o.startswith("raised "):
        o = "raises " + o[len("raised "):].rsplit(".", 1)[-1]
    elif o.startswith("hang"):
        o = "HANGS (killed)"
    elif o.startswith("child"):
        o = o.replace("child JVM died", "caller's process dies").replace("child died", "caller's process dies")
    parts = [o]
    el = num(vals.get(base + ".elapsed_s"))
    if el is not None:
        parts.append(f"after {el:.2f} s")
    if vals.get(base + ".remote_traceback_visible") == "true":
        parts.append("remote trace")
    u = vals.get(base + ".usable_after")
    if u is not None:
        parts.append("usable after" if u == "true" else "NOT usable after")
    orph = vals.get(base + ".orphans_after_parent_exit")
    if orph not in (None, "0"):
        parts.append(f"{orph} ORPHANS")
    return ", ".join(parts)


# procpool's start against the floor measured in the same run (issue 15: within 1.3x of it)
FLOOR_TARGET = 1.3


def floor_lines(jv):
    ready = num(jv.get("startup.procpool.all_workers_ready"))
    if ready is None:
        return []
    lines = []
    for key, what in (("startup.floor.appcds_flags", "2 JVMs at once with an AppCDS archive + start-up flags"),
                      ("startup.floor.bare", "2 bare JVMs at once")):
        f = num(jv.get(key))
        if f:
            r = ready / f
            mark = (" ✓" if r <= FLOOR_TARGET else " ✗") if key.endswith("appcds_flags") else ""
            lines.append(f"Floor ({what}, each loading Kryo and answering one frame, same run): {fmt(f)} ms; "
                         f"procpool all workers ready {fmt(ready)} ms = {r:.2f}× the floor"
                         + (f" (target <= {FLOOR_TARGET}×{mark})" if mark else "") + ".")
    return lines


def table(py, jv):
    out = []
    out.append("| workload | unit | Python Pool | Python PPE | procpool | procpool threads | procpool/Pool | better | target (issues 7, 14, 15) |")
    out.append("|---|---|---:|---:|---:|---:|---:|---|---|")
    for label, unit, better, kp, ke, kj, kt, tgt in ROWS:
        p = py.get(kp) if kp else None
        e = py.get(ke) if ke else None
        j = jv.get(kj) if kj else None
        t = jv.get(kt) if kt else None
        if p is None and j is None:
            continue
        r = ratio(p, j)
        rs = "–" if r is None else f"{r:.2f}×"
        out.append(f"| {label} | {unit} | {fmt(p)} | {fmt(e)} | {fmt(j)} | {fmt(t)} | {rs} | {better} | "
                   f"{target_text(tgt)}{meets(tgt, r, j)} |")
    crash = [r for r in CRASH_ROWS if any(("crash." + c + ".outcome") in d
                                           for c, d in ((r[1], py), (r[2], py), (r[3], jv), (r[4], jv)) if c)]
    if crash:
        out.append("")
        out.append("Crash behaviour: map(f, range(16), chunksize=1), f(3) dies; orphans = workers alive after the "
                   "caller's process is gone.")
        out.append("")
        out.append("| case | Python Pool | Python PPE | procpool | procpool threads |")
        out.append("|---|---|---|---|---|")
        for label, cp, ce, cj, ct in crash:
            out.append(f"| {label} | {crash_cell(py, cp)} | {crash_cell(py, ce)} | {crash_cell(jv, cj)} | "
                       f"{crash_cell(jv, ct)} |")
    floor = floor_lines(jv)
    if floor:
        out.append("")
        out.extend(floor)
    strict = [(k, jv[f"startup.{k}.strict_barrier"]) for k in ("procpool", "procpool_threads")
              if f"startup.{k}.strict_barrier" in jv]
    if strict:
        out.append("")
        out.append("Strict W-party barrier (W tasks submitted right after the pool is built, each waits for the "
                   "others): Python Pool and PPE: released (each worker takes one task at a time); "
                   + "; ".join(f"{k}: {v}" for k, v in strict) + ".")
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="small sizes on both sides")
    ap.add_argument("--only", default="", help="comma list of sections (same names on both sides)")
    ap.add_argument("--java-opts", default="", help="JVM options for the benchmark JVM (and its child JVMs)")
    ap.add_argument("--worker-jvm-options", default="", help="JVM options for every worker JVM")
    ap.add_argument("--python-bench", default=DEFAULT_PY_BENCH)
    ap.add_argument("--python-tsv", help="use this earlier Python output instead of running it")
    ap.add_argument("--java-tsv", help="use this earlier Java output instead of running it")
    ap.add_argument("--skip-build", action="store_true")
    ap.add_argument("--out", help="directory for raw outputs (default target/bench/<time>)")
    a = ap.parse_args()

    header = machine_info()
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    out_dir = a.out or os.path.join(ROOT, "target", "bench", stamp + ("-quick" if a.quick else ""))
    os.makedirs(out_dir, exist_ok=True)
    common = (["--quick"] if a.quick else []) + (["--only", a.only] if a.only else [])
    commands = []

    py_tsv = a.python_tsv
    if not py_tsv:
        py_tsv = os.path.join(out_dir, "python.tsv")
        only = [s for s in a.only.split(",") if s]
        shared_only = list(dict.fromkeys(PY_BESIDE.get(s, s) for s in only if s not in EXTRA_PY_BENCHES))
        if not only or shared_only:
            cmd = [sys.executable, a.python_bench] + (["--quick"] if a.quick else []) \
                + (["--only", ",".join(shared_only)] if shared_only else [])
            commands.append(" ".join(shlex.quote(c) for c in cmd))
            run(cmd, py_tsv, os.path.join(out_dir, "python.err"), "Python peer")
        else:
            open(py_tsv, "w").close()
        for section, script in EXTRA_PY_BENCHES.items():
            if only and section not in only:
                continue
            extra_tsv = os.path.join(out_dir, "python-" + section + ".tsv")
            cmd = [sys.executable, script] + (["--quick"] if a.quick else [])
            commands.append(" ".join(shlex.quote(c) for c in cmd))
            run(cmd, extra_tsv, os.path.join(out_dir, "python-" + section + ".err"), "Python " + section)
            with open(extra_tsv) as src, open(py_tsv, "a") as dst:
                dst.write(src.read())

    jv_tsv = a.java_tsv
    if not jv_tsv:
        if not a.skip_build:
            build()
        cmd = ["java"] + shlex.split(a.java_opts)
        if a.worker_jvm_options:
            cmd.append("-Dprocpool.bench.workerJvmOptions=" + a.worker_jvm_options)
        cmd += ["-cp", java_classpath(), MAIN_CLASS] + common
        jv_tsv = os.path.join(out_dir, "java.tsv")
        commands.append(" ".join(shlex.quote(c) for c in cmd).replace(java_classpath(), "<examples classpath>"))
        run(cmd, jv_tsv, os.path.join(out_dir, "java.err"), "procpool PoolBench")

    lines = ["# procpool vs Python multiprocessing, W = 2" + (" (--quick sizes)" if a.quick else ""), ""]
    lines += ["    " + h for h in header]
    lines += ["    command: bench/compare.py " + " ".join(shlex.quote(x) for x in sys.argv[1:])]
    lines += ["    raw outputs: " + os.path.relpath(py_tsv, ROOT) + ", " + os.path.relpath(jv_tsv, ROOT), ""]
    lines += table(parse(py_tsv), parse(jv_tsv))
    for label, path in (("Python", py_tsv), ("procpool", jv_tsv)):
        with open(path) as f:
            bad = [ln.strip() for ln in f if "WRONG" in ln or "check failed" in ln or "\terror\t" in ln]
        if bad:
            lines += ["", f"WARNING: {label} output reports failed checks: " + " | ".join(bad[:5])]
    lines += ["", "Python startup is spawn (a fresh interpreter per worker, the analogue of a fresh worker JVM) "
              "unless marked fork. cpu_bound_heavy runs count_primes(400000) in Java, whose tasks take about as "
              "long as CPython's count_primes(40000); its Python columns repeat cpu_bound. create+close+join: "
              "procpool's close() kills workers that are still starting, so it includes no JVM start; Python's "
              "includes its workers' start. imap growth of a JVM is mostly young-generation pages touched for the "
              "first time; 'heap retained' is what the pool really holds during the pause. Crash and imap cases "
              "run in fresh processes. Numbers on a shared machine are noisy: compare ratios, rerun to confirm."]
    text = "\n".join(lines)
    with open(os.path.join(out_dir, "table.md"), "w") as f:
        f.write(text + "\n")
    print(text)


if __name__ == "__main__":
    main()
