#!/bin/sh
# Sampling profile (JFR) of one procpool workload, in the pool's parent JVM AND in every worker JVM.
#   bench/profile.sh WORKLOAD [SECONDS]
# WORKLOAD: tiny_map.chunk_default tiny_map.chunk1 apply_latency cpu_bound cpu_bound_heavy bytes.1MiB
#           bytes.64KiB imap  (full-size PoolBench workloads, process mode, run in a loop for SECONDS, default 20)
# Recordings land in target/profile/<workload>/ (parent.jfr; worker-<pid>.jfr, written when each worker
# exits normally), then bench/jfr_top.py summarises each side (JFR_TOP_ARGS="--native" adds threads
# blocked in native code). Build first: bench/compare.py does, or
#   mvn -q -o -B -DskipTests -pl examples -am package dependency:build-classpath -Dmdep.outputFile=target/bench.classpath
set -eu
workload=$1
seconds=${2:-20}
root=$(cd "$(dirname "$0")/.." && pwd)
out="$root/target/profile/$workload"
rm -rf "$out"; mkdir -p "$out"
jar=$(ls -t "$root"/examples/target/procpool-examples*.jar | grep -v -e sources -e javadoc | head -1)
cp="$jar:$(cat "$root/examples/target/bench.classpath")"
# Workers record through the JFR API (a pool initializer, BenchTasks.startJfr): -XX:StartFlightRecording
# in a worker's JVM options prints JFR's banner into the worker's frame channel (fd 1) and breaks the pool.
java -XX:StartFlightRecording=settings=profile,dumponexit=true,filename="$out/parent.jfr" \
    "-Dprocpool.bench.workerJfrDir=$out" ${PARENT_OPTS:-} \
    -cp "$cp" dev.procpool.examples.bench.PoolBench --profile "$workload" "$seconds" > "$out/bench.out" 2> "$out/bench.err"
grep "^# profile" "$out/bench.out" || { tail -20 "$out/bench.err"; exit 1; }
echo "== parent JVM (caller + pool threads)"
python3 "$root/bench/jfr_top.py" ${JFR_TOP_ARGS:-} "$out/parent.jfr"
echo "== worker JVMs"
python3 "$root/bench/jfr_top.py" ${JFR_TOP_ARGS:-} "$out"/worker-*.jfr
