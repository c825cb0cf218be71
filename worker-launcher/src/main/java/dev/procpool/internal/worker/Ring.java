package dev.procpool.internal.worker;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.TreeMap;

/**
 * One direction of a worker's shared-memory ring ({@link WorkerRings}): a byte area both processes keep
 * mapped for the worker's life, into which the writer copies medium-sized values so that only
 * {@code (start, length)} goes through the pipe. Why: the pipe copies every byte twice in the kernel and
 * once more into the reader's frame, and a one-off segment pays file creation and page faults per value;
 * a ring mapped once pays neither (its pages fault in on the first lap only).
 *
 * <p>Positions are byte counts since the ring was made ({@code long}, never wrapping); a value is stored
 * contiguously, at {@code start % capacity}, or at the area's beginning when it would not fit before its
 * end (the tail is skipped, and released with the value). The one word the two sides share is
 * {@code released}, in the control page: everything before it may be overwritten.
 * <ul>
 *   <li><b>Writer</b> (one thread at a time; the encoder's owner guards it): {@link #tryAllocate} reserves
 *       room or says there is none, and <b>never waits</b> for the reader, so no deadlock is possible: a
 *       value with no room takes the pipe (or a one-off segment). {@link #rollback} returns what was
 *       reserved for values that are not sent after all (a frame that overflowed, a chunk not sent).</li>
 *   <li><b>Reader</b> (any thread; guarded by this): {@link #release} each value once read, skipped or
 *       failed to decode. Values read out of order (a frame queued while a later one is decoded) are kept
 *       aside until the ones before them are released, so {@code released} only ever moves over values the
 *       reader is done with.</li>
 * </ul>
 * A ring dies with its worker: nothing is released after either side's death, and nothing needs to be.
 */
public final class Ring {
    private static final VarHandle LONGS = MethodHandles.byteBufferViewVarHandle(long[].class, ByteOrder.nativeOrder());

    /** The data area, {@link #capacity} bytes of a mapping; absolute gets and puts only (shared by threads). */
    private final ByteBuffer data;
    /** The control page; {@link #releasedAt} is 8-aligned there (VarHandle access modes need that). */
    private final ByteBuffer control;
    private final int releasedAt;
    private final int capacity;
    /** Values of at least this many bytes go into the ring (when they fit). */
    private final int threshold;

    // The writer's: one thread at a time.
    private long head;

    // The reader's: guarded by this.
    private long released;
    private final TreeMap<Long, Long> releasedAhead = new TreeMap<>();

    Ring(ByteBuffer data, ByteBuffer control, int releasedAt, int threshold) {
        if (releasedAt % 8 != 0) {
            throw new IllegalArgumentException("released counter at " + releasedAt + " is not 8-aligned");
        }
        this.data = data;
        this.control = control;
        this.releasedAt = releasedAt;
        this.capacity = data.capacity();
        this.threshold = threshold;
        long now = (long) LONGS.getAcquire(control, releasedAt);
        this.head = now;
        this.released = now;
    }

    public int capacity() {
        return capacity;
    }

    /** Values of at least this many bytes go into the ring when it has room for them. */
    public int threshold() {
        return threshold;
    }

    /** True when a value of {@code bytes} bytes is worth trying in the ring. */
    boolean wants(long bytes) {
        return bytes >= threshold && bytes <= capacity;
    }

    // ------------------------------------------------------------------------------------------- writer

    /** Reserves {@code length} bytes; returns their start, or -1 when the ring has no room now. Never waits. */
    long tryAllocate(int length) {
        if (length <= 0 || length > capacity) {
            return -1;
        }
        long start = head;
        long end = end(start, length);
        long released = (long) LONGS.getAcquire(control, releasedAt);
        // the bytes it takes held a lap ago what is before end - capacity: all released, or nothing is held
        if (end - released > capacity && released != start) {
            return -1;
        }
        head = end;
        return start;
    }

    /** Where the writer is: a mark to {@link #rollback} to. */
    long head() {
        return head;
    }

    /** Takes back everything reserved since {@code mark}: those values were never sent. */
    void rollback(long mark) {
        if (mark > head) {
            throw new IllegalStateException("ring rollback to " + mark + " beyond its head " + head);
        }
        head = mark;
    }

    /** Copies {@code length} bytes of {@code src} into the ring at the value that starts at {@code start}. */
    void put(long start, byte[] src, int offset, int length) {
        data.put(offset(start, length), src, offset, length);
    }

    /** A view of the value's bytes, for writing them (primitive arrays, buffers); position 0, native order. */
    ByteBuffer slice(long start, int length) {
        return data.slice(offset(start, length), length).order(ByteOrder.nativeOrder());
    }

    // ------------------------------------------------------------------------------------------- reader

    /**
     * A read-only view of a value the other side wrote, after checking that the reference is one this
     * ring can hold (a corrupt one fails its value, never reads outside the ring).
     */
    ByteBuffer view(long start, int length) {
        checkReference(start, length);
        VarHandle.acquireFence(); // the bytes were written before the frame that names them
        return data.slice(offset(start, length), length).asReadOnlyBuffer().order(ByteOrder.nativeOrder());
    }

    private void checkReference(long start, int length) {
        if (start < 0 || length < 0 || length > capacity) {
            throw new IllegalStateException("bad ring reference: " + length + " bytes at " + start
                    + " in a ring of " + capacity);
        }
    }

    /** The reader is done with the value at {@code start} (read, skipped or failed): its room may be reused. */
    synchronized void release(long start, int length) {
        checkReference(start, length);
        long end = end(start, length);
        if (start != released) {
            if (start > released) {
                releasedAhead.put(start, end);
            }
            return;
        }
        released = end;
        while (!releasedAhead.isEmpty() && releasedAhead.firstKey() == released) {
            released = releasedAhead.pollFirstEntry().getValue();
        }
        LONGS.setRelease(control, releasedAt, released);
    }

    /** What the writer sees as released (tests). */
    long releasedByReader() {
        return (long) LONGS.getAcquire(control, releasedAt);
    }

    // ------------------------------------------------------------------------------------------- layout

    private int offset(long start, int length) {
        int at = (int) (start % capacity);
        return at + length > capacity ? 0 : at;
    }

    private long end(long start, int length) {
        int at = (int) (start % capacity);
        return at + length > capacity ? start + (capacity - at) + length : start + length;
    }

    /** Publishes the writer's copies before the frame that names them goes out. */
    static void published() {
        VarHandle.releaseFence();
    }
}
