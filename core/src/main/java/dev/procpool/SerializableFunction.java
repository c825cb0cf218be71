package dev.procpool;

import java.io.Serializable;
import java.util.function.Function;

/**
 * A {@link Function} that can be sent to a worker JVM. Plain lambdas and method references
 * become serializable when their target type is this interface; what they capture is serialized
 * with them (Kryo: no {@code Serializable} needed on captured values, but a captured
 * {@code Thread}, socket or lock cannot travel).
 */
@FunctionalInterface
public interface SerializableFunction<T, R> extends Function<T, R>, Serializable {}
