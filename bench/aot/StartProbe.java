import dev.procpool.PoolStats;
import dev.procpool.ProcessPool;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
/**
 * Fresh caller JVM: wall time from builder() to both workers ready and to the first map result, and the CPU
 * time (user+sys, from /proc) each worker JVM had used when both were ready. Prints ms.
 */
public class StartProbe { public static void main(String[] a) throws Exception {
  long t0 = System.nanoTime();
  try (ProcessPool pool = ProcessPool.builder().workers(2).build()) {
    List<PoolStats.Worker> ws;
    while ((ws = pool.stats().workers()).size() < 2) Thread.sleep(1);
    long ready = System.nanoTime();
    double cpu = 0;
    for (PoolStats.Worker w : ws) {
      String stat = Files.readString(Path.of("/proc/" + w.pid() + "/stat"));
      String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
      cpu += (Long.parseLong(f[11]) + Long.parseLong(f[12])) * 10.0; // clock ticks of 10 ms
    }
    pool.map(x -> x + 1, List.of(1, 2), 1);
    long mapped = System.nanoTime();
    System.out.printf("ready=%.1f map=%.1f worker_cpu_each=%.0f%n", (ready - t0) / 1e6, (mapped - t0) / 1e6, cpu / 2);
  }
}}
