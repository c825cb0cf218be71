package dev.procpool;

import java.io.Serializable;
import java.util.function.BiFunction;

/** A {@link BiFunction} that can be sent to a worker JVM; see {@link SerializableFunction}. */
@FunctionalInterface
public interface SerializableBiFunction<T, U, R> extends BiFunction<T, U, R>, Serializable {}
