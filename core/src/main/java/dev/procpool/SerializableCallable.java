package dev.procpool;

import java.io.Serializable;
import java.util.concurrent.Callable;

/** A {@link Callable} that can be sent to a worker JVM; see {@link SerializableFunction}. */
@FunctionalInterface
public interface SerializableCallable<V> extends Callable<V>, Serializable {}
