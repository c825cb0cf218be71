package dev.procpool.internal.worker;

import com.esotericsoftware.kryo.kryo5.io.Input;
import com.esotericsoftware.kryo.kryo5.io.Output;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Consecutive {@code Long}, {@code Integer} or {@code Double} elements of a frame packed as one run: a
 * kind byte, a 4-byte count, then the values back to back, fixed width, little-endian. Why: these are
 * most of what pools move in the millions (tiny_map, imap), and per element the tagged form
 * ({@link Elements}) costs a tag, a varint and, on the reading side, a box and a type switch. A run is
 * written value by value as tasks finish (results still stream; one element that is not of the run's type
 * just ends it, so a failure in the middle of a batch fails only its own task) and read in bulk: the
 * parent copies a run into a {@code long[]} with one bulk copy, keeps the values unboxed, and boxes each
 * one only when the caller asks for it. Fixed width instead of varints: a bulk copy of the bytes is the
 * decoding, which is fast before the JIT has compiled anything (a cold JVM is what a one-off map runs in).
 *
 * <p>The kinds share one byte space with the tags of {@link Elements} and the result statuses of
 * {@link ResultsMessage} ({@link #isRun}), so a reader tells a run from a single element by its first byte.
 * Each value travels as 64 bits in a {@code long[]} on the reading side: a {@code long} as is, an {@code int}
 * sign-extended, a {@code double} as its raw bits ({@link #box} turns it back into its boxed type).
 */
public final class ValueRuns {
    /** A run of {@code Long}s: 8 bytes each. */
    public static final byte LONGS = 64;
    /** A run of {@code Integer}s: 4 bytes each. */
    public static final byte INTS = 65;
    /** A run of {@code Double}s: their raw bits, 8 bytes each. */
    public static final byte DOUBLES = 66;
    /** Kind byte and count. */
    static final int HEAD_BYTES = 5;

    private ValueRuns() {}

    /** True for the first byte of a run. */
    public static boolean isRun(byte kind) {
        return kind >= LONGS && kind <= DOUBLES;
    }

    /** The run kind values of this class pack into, or 0. */
    static byte kindOf(Class<?> type) {
        if (type == Long.class) {
            return LONGS;
        }
        if (type == Integer.class) {
            return INTS;
        }
        if (type == Double.class) {
            return DOUBLES;
        }
        return 0;
    }

    /** The boxed value of one run element as a reader keeps it (see the class comment). */
    public static Object box(byte kind, long bits) {
        return switch (kind) {
            case LONGS -> bits;
            case INTS -> (int) bits;
            case DOUBLES -> Double.longBitsToDouble(bits);
            default -> throw new IllegalArgumentException("not a run kind: " + kind);
        };
    }

    /**
     * Appends values to the open run of an {@link Output}, opening and closing runs as the types change.
     * The count of an open run is filled in by {@link #close}, which must come before the output is sent.
     * Not thread-safe; one per output.
     */
    static final class Writer {
        private byte kind;
        private int headAt;
        private int count;

        /**
         * Appends {@code value} to a run if its type packs (opening one, or closing one of another kind
         * first) and returns true; otherwise closes any open run and returns false: the caller writes the
         * value in its own form. When the output is full it throws Kryo's overflow with the output as
         * it was (the run left as it was, open or not).
         */
        boolean append(Output out, Object value) {
            byte valueKind = value == null ? 0 : kindOf(value.getClass());
            if (valueKind == 0) {
                close(out);
                return false;
            }
            if (valueKind != kind) {
                close(out);
                int mark = out.position();
                try {
                    out.writeByte(valueKind);
                    out.writeInt(0);
                    writeValue(out, valueKind, value);
                } catch (RuntimeException e) {
                    out.setPosition(mark);
                    throw e;
                }
                kind = valueKind;
                headAt = mark;
                count = 1;
                return true;
            }
            writeValue(out, valueKind, value); // the room is made before anything is written
            count++;
            return true;
        }

        private static void writeValue(Output out, byte kind, Object value) {
            switch (kind) {
                case LONGS -> out.writeLong((Long) value);
                case INTS -> out.writeInt((Integer) value);
                default -> out.writeLong(Double.doubleToRawLongBits((Double) value));
            }
        }

        /** Writes the open run's count, if there is one; the next packable value opens a new run. */
        void close(Output out) {
            if (count > 0) {
                byte[] buffer = out.getBuffer();
                int at = headAt + 1; // Kryo's little-endian int, as Input.readInt reads it
                buffer[at] = (byte) count;
                buffer[at + 1] = (byte) (count >>> 8);
                buffer[at + 2] = (byte) (count >>> 16);
                buffer[at + 3] = (byte) (count >>> 24);
            }
            kind = 0;
            count = 0;
        }

        /** Forgets any open run (its output was reset). */
        void reset() {
            kind = 0;
            count = 0;
        }

        /** Values in the open run. */
        int openCount() {
            return count;
        }
    }

    /**
     * Reads a run's values after its kind byte; not thread-safe. Takes of at least {@link #BULK_MIN} longs
     * go through one bulk copy; fewer (chunks of one task, a run split at a chunk's end) are read one by one:
     * setting up a buffer view costs more than that, most of all before the JIT has compiled it.
     */
    static final class Reader {
        private static final int BULK_MIN = 32;
        private byte kind;
        private int left;
        private ByteBuffer view;

        /** Starts the run whose kind byte was just read from {@code in}; returns its length. */
        int begin(byte runKind, Input in) throws FrameChannel.CorruptFrameException {
            int length = in.readInt();
            long bytes = (long) length * width(runKind);
            if (length <= 0 || bytes > in.limit() - in.position()) {
                throw new FrameChannel.CorruptFrameException("bad run of " + length + " values (kind " + runKind + ")");
            }
            kind = runKind;
            left = length;
            return length;
        }

        byte kind() {
            return kind;
        }

        /** Forgets a run left unfinished (a new frame starts). */
        void reset() {
            left = 0;
        }

        int left() {
            return left;
        }

        /** Copies the next {@code n} values' bits into {@code to[0..n)} and passes over them. */
        void take(Input in, long[] to, int n) {
            if (n > left) {
                throw new IllegalArgumentException(n + " values asked of a run with " + left + " left");
            }
            if (kind == INTS || n < BULK_MIN) { // no bulk int-to-long widening; a few values are not worth a view
                for (int k = 0; k < n; k++) {
                    to[k] = kind == INTS ? in.readInt() : in.readLong();
                }
            } else {
                int at = in.position();
                ByteBuffer bytes = viewOf(in);
                bytes.position(at);
                bytes.asLongBuffer().get(to, 0, n);
                in.setPosition(at + 8 * n);
            }
            left -= n;
        }

        /** The next value, boxed; passes over it. */
        Object next(Input in) {
            left--;
            return switch (kind) {
                case LONGS -> in.readLong();
                case INTS -> in.readInt();
                default -> Double.longBitsToDouble(in.readLong());
            };
        }

        private ByteBuffer viewOf(Input in) {
            byte[] buffer = in.getBuffer();
            if (view == null || view.array() != buffer) {
                view = ByteBuffer.wrap(buffer).order(ByteOrder.LITTLE_ENDIAN);
            }
            view.limit(buffer.length);
            return view;
        }

        private static int width(byte kind) {
            return kind == INTS ? 4 : 8;
        }
    }
}
