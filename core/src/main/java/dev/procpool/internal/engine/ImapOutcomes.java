package dev.procpool.internal.engine;

import dev.procpool.ProcessPoolException;
import dev.procpool.internal.worker.ValueRuns;
import java.util.ArrayDeque;
import java.util.HashSet;
import java.util.Set;

/**
 * Where a lazy call keeps the outcomes of the inputs it has read until the consumer takes them, and which
 * of those inputs still await their answer (a second answer for an input, from a chunk run again elsewhere,
 * is dropped). Two shapes, one per order:
 * <ul>
 *   <li>{@link Ordered} ({@code imap}): the consumer takes inputs in index order and the feeder never reads
 *       more than a window past it, so the inputs between the two live in a ring indexed by input index:
 *       no box, no hash, no node per input, and values that arrived packed ({@link ValueRuns}) stay
 *       unboxed until the consumer takes them;
 *   <li>{@link Unordered} ({@code imapUnordered}): outcomes queue in arrival order; the awaited inputs are a
 *       set, since one slow input must not hold the memory of all the inputs read after it.
 * </ul>
 * Not thread-safe: the job guards it.
 */
abstract class ImapOutcomes {
    /** One input's outcome as the consumer takes it. */
    record Outcome(long index, Object value, ProcessPoolException failure) {}

    /** Inputs {@code first} to {@code first + count - 1} were read and await their answers. */
    abstract void expect(long first, int count);

    /** Stores an answer; false when its input no longer awaits one (answered already, or forgotten). */
    abstract boolean arrive(long index, Object value, ProcessPoolException failure);

    /** Stores a run of packed values for {@code indices[from..from+count)}; returns how many were awaited. */
    abstract int arriveRun(long[] indices, int from, byte kind, long[] bits, int count);

    /** The next outcome for the consumer ({@code consumed} taken so far), or null while it has not arrived. */
    abstract Outcome poll(long consumed);

    /** No answer is awaited any more; what arrived stays to be taken. */
    abstract void forgetAwaited();

    /** Drops everything. */
    abstract void clear();

    static ImapOutcomes of(boolean ordered) {
        return ordered ? new Ordered() : new Unordered();
    }

    /** The ring of {@code imap}; see the class comment. */
    static final class Ordered extends ImapOutcomes {
        private static final byte EMPTY = 0;
        private static final byte AWAITED = 1;
        private static final byte BOXED = 2;
        private static final byte FAILED = 3;

        /** Per slot: EMPTY, AWAITED, BOXED, FAILED, or the run kind of a packed value. */
        private byte[] states = new byte[1024];
        private Object[] values = new Object[1024];
        private long[] bits = new long[1024];
        /** Slot of input {@code i}: {@code i & mask}; holds inputs from the oldest not taken to the last read. */
        private int mask = 1023;
        private long oldest;
        private long end;

        @Override
        void expect(long first, int count) {
            if (first != end) {
                throw new IllegalStateException("inputs read out of order: " + first + " after " + end);
            }
            long needed = first + count - oldest;
            if (needed > states.length) {
                grow(needed);
            }
            for (long i = first; i < first + count; i++) {
                states[(int) i & mask] = AWAITED;
            }
            end = first + count;
        }

        private void grow(long needed) {
            int capacity = states.length;
            while (capacity < needed) {
                capacity <<= 1;
            }
            byte[] newStates = new byte[capacity];
            Object[] newValues = new Object[capacity];
            long[] newBits = new long[capacity];
            int newMask = capacity - 1;
            for (long i = oldest; i < end; i++) {
                newStates[(int) i & newMask] = states[(int) i & mask];
                newValues[(int) i & newMask] = values[(int) i & mask];
                newBits[(int) i & newMask] = bits[(int) i & mask];
            }
            states = newStates;
            values = newValues;
            bits = newBits;
            mask = newMask;
        }

        private boolean awaited(long index) {
            return index >= oldest && index < end && states[(int) index & mask] == AWAITED;
        }

        @Override
        boolean arrive(long index, Object value, ProcessPoolException failure) {
            if (!awaited(index)) {
                return false;
            }
            int slot = (int) index & mask;
            states[slot] = failure != null ? FAILED : BOXED;
            values[slot] = failure != null ? failure : value;
            return true;
        }

        @Override
        int arriveRun(long[] indices, int from, byte kind, long[] runBits, int count) {
            int accepted = 0;
            for (int k = 0; k < count; k++) {
                long index = indices[from + k];
                if (awaited(index)) {
                    int slot = (int) index & mask;
                    states[slot] = kind;
                    bits[slot] = runBits[k];
                    accepted++;
                }
            }
            return accepted;
        }

        @Override
        Outcome poll(long consumed) {
            if (consumed != oldest) {
                throw new IllegalStateException("taken out of order: " + consumed + ", expected " + oldest);
            }
            if (consumed >= end) {
                return null;
            }
            int slot = (int) consumed & mask;
            byte state = states[slot];
            Outcome outcome;
            switch (state) {
                case EMPTY, AWAITED -> {
                    return null;
                }
                case BOXED -> outcome = new Outcome(consumed, values[slot], null);
                case FAILED -> outcome = new Outcome(consumed, null, (ProcessPoolException) values[slot]);
                default -> outcome = new Outcome(consumed, ValueRuns.box(state, bits[slot]), null);
            }
            states[slot] = EMPTY;
            values[slot] = null;
            oldest++;
            return outcome;
        }

        @Override
        void forgetAwaited() {
            for (long i = oldest; i < end; i++) {
                if (states[(int) i & mask] == AWAITED) {
                    states[(int) i & mask] = EMPTY;
                }
            }
        }

        @Override
        void clear() {
            for (long i = oldest; i < end; i++) {
                states[(int) i & mask] = EMPTY;
                values[(int) i & mask] = null;
            }
        }
    }

    /** The arrival queue of {@code imapUnordered}; see the class comment. */
    static final class Unordered extends ImapOutcomes {
        private final Set<Long> awaited = new HashSet<>();
        private final ArrayDeque<Outcome> arrived = new ArrayDeque<>();

        @Override
        void expect(long first, int count) {
            for (long i = first; i < first + count; i++) {
                awaited.add(i);
            }
        }

        @Override
        boolean arrive(long index, Object value, ProcessPoolException failure) {
            if (!awaited.remove(index)) {
                return false;
            }
            arrived.addLast(new Outcome(index, value, failure));
            return true;
        }

        @Override
        int arriveRun(long[] indices, int from, byte kind, long[] bits, int count) {
            int accepted = 0;
            for (int k = 0; k < count; k++) {
                if (arrive(indices[from + k], ValueRuns.box(kind, bits[k]), null)) {
                    accepted++;
                }
            }
            return accepted;
        }

        @Override
        Outcome poll(long consumed) {
            return arrived.pollFirst();
        }

        @Override
        void forgetAwaited() {
            awaited.clear();
        }

        @Override
        void clear() {
            awaited.clear();
            arrived.clear();
        }
    }
}
