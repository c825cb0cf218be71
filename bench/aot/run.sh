#!/bin/bash
# Worker start with no archive / the dynamic CDS archive / the AOT cache, on a JDK 25+ (NOTES-aot.md).
# Fresh caller JVM each time, variants interleaved, ROUNDS rounds (default 8). Needs the examples module
# built (bench/compare.py does it, or: mvn -q -B -o -DskipTests -pl examples -am package
# dependency:build-classpath -Dmdep.outputFile=target/bench.classpath). Scratch: /tmp/aot-bench-$$.
#   JAVA25=/usr/lib/jvm/temurin-25-jdk-amd64 bench/aot/run.sh
set -e
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
JAVA25=${JAVA25:-/usr/lib/jvm/temurin-25-jdk-amd64}
WORK=/tmp/aot-bench-$$
mkdir -p "$WORK"
trap 'rm -rf "$WORK"' EXIT
CP=$ROOT/examples/target/procpool-examples.jar:$(cat "$ROOT/examples/target/bench.classpath")
"$JAVA25/bin/javac" --release 17 -cp "$CP" -d "$WORK/classes" "$ROOT/bench/aot/StartProbe.java" "$ROOT/bench/aot/CpuProbe.java"
CP=$WORK/classes:$CP
opt() { case $1 in none) echo "-Dprocpool.cds=false";; cds) echo "-Dprocpool.aot=false";; aot) echo "";; esac; }
run() { "$JAVA25/bin/java" $(opt "$1") -Dprocpool.cds.dir="$WORK/cache-$1" -cp "$CP" "$2" 2>/dev/null; }
for v in cds aot; do run $v dev.procpool.examples.bench.CpuProbe >/dev/null; done # record both, with cpu_bound in the training
for r in $(seq "${ROUNDS:-8}"); do
  echo "load $(cut -d' ' -f1 /proc/loadavg)"
  for v in none cds aot; do echo "start $v $(run $v StartProbe)"; done
  for v in none cds aot; do echo "cpu $v $(run $v dev.procpool.examples.bench.CpuProbe)"; done
done
