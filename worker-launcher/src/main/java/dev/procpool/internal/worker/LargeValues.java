package dev.procpool.internal.worker;

import com.esotericsoftware.kryo.kryo5.Kryo;
import com.esotericsoftware.kryo.kryo5.io.ByteBufferInput;
import com.esotericsoftware.kryo.kryo5.io.Input;
import com.esotericsoftware.kryo.kryo5.io.Output;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.MappedByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.util.List;

/**
 * The {@link Elements#SEGMENT} element: a value in a shared-memory segment ({@link SharedSegments}), with
 * only a reference in the frame: {@code SEGMENT, kind, [byte order], file, length}.
 *
 * <p>Kinds: primitive arrays and {@code ByteBuffer}s are their raw bytes in native order, written from the
 * array and read straight from the mapping into the new array (one copy on each side). A {@code ByteBuffer}
 * is handed over as the read-only mapping itself (no copy; its memory goes when the buffer is collected,
 * the file being unlinked already). Other values are their inline element encoding moved out of the
 * frame ({@link #ELEMENT}), or, when too big for a frame, Kryo's stream written into the segment
 * ({@link #KRYO}); both are read from the mapping in place.
 */
final class LargeValues {
    static final byte ELEMENT = 0;
    static final byte KRYO = 1;
    static final byte BYTES = 2;
    static final byte SHORTS = 3;
    static final byte CHARS = 4;
    static final byte INTS = 5;
    static final byte LONGS = 6;
    static final byte FLOATS = 7;
    static final byte DOUBLES = 8;
    static final byte BUFFER = 9;

    private LargeValues() {}

    static byte kindOf(Class<?> type) {
        if (type == byte[].class) {
            return BYTES;
        } else if (type == long[].class) {
            return LONGS;
        } else if (type == int[].class) {
            return INTS;
        } else if (type == double[].class) {
            return DOUBLES;
        } else if (type == float[].class) {
            return FLOATS;
        } else if (type == short[].class) {
            return SHORTS;
        } else if (type == char[].class) {
            return CHARS;
        }
        return -1;
    }

    /** Primitive arrays and ByteBuffers: written straight from their memory, large when their bytes are. */
    static boolean isDirect(Object value) {
        return kindOf(value.getClass()) >= 0 || value instanceof ByteBuffer;
    }

    static int elementBytes(byte kind) {
        return switch (kind) {
            case BYTES, BUFFER -> 1;
            case SHORTS, CHARS -> 2;
            case INTS, FLOATS -> 4;
            case LONGS, DOUBLES -> 8;
            default -> throw new IllegalStateException("no element size for kind " + kind);
        };
    }

    /**
     * Writes a large primitive array or ByteBuffer into a segment and its reference into {@code out};
     * false (nothing written) when the value is not one, or not large. A segment that cannot be written
     * (a full tmpfs) leaves the value to the pipe, where it fits.
     */
    static boolean writeDirect(Output out, Object value, SharedSegments segments, List<Path> created) {
        byte kind = kindOf(value.getClass());
        ByteBuffer buffer = null;
        long bytes;
        if (kind >= 0) {
            bytes = (long) java.lang.reflect.Array.getLength(value) * elementBytes(kind);
        } else if (value instanceof ByteBuffer b) {
            buffer = b;
            kind = BUFFER;
            bytes = b.remaining();
        } else {
            return false;
        }
        if (!segments.isLarge(bytes)) {
            return false;
        }
        SharedSegments.Segment segment;
        try {
            segment = segments.create();
        } catch (IOException e) {
            return false;
        }
        try {
            if (buffer != null) {
                segment.write(buffer);
            } else {
                writeArray(segment, kind, value);
            }
            segment.close();
        } catch (IOException e) {
            segment.abandon();
            return false;
        } catch (RuntimeException | Error e) {
            segment.abandon();
            throw e;
        }
        writeReference(out, kind, buffer == null ? null : buffer.order(), segment.path, bytes, created);
        return true;
    }

    private static void writeArray(SharedSegments.Segment segment, byte kind, Object array) throws IOException {
        if (kind == BYTES) {
            byte[] b = (byte[]) array;
            segment.write(b, 0, b.length);
            return;
        }
        int length = java.lang.reflect.Array.getLength(array);
        int size = elementBytes(kind);
        for (int off = 0; off < length; ) {
            ByteBuffer stage = segment.stage((long) length * size);
            int n = Math.min(stage.capacity() / size, length - off);
            switch (kind) {
                case LONGS -> stage.asLongBuffer().put((long[]) array, off, n);
                case INTS -> stage.asIntBuffer().put((int[]) array, off, n);
                case DOUBLES -> stage.asDoubleBuffer().put((double[]) array, off, n);
                case FLOATS -> stage.asFloatBuffer().put((float[]) array, off, n);
                case SHORTS -> stage.asShortBuffer().put((short[]) array, off, n);
                case CHARS -> stage.asCharBuffer().put((char[]) array, off, n);
                default -> throw new IllegalStateException("kind " + kind);
            }
            stage.position(n * size);
            segment.writeStage();
            off += n;
        }
    }

    /** Moves the inline element written at {@code start..position} into a segment, leaving its reference. */
    static void move(Output out, int start, SharedSegments segments, List<Path> created) {
        int length = out.position() - start;
        SharedSegments.Segment segment;
        try {
            segment = segments.create();
        } catch (IOException e) {
            return; // it stays inline: it fits
        }
        try {
            segment.write(out.getBuffer(), start, length);
            segment.close();
        } catch (IOException e) {
            segment.abandon();
            return;
        }
        out.setPosition(start);
        writeReference(out, ELEMENT, null, segment.path, length, created);
    }

    /** Serializes {@code value} with Kryo into a new segment (it does not fit in the frame), and writes its reference. */
    static void writeStreamed(Kryo kryo, Output out, Object value, SharedSegments segments, List<Path> created) {
        SharedSegments.Segment segment;
        try {
            segment = segments.create();
        } catch (IOException e) {
            throw new IllegalStateException("a value too big for the pipe cannot go through shared memory either: " + e, e);
        }
        long length;
        try {
            try (Output stream = new Output(Channels.newOutputStream(segment.channel), SharedSegments.STAGE_BYTES)) {
                kryo.writeClassAndObject(stream, value);
                stream.flush();
                length = stream.total();
            }
            segment.close();
        } catch (RuntimeException | StackOverflowError e) {
            segment.abandon();
            throw e;
        } catch (IOException e) {
            segment.abandon();
            throw new IllegalStateException("cannot write a value to shared memory in " + segment.path.getParent()
                    + ": " + e, e);
        }
        writeReference(out, KRYO, null, segment.path, length, created);
    }

    private static void writeReference(Output out, byte kind, ByteOrder order, Path path, long length, List<Path> created) {
        int start = out.position();
        try {
            out.writeByte(Elements.SEGMENT);
            out.writeByte(kind);
            if (kind == BUFFER) {
                out.writeByte(order == ByteOrder.BIG_ENDIAN ? 0 : 1);
            }
            out.writeString(path.toString());
            out.writeVarLong(length, true);
        } catch (RuntimeException e) { // the frame is full even for a reference
            out.setPosition(start);
            SharedSegments.delete(path);
            throw e;
        }
        if (created != null) {
            created.add(path);
        }
    }

    /** After the SEGMENT tag: reads the value, unlinking the segment first thing. */
    static Object read(Kryo kryo, Input in) {
        Reference ref = Reference.read(in);
        FileChannel channel;
        try {
            channel = SharedSegments.openAndUnlink(ref.file);
        } catch (IOException e) {
            throw new IllegalStateException("cannot open the shared-memory segment of a value of " + ref.length + " bytes: " + e, e);
        }
        return readFrom(kryo, channel, ref.kind, ref.order, ref.file, ref.length);
    }

    /** Reads the value of a segment opened by its reader; closes the channel (a mapping handed out stays valid). */
    private static Object readFrom(Kryo kryo, FileChannel channel, byte kind, ByteOrder order, String file, long length) {
        try (channel) {
            long size = channel.size();
            if (size != length) {
                throw new IllegalStateException("shared-memory segment " + file + " holds " + size + " bytes, expected " + length);
            }
            return switch (kind) {
                case ELEMENT -> readInPlace(channel, length, input -> Elements.read(kryo, input));
                case KRYO -> readKryo(kryo, channel, length);
                case BUFFER -> SharedSegments.map(channel, 0, length).order(order);
                default -> readArray(channel, kind, length);
            };
        } catch (IOException e) {
            throw new IllegalStateException("cannot read a value of " + length + " bytes from shared memory: " + e, e);
        }
    }

    private interface Reader {
        Object read(Input in);
    }

    private static Object readInPlace(FileChannel channel, long length, Reader reader) throws IOException {
        MappedByteBuffer mapped = SharedSegments.map(channel, 0, length);
        try {
            return reader.read(new ByteBufferInput(mapped));
        } finally {
            SharedSegments.unmap(mapped);
        }
    }

    private static Object readKryo(Kryo kryo, FileChannel channel, long length) throws IOException {
        if (length <= Integer.MAX_VALUE - 8) {
            return readInPlace(channel, length, kryo::readClassAndObject);
        }
        try (Input in = new Input(Channels.newInputStream(channel), SharedSegments.STAGE_BYTES)) {
            return kryo.readClassAndObject(in);
        }
    }

    private static Object readArray(FileChannel channel, byte kind, long length) throws IOException {
        int size = elementBytes(kind);
        long count = length / size;
        if (count * size != length || count > Integer.MAX_VALUE - 8) {
            throw new IllegalStateException("a segment of " + length + " bytes is no array of kind " + kind);
        }
        int n = (int) count;
        Object array = switch (kind) {
            case BYTES -> new byte[n];
            case LONGS -> new long[n];
            case INTS -> new int[n];
            case DOUBLES -> new double[n];
            case FLOATS -> new float[n];
            case SHORTS -> new short[n];
            case CHARS -> new char[n];
            default -> throw new IllegalStateException("unknown segment kind " + kind);
        };
        // read(2) through a small direct buffer, not a mapping: no page faults on the segment, and its pages
        // never count in this process's RSS (a mapping's do until unmapped)
        ByteBuffer stage = ByteBuffer.allocateDirect(SharedSegments.STAGE_BYTES).order(ByteOrder.nativeOrder());
        try {
            int perStage = SharedSegments.STAGE_BYTES / size;
            for (int off = 0; off < n; off += perStage) {
                int k = Math.min(perStage, n - off);
                stage.clear().limit(k * size);
                long position = (long) off * size;
                while (stage.hasRemaining()) {
                    if (channel.read(stage, position + stage.position()) < 0) {
                        throw new IOException("shared-memory segment ended early at byte " + (position + stage.position()));
                    }
                }
                stage.flip();
                switch (kind) {
                    case BYTES -> stage.get((byte[]) array, off, k);
                    case LONGS -> stage.asLongBuffer().get((long[]) array, off, k);
                    case INTS -> stage.asIntBuffer().get((int[]) array, off, k);
                    case DOUBLES -> stage.asDoubleBuffer().get((double[]) array, off, k);
                    case FLOATS -> stage.asFloatBuffer().get((float[]) array, off, k);
                    case SHORTS -> stage.asShortBuffer().get((short[]) array, off, k);
                    case CHARS -> stage.asCharBuffer().get((char[]) array, off, k);
                    default -> throw new IllegalStateException("kind " + kind);
                }
            }
        } finally {
            SharedSegments.unmap(stage);
        }
        return array;
    }

    /**
     * Writes a shared value into a segment of its own, whatever its size, for {@link #readShared} in any
     * number of workers: primitive arrays and ByteBuffers as their raw bytes, anything else as Kryo's
     * stream. The segment is the caller's to delete. Throws when it cannot be written (a full tmpfs) or
     * the value cannot be serialized.
     */
    static SharedSegments.SharedFile writeShared(Kryo kryo, Object value, SharedSegments segments) throws IOException {
        Output out = new Output(256, -1);
        List<Path> created = new java.util.ArrayList<>(1);
        if (isDirect(value)) {
            if (!writeDirect(out, value, segments.withoutThreshold(), created)) {
                throw new IOException("cannot write a " + value.getClass().getSimpleName() + " into a shared-memory"
                        + " segment in " + segments.folder() + " (is it full?)");
            }
        } else {
            writeStreamed(kryo, out, value, segments, created);
        }
        return new SharedSegments.SharedFile(created.get(0), out.toBytes());
    }

    /**
     * Reads a shared value from the reference {@link #writeShared} made, leaving the segment in place (its
     * owner deletes it when the value is closed): arrays are copied out of the mapping, a ByteBuffer is the
     * read-only mapping itself, other values are decoded from it.
     */
    static Object readShared(Kryo kryo, byte[] reference) {
        Input in = new Input(reference);
        if (in.readByte() != Elements.SEGMENT) {
            throw new IllegalStateException("not a shared-memory reference");
        }
        Reference ref = Reference.read(in);
        FileChannel channel;
        try {
            channel = SharedSegments.openShared(ref.file);
        } catch (IOException e) {
            throw new IllegalStateException("cannot open the shared-memory segment of the value (" + ref.length
                    + " bytes; closed meanwhile?): " + e, e);
        }
        return readFrom(kryo, channel, ref.kind, ref.order, ref.file, ref.length);
    }

    /** What follows the SEGMENT tag: {@code kind, [byte order], file, length}. */
    private record Reference(byte kind, ByteOrder order, String file, long length) {
        static Reference read(Input in) {
            byte kind = in.readByte();
            ByteOrder order = kind == BUFFER ? (in.readByte() == 0 ? ByteOrder.BIG_ENDIAN : ByteOrder.LITTLE_ENDIAN) : null;
            String file = in.readString();
            return new Reference(kind, order, file, in.readVarLong(true));
        }
    }

    /** After the SEGMENT tag: passes over the reference, unlinking its segment (nobody will read it). */
    static void skip(Input in) {
        byte kind = in.readByte();
        if (kind == BUFFER) {
            in.readByte();
        }
        String file = in.readString();
        in.readVarLong(true);
        SharedSegments.unlink(file);
    }
}
