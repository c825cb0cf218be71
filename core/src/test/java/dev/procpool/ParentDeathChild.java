package dev.procpool;

import java.nio.file.Path;
import java.util.List;
import java.util.stream.Collectors;

/**
 * The parent JVM that {@link ParentDeathTest} kills with SIGKILL: builds a pool of two workers, makes
 * them busy (unless told "idle" or "spares"), prints {@code WORKERS <pid> <pid>} on stdout and waits to be
 * killed; told "spares", it waits for the pool's two spare JVMs and prints their pids instead.
 *
 * <p>Usage: {@code ParentDeathChild <running-file> busy|idle|children|spares [<children-file>]}. Busy tasks
 * append their pid to the running file, so the test knows both workers are inside a task when it kills
 * this JVM; in "children" mode each task first starts child processes (see
 * {@link ProcessTreeContractTest#spawnChildren}) and records them in the children file.
 */
public final class ParentDeathChild {
    private ParentDeathChild() {}

    public static void main(String[] args) throws Exception {
        String runningFile = args[0];
        boolean spares = args[1].equals("spares");
        boolean busy = !args[1].equals("idle") && !spares;
        String childrenFile = args[1].equals("children") ? args[2] : null;
        ProcessPool pool = ProcessPool.builder().workers(2).build();
        long deadline = System.nanoTime() + 60_000_000_000L;
        while (pool.stats().workers().size() < 2 && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        if (busy) {
            pool.mapAsync(x -> {
                if (childrenFile != null) {
                    ProcessTreeContractTest.spawnChildren(childrenFile, false);
                }
                FaultTestSupport.reportPid(runningFile);
                FaultTestSupport.sleepForever();
                return x;
            }, List.of(0, 1, 2, 3), 1); // four: both workers are busy however the chunks are spread
            while (FaultTestSupport.readPids(Path.of(runningFile)).stream().distinct().count() < 2
                    && System.nanoTime() < deadline) {
                Thread.sleep(10);
            }
        }
        while (spares && pool.stats().spares().size() < 2 && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        String pids = (spares ? pool.stats().spares() : pool.stats().workers()).stream()
                .map(w -> Long.toString(w.pid())).collect(Collectors.joining(" "));
        System.out.println("WORKERS " + pids);
        System.out.flush();
        Thread.sleep(120_000); // the test kills this JVM long before
        pool.terminate();
    }
}
