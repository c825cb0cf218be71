package dev.procpool.examples.bench;
import dev.procpool.ProcessPool;
import dev.procpool.SerializableFunction;
import java.util.ArrayList;
import java.util.List;
/** Fresh caller JVM, pool of 2 ready: cpu_bound's map (64 x count_primes(40000), chunk 1) on cold workers, then again warm. */
public class CpuProbe { public static void main(String[] a) throws Exception {
  List<Long> inputs = new ArrayList<>();
  for (int i = 0; i < 64; i++) inputs.add(40_000L);
  SerializableFunction<Long, Long> f = BenchTasks::countPrimes;
  try (ProcessPool pool = ProcessPool.builder().workers(2).build()) {
    while (pool.stats().workers().size() < 2) Thread.sleep(1);
    StringBuilder out = new StringBuilder();
    for (int i = 0; i < 4; i++) {
      long t0 = System.nanoTime();
      pool.map(f, inputs, 1);
      out.append(String.format("map%d=%.1f ", i + 1, (System.nanoTime() - t0) / 1e6));
    }
    System.out.println(out.toString().trim());
  }
}}
