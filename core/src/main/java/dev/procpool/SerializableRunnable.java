package dev.procpool;

import java.io.Serializable;

/** A {@link Runnable} that can be sent to a worker JVM; see {@link SerializableFunction}. */
@FunctionalInterface
public interface SerializableRunnable extends Runnable, Serializable {}
