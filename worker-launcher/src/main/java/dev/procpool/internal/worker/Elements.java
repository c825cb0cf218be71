package dev.procpool.internal.worker;

import com.esotericsoftware.kryo.kryo5.Kryo;
import com.esotericsoftware.kryo.kryo5.io.Input;
import com.esotericsoftware.kryo.kryo5.io.KryoBufferOverflowException;
import com.esotericsoftware.kryo.kryo5.io.Output;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.List;

/**
 * One input or result inside a frame: a tag byte, then the value. The common immutable types
 * ({@code Long}, {@code Integer}, {@code Double}, {@code Boolean}, {@code String}, {@code byte[]},
 * null) have a compact form of their own: they are most of what pools move, one by one, in the
 * millions. Anything else is Kryo's, behind a 4-byte length, so a reader can skip a value it cannot
 * rebuild and one bad element fails only its own task.
 *
 * <p>Large values ({@link SharedSegments#isLarge}) do not travel inline when the writer is given
 * {@link SharedSegments}: a {@code byte[]}, a primitive array or a {@code ByteBuffer} of that many bytes is
 * written straight into a segment, any other value whose encoding turns out that big is moved there, and
 * a value too big for a frame is serialized into one; the frame then carries only a reference
 * ({@link LargeValues}). A {@code ByteBuffer} arrives read-only (a large one is the mapped segment itself).
 *
 * <p>Before that, when the writer is given its worker's {@link Ring} for the direction, a value from the
 * ring's threshold that fits the ring's free room goes there instead (any size up to the ring's capacity,
 * large ones included: the ring is mapped once, a segment is made per value), with only a reference in the
 * frame ({@link RingValues}); the reader must then be given the same ring.
 */
public final class Elements {
    private static final byte NULL = 0;
    private static final byte KRYO = 1;
    private static final byte LONG = 2;
    private static final byte INT = 3;
    private static final byte DOUBLE = 4;
    private static final byte STRING = 5;
    private static final byte BYTES = 6;
    private static final byte TRUE = 7;
    private static final byte FALSE = 8;
    /** A reference to a shared-memory segment ({@link LargeValues}). */
    static final byte SEGMENT = 9;
    /** A ByteBuffer's remaining bytes, inline: byte order, length, bytes. */
    static final byte BUFFER = 10;
    /** A reference to a value in the worker's ring for this direction ({@link RingValues}). */
    static final byte RING = 11;

    private Elements() {}

    /** Writes one value inline; on failure the output is rewound to where it was and the error rethrown. */
    public static void write(Kryo kryo, Output out, Object value) {
        writeInline(kryo, out, value);
    }

    /**
     * Writes one value, large ones through shared memory: the segments created are added to {@code created}
     * (when not null) and are the caller's to delete if the frame is never sent. On failure the output is
     * rewound, no segment of this value is left, and the error rethrown. {@code segments} null: inline only.
     */
    public static void write(Kryo kryo, Output out, Object value, SharedSegments segments, List<Path> created) {
        write(kryo, out, value, segments, created, null);
    }

    /**
     * As {@link #write(Kryo, Output, Object, SharedSegments, List)}, values from the ring's threshold through
     * {@code ring} when it has room for them ({@link RingValues}; a failed write leaves the ring as it was).
     * The caller {@link Ring#rollback rolls back} the ring if the frame is never sent. {@code ring} null: none.
     */
    public static void write(Kryo kryo, Output out, Object value, SharedSegments segments, List<Path> created,
            Ring ring) {
        if (value == null || segments == null && ring == null) {
            writeInline(kryo, out, value);
            return;
        }
        if (LargeValues.isDirect(value)) { // sized by their bytes, not by their encoding
            if (ring != null && RingValues.writeDirect(out, value, ring)) {
                return;
            }
            if (segments == null || !LargeValues.writeDirect(out, value, segments, created)) {
                writeInline(kryo, out, value);
            }
            return;
        }
        int start = out.position();
        try {
            writeInline(kryo, out, value);
        } catch (RuntimeException | StackOverflowError e) {
            if (segments == null || !isOverflow(e)) {
                throw e;
            }
            out.setPosition(start); // too big for what is left of the frame: serialized into a segment instead
            LargeValues.writeStreamed(kryo, out, value, segments, created);
            return;
        }
        if (ring != null && RingValues.move(out, start, ring)) {
            return;
        }
        if (segments != null && segments.isLarge(out.position() - start)) {
            LargeValues.move(out, start, segments, created);
        }
    }

    /** Tag and byte order of an inline ByteBuffer. */
    static void writeBufferHead(Output out, ByteBuffer buffer) {
        out.writeByte(BUFFER);
        out.writeByte(buffer.order() == ByteOrder.BIG_ENDIAN ? 0 : 1);
    }

    private static void writeInline(Kryo kryo, Output out, Object value) {
        if (value == null) {
            out.writeByte(NULL);
            return;
        }
        Class<?> type = value.getClass();
        if (type == Long.class) {
            out.writeByte(LONG);
            out.writeVarLong((Long) value, false);
        } else if (type == Integer.class) {
            out.writeByte(INT);
            out.writeVarInt((Integer) value, false);
        } else if (type == String.class) {
            out.writeByte(STRING);
            out.writeString((String) value);
        } else if (type == byte[].class) {
            byte[] bytes = (byte[]) value;
            out.writeByte(BYTES);
            out.writeVarInt(bytes.length, true);
            out.writeBytes(bytes);
        } else if (type == Double.class) {
            out.writeByte(DOUBLE);
            out.writeDouble((Double) value);
        } else if (type == Boolean.class) {
            out.writeByte((Boolean) value ? TRUE : FALSE);
        } else if (value instanceof ByteBuffer buffer) {
            int start = out.position();
            try {
                writeBufferHead(out, buffer);
                out.writeVarInt(buffer.remaining(), true);
                if (buffer.hasArray()) {
                    out.writeBytes(buffer.array(), buffer.arrayOffset() + buffer.position(), buffer.remaining());
                } else {
                    byte[] bytes = new byte[buffer.remaining()];
                    buffer.duplicate().get(bytes);
                    out.writeBytes(bytes);
                }
            } catch (RuntimeException e) {
                out.setPosition(start);
                throw e;
            }
        } else {
            writeKryo(kryo, out, value);
        }
    }

    private static boolean isCompact(Class<?> type) {
        return type == Long.class || type == Integer.class || type == String.class || type == byte[].class
                || type == Double.class || type == Boolean.class || ByteBuffer.class.isAssignableFrom(type);
    }

    private static void writeKryo(Kryo kryo, Output out, Object value) {
        int start = out.position();
        out.writeByte(KRYO);
        out.writeInt(0);
        try {
            kryo.writeClassAndObject(out, value);
        } catch (RuntimeException | StackOverflowError e) {
            out.setPosition(start);
            throw e;
        }
        int end = out.position();
        out.setPosition(start + 1);
        out.writeInt(end - start - 5); // Kryo's own byte order, as readInt expects
        out.setPosition(end);
    }

    /**
     * True when writing failed only because the output reached its size cap (Kryo may wrap that in
     * exceptions of its own, or of a serializer that caught it): the value may fit in an emptier frame.
     */
    public static boolean isOverflow(Throwable failure) {
        for (Throwable t = failure; t != null; t = t.getCause()) {
            if (t instanceof KryoBufferOverflowException) {
                return true;
            }
            if (t.getCause() == t) {
                break;
            }
        }
        return false;
    }

    /** How many bytes {@link #write} takes for this value, counted without keeping them; -1 if it cannot be written. */
    public static long measure(Kryo kryo, Object value) {
        CountingStream counter = new CountingStream();
        try (Output out = new Output(counter, 64 * 1024)) {
            if (value == null || isCompact(value.getClass())) {
                write(kryo, out, value);
            } else { // as writeKryo, without going back to fill in the length: that byte may be gone already
                out.writeByte(KRYO);
                out.writeInt(0);
                kryo.writeClassAndObject(out, value);
            }
            out.flush();
            return counter.count;
        } catch (RuntimeException | StackOverflowError e) {
            return -1;
        }
    }

    private static final class CountingStream extends OutputStream {
        long count;

        @Override
        public void write(int b) {
            count++;
        }

        @Override
        public void write(byte[] b, int off, int len) {
            count += len;
        }
    }

    /** Reads one value; on failure the input is positioned after it and the error rethrown. */
    public static Object read(Kryo kryo, Input in) {
        return read(kryo, in, null);
    }

    /**
     * As {@link #read(Kryo, Input)}, values in {@code ring} read from it (and its room released, also when the
     * value cannot be rebuilt).
     */
    public static Object read(Kryo kryo, Input in, Ring ring) {
        byte tag = in.readByte();
        switch (tag) {
            case NULL:
                return null;
            case LONG:
                return in.readVarLong(false);
            case INT:
                return in.readVarInt(false);
            case STRING:
                return in.readString();
            case BYTES:
                return in.readBytes(in.readVarInt(true));
            case DOUBLE:
                return in.readDouble();
            case TRUE:
                return Boolean.TRUE;
            case FALSE:
                return Boolean.FALSE;
            case SEGMENT:
                return LargeValues.read(kryo, in);
            case RING:
                return RingValues.read(kryo, in, ring);
            case BUFFER:
                ByteOrder order = in.readByte() == 0 ? ByteOrder.BIG_ENDIAN : ByteOrder.LITTLE_ENDIAN;
                return ByteBuffer.wrap(in.readBytes(in.readVarInt(true))).order(order).asReadOnlyBuffer().order(order);
            case KRYO:
                int length = in.readInt();
                int end = in.position() + length;
                try {
                    return kryo.readClassAndObject(in);
                } finally {
                    in.setPosition(end);
                }
            default:
                throw new IllegalStateException("unknown element tag " + tag);
        }
    }

    /** Skips one value without rebuilding it (its call no longer wants it). */
    public static void skip(Kryo kryo, Input in) {
        skip(kryo, in, null);
    }

    /** As {@link #skip(Kryo, Input)}, releasing the room of a value in {@code ring}. */
    public static void skip(Kryo kryo, Input in, Ring ring) {
        int start = in.position();
        byte tag = in.readByte();
        if (tag == KRYO) {
            int length = in.readInt();
            in.setPosition(in.position() + length);
        } else if (tag == SEGMENT) {
            LargeValues.skip(in);
        } else if (tag == RING) {
            RingValues.skip(in, ring);
        } else {
            in.setPosition(start);
            read(kryo, in);
        }
    }
}
