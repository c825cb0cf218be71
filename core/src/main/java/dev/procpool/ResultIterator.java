package dev.procpool;

import java.util.Iterator;
import java.util.Spliterator;
import java.util.Spliterators;
import java.util.stream.Stream;
import java.util.stream.StreamSupport;

/**
 * The lazy results of {@link ProcessPool#imap} and {@link ProcessPool#imapUnordered}.
 *
 * <p>{@link #hasNext()} and {@link #next()} block until the next result is in; they are
 * interruptible (an interrupted caller cancels the call, gets a {@link ProcessPoolException} and finds
 * its interrupt flag set). {@link #next()} throws the failure of the input it stands for
 * ({@link TaskFailedException}, {@link WorkerCrashedException}, {@link TaskTimeoutException}); the
 * iteration can go on after it. When the input iterator itself throws, the results before it are
 * delivered, then {@code next()} throws a {@link ProcessPoolException} caused by that exception and
 * the iteration ends.
 *
 * <p>Memory stays bounded: inputs are read ahead only a few chunks per worker beyond what the consumer
 * has taken, so a paused consumer pauses the work and an endless input is fine. {@link #close()}
 * (or dropping the iterator) cancels the work not yet started. Not thread-safe: one consumer.
 */
public interface ResultIterator<R> extends Iterator<R>, Iterable<R>, AutoCloseable {
    /** Cancels the remaining work; later {@code hasNext()} returns false. Idempotent, never blocks. */
    @Override
    void close();

    /**
     * This iterator itself, so that the results fit a for-each loop; like the call, it can be read once.
     *
     * @return this
     */
    @Override
    default Iterator<R> iterator() {
        return this;
    }

    /**
     * The remaining results as a sequential stream, read lazily; closing the stream closes this iterator
     * (cancelling the work not yet done), so {@code try (Stream<R> s = pool.imap(...).stream())} cleans up.
     *
     * @return a stream of the results
     */
    default Stream<R> stream() {
        return StreamSupport.stream(Spliterators.spliteratorUnknownSize(this, Spliterator.ORDERED), false)
                .onClose(this::close);
    }
}
