package dev.procpool.internal.worker;

import com.esotericsoftware.kryo.kryo5.Kryo;
import com.esotericsoftware.kryo.kryo5.io.Input;
import com.esotericsoftware.kryo.kryo5.io.Output;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * The {@link Elements#RING} element: a value in the worker's {@link Ring} for its direction, with only a
 * reference in the frame: {@code RING, kind, [byte order], start, length}. The kinds are
 * {@link LargeValues}': primitive arrays and {@code ByteBuffer}s are their raw bytes in native order,
 * copied from the array into the ring and from the ring into the new array (one copy on each side); any
 * other value is its inline element encoding moved out of the frame ({@link LargeValues#ELEMENT}), copied
 * out and decoded. A {@code ByteBuffer} arrives as a read-only heap buffer, as when inline.
 *
 * <p>The reader releases every value it meets, read, skipped or failed to decode, so no value leaks ring
 * room; the writer takes back the room of a value whose reference did not make it into the frame.
 */
final class RingValues {
    private RingValues() {}

    /**
     * Writes a primitive array or ByteBuffer of at least the ring's threshold into the ring and its reference
     * into {@code out}; false, with {@code out} and the ring as they were, when it is none of those, too small
     * or too big, or the ring has no room now.
     */
    static boolean writeDirect(Output out, Object value, Ring ring) {
        byte kind = LargeValues.kindOf(value.getClass());
        ByteBuffer buffer = null;
        long bytes;
        if (kind >= 0) {
            bytes = (long) java.lang.reflect.Array.getLength(value) * LargeValues.elementBytes(kind);
        } else if (value instanceof ByteBuffer b) {
            buffer = b;
            kind = LargeValues.BUFFER;
            bytes = b.remaining();
        } else {
            return false;
        }
        if (!ring.wants(bytes)) {
            return false;
        }
        int length = (int) bytes;
        long start = ring.tryAllocate(length);
        if (start < 0) {
            return false;
        }
        try {
            if (kind == LargeValues.BYTES) {
                ring.put(start, (byte[]) value, 0, length);
            } else if (buffer != null) {
                ring.slice(start, length).put(buffer.duplicate());
            } else {
                putArray(ring.slice(start, length), kind, value);
            }
        } catch (InternalError noPage) {
            return pageNotAllocated(ring, start);
        } catch (RuntimeException | Error e) {
            ring.rollback(start);
            throw e;
        }
        try {
            writeReference(out, kind, buffer == null ? null : buffer.order(), start, length);
        } catch (RuntimeException | Error e) {
            ring.rollback(start);
            throw e;
        }
        return true;
    }

    private static void putArray(ByteBuffer to, byte kind, Object array) {
        switch (kind) {
            case LargeValues.LONGS -> to.asLongBuffer().put((long[]) array);
            case LargeValues.INTS -> to.asIntBuffer().put((int[]) array);
            case LargeValues.DOUBLES -> to.asDoubleBuffer().put((double[]) array);
            case LargeValues.FLOATS -> to.asFloatBuffer().put((float[]) array);
            case LargeValues.SHORTS -> to.asShortBuffer().put((short[]) array);
            case LargeValues.CHARS -> to.asCharBuffer().put((char[]) array);
            default -> throw new IllegalStateException("kind " + kind);
        }
    }

    /**
     * Moves the inline element written at {@code from..position} into the ring, leaving its reference; false,
     * the element left inline, when it is too small or too big for the ring or the ring has no room now.
     */
    static boolean move(Output out, int from, Ring ring) {
        int length = out.position() - from;
        if (!ring.wants(length)) {
            return false;
        }
        long start = ring.tryAllocate(length);
        if (start < 0) {
            return false;
        }
        try {
            ring.put(start, out.getBuffer(), from, length);
        } catch (InternalError noPage) {
            return pageNotAllocated(ring, start);
        }
        try {
            out.setPosition(from);
            writeReference(out, LargeValues.ELEMENT, null, start, length); // far smaller than what it replaces
        } catch (RuntimeException | Error e) {
            ring.rollback(start);
            throw e;
        }
        return true;
    }

    /**
     * A ring page touched for the first time could not be allocated (tmpfs or memory full): the kernel's
     * SIGBUS, which the JVM turns into an InternalError for a mapped buffer. The value takes the pipe.
     */
    private static boolean pageNotAllocated(Ring ring, long start) {
        ring.rollback(start);
        return false;
    }

    private static void writeReference(Output out, byte kind, ByteOrder order, long start, int length) {
        int mark = out.position();
        try {
            out.writeByte(Elements.RING);
            out.writeByte(kind);
            if (kind == LargeValues.BUFFER) {
                out.writeByte(order == ByteOrder.BIG_ENDIAN ? 0 : 1);
            }
            out.writeVarLong(start, true);
            out.writeVarInt(length, true);
        } catch (RuntimeException e) { // the frame is full even for a reference
            out.setPosition(mark);
            throw e;
        }
        Ring.published();
    }

    /** After the RING tag: reads the value out of {@code ring} and releases its room, whatever happens. */
    static Object read(Kryo kryo, Input in, Ring ring) {
        byte kind = in.readByte();
        ByteOrder order = kind == LargeValues.BUFFER
                ? (in.readByte() == 0 ? ByteOrder.BIG_ENDIAN : ByteOrder.LITTLE_ENDIAN) : null;
        long start = in.readVarLong(true);
        int length = in.readVarInt(true);
        if (ring == null) {
            throw new IllegalStateException("a value of " + length + " bytes in a shared-memory ring this side has not mapped");
        }
        try {
            ByteBuffer view = ring.view(start, length);
            return switch (kind) {
                case LargeValues.ELEMENT -> { // Kryo decodes a heap array faster than a direct buffer, byte by byte
                    byte[] encoded = new byte[length];
                    view.get(encoded);
                    yield Elements.read(kryo, new Input(encoded));
                }
                case LargeValues.BYTES -> {
                    byte[] bytes = new byte[length];
                    view.get(bytes);
                    yield bytes;
                }
                case LargeValues.BUFFER -> {
                    byte[] bytes = new byte[length];
                    view.get(bytes);
                    yield ByteBuffer.wrap(bytes).order(order).asReadOnlyBuffer().order(order);
                }
                default -> readArray(view, kind, length);
            };
        } finally {
            ring.release(start, length);
        }
    }

    private static Object readArray(ByteBuffer view, byte kind, int length) {
        int size = LargeValues.elementBytes(kind);
        if (length % size != 0) {
            throw new IllegalStateException("a ring value of " + length + " bytes is no array of kind " + kind);
        }
        int n = length / size;
        switch (kind) {
            case LargeValues.LONGS -> {
                long[] a = new long[n];
                view.asLongBuffer().get(a);
                return a;
            }
            case LargeValues.INTS -> {
                int[] a = new int[n];
                view.asIntBuffer().get(a);
                return a;
            }
            case LargeValues.DOUBLES -> {
                double[] a = new double[n];
                view.asDoubleBuffer().get(a);
                return a;
            }
            case LargeValues.FLOATS -> {
                float[] a = new float[n];
                view.asFloatBuffer().get(a);
                return a;
            }
            case LargeValues.SHORTS -> {
                short[] a = new short[n];
                view.asShortBuffer().get(a);
                return a;
            }
            case LargeValues.CHARS -> {
                char[] a = new char[n];
                view.asCharBuffer().get(a);
                return a;
            }
            default -> throw new IllegalStateException("unknown ring value kind " + kind);
        }
    }

    /** After the RING tag: passes over the reference and releases its room (nobody will read it). */
    static void skip(Input in, Ring ring) {
        byte kind = in.readByte();
        if (kind == LargeValues.BUFFER) {
            in.readByte();
        }
        long start = in.readVarLong(true);
        int length = in.readVarInt(true);
        if (ring != null) {
            ring.release(start, length);
        }
    }
}
