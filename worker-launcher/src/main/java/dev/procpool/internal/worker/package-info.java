/**
 * Internal: what runs inside a procpool worker JVM (its {@code main}, the frame protocol, the shared
 * Kryo setup). Not an API; it changes without notice. Users depend on {@code dev.procpool}.
 */
package dev.procpool.internal.worker;
