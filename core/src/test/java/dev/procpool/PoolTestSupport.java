package dev.procpool;

/** Shared helpers for tests that start pools; the process checks live in {@link FaultTestSupport}. */
final class PoolTestSupport {
    private PoolTestSupport() {}

    static ProcessPool pool(PoolMode mode, int workers) {
        return ProcessPool.builder().workers(workers).mode(mode).build();
    }

    /** For tasks: a sleep that a plain lambda can call (task functions cannot throw checked exceptions). */
    static void pause(long millis) {
        FaultTestSupport.sleepQuietly(millis);
    }

    /** Waits (bounded) until this JVM has no live child process left, and fails naming them if some remain. */
    static void assertNoWorkersLeft() {
        FaultTestSupport.assertNoProcessLeft(java.util.Set.of());
    }

    static boolean isGone(long pid) {
        return FaultTestSupport.isGone(pid);
    }
}
