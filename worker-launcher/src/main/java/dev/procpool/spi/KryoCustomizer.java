package dev.procpool.spi;

import com.esotericsoftware.kryo.kryo5.Kryo;

/**
 * The one hook for adding Kryo serializers, applied to every Kryo instance procpool creates, in the
 * caller's JVM and in every worker JVM alike, so both sides always agree on the wire format.
 *
 * <p>Implementations are found in the caller with {@link java.util.ServiceLoader}: list the class name
 * in {@code META-INF/services/dev.procpool.spi.KryoCustomizer} on the caller's class path. Workers apply
 * exactly the caller's list: they load those classes by name, so each must also be on the workers'
 * class path (it is, when it comes from the caller's jars or folders); a worker that cannot load or
 * make one fails the pool at start with a {@code ProcessPoolException} naming it. An implementation
 * needs a public no-arg constructor and must register the same serializers every time it is called.
 * It runs after procpool's own setup, so it may override it.
 */
@FunctionalInterface
public interface KryoCustomizer {
    /**
     * Adds or replaces serializers on a freshly configured Kryo instance.
     *
     * @param kryo the instance to customize
     */
    void customize(Kryo kryo);
}
