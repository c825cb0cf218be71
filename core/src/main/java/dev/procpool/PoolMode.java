package dev.procpool;

/** Where a pool runs its tasks. */
public enum PoolMode {
    /** Every task runs in a worker JVM: isolation, hard time limits, separate heaps. */
    PROCESSES,
    /** Tasks run on an in-process thread pool: same API, results and exceptions, no isolation. */
    THREADS,
    /**
     * Worker JVMs when they can be started; otherwise threads, with one WARN log line. A pool built
     * in this mode reports the mode it settled on through {@link ProcessPool#mode()}.
     */
    AUTO
}
