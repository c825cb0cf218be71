/**
 * What runs inside a worker JVM: the worker's {@code main}, the frame protocol and the one Kryo setup
 * both sides use. Its only public API is {@link dev.procpool.spi.KryoCustomizer}; the worker internals
 * are open to procpool's own modules only.
 */
module dev.procpool.worker {
    requires transitive com.esotericsoftware.kryo.kryo5;
    // sun.misc.Unsafe.invokeCleaner: unmaps a shared-memory segment at once instead of at the next GC
    requires jdk.unsupported;

    exports dev.procpool.spi;
    exports dev.procpool.internal.worker to dev.procpool, dev.procpool.cluster;

    uses dev.procpool.spi.KryoCustomizer;
}
