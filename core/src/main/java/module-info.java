/**
 * procpool: Python's {@code multiprocessing.Pool} for the JVM. The API is {@link dev.procpool}; the
 * engine, worker processes and threads live in {@code dev.procpool.internal.*}, open to procpool's own
 * modules only.
 */
module dev.procpool {
    requires transitive dev.procpool.worker;
    requires org.apache.commons.exec;
    requires org.slf4j;

    exports dev.procpool;
    exports dev.procpool.internal.engine to dev.procpool.cluster;
}
