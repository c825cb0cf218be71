package dev.procpool.internal.process;

import dev.procpool.ProcessPool;
import java.lang.management.ManagementFactory;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

/**
 * The caller's JVM of {@link ArchiveCacheTest}: a pool of two workers on a class path of jars only (so
 * that it has a class-data archive), one map, then close. Prints "OK" and whether the workers were
 * started from an archive, or the failure; exits 0 only when the map worked. Arguments, both optional:
 * the workers' {@code java}, then JVM options for the workers.
 */
public final class ArchiveCacheChild {
    private ArchiveCacheChild() {}

    public static void main(String[] args) {
        ProcessPool.Builder builder = ProcessPool.builder().workers(2);
        if (args.length > 0) {
            builder.javaExecutable(Path.of(args[0])).jvmOptions(Arrays.copyOfRange(args, 1, args.length));
        }
        try (ProcessPool pool = builder.build()) {
            List<Boolean> fromArchive = pool.map(x -> ManagementFactory.getRuntimeMXBean().getInputArguments()
                    .stream().anyMatch(a -> a.startsWith("-XX:SharedArchiveFile=") || a.startsWith("-XX:AOTCache=")),
                    List.of(1, 2, 3, 4), 1);
            // the worker recording the archive publishes it when it exits normally: not if close kills it starting
            long deadline = System.nanoTime() + 30_000_000_000L;
            while (pool.stats().workers().size() < 2 && System.nanoTime() < deadline) {
                Thread.sleep(10);
            }
            System.out.println("OK archive=" + fromArchive.contains(true));
            System.out.println("WORKERS " + pool.stats().workers().stream().map(w -> Long.toString(w.pid()))
                    .collect(java.util.stream.Collectors.joining(" ")));
        } catch (RuntimeException | InterruptedException e) {
            System.out.println("FAILED " + e);
            System.exit(1);
        }
        System.exit(0);
    }
}
