package dev.procpool.internal.worker;

import com.esotericsoftware.kryo.kryo5.io.Input;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;

/**
 * The frame format shared by both ends: a 9-byte header (magic int, type byte, payload length int,
 * big-endian) then the payload. Readers check the magic and the length bound on every frame, so
 * stray bytes on the channel are detected at once instead of being taken as a huge length.
 */
public final class FrameChannel {
    /** "PPL1". */
    public static final int MAGIC = 0x50504C31;
    public static final int HEADER_BYTES = 9;
    /** Largest payload either side accepts: larger frames are a protocol error, never an allocation. */
    public static final int MAX_PAYLOAD = 512 * 1024 * 1024;
    /** Readers keep a payload buffer of up to this size between frames; larger frames get their own. */
    public static final int KEPT_BUFFER_MAX = 8 * 1024 * 1024;

    private FrameChannel() {}

    /**
     * What the caller reads when a value cannot travel because of {@link #MAX_PAYLOAD}: its size
     * (negative when even counting it failed) and the limit.
     */
    public static String tooLarge(String what, long serializedBytes) {
        return what + (serializedBytes < 0 ? " is too big" : " is " + serializedBytes + " bytes serialized")
                + ", over the limit of " + MAX_PAYLOAD + " bytes for one message between the caller and a worker JVM";
    }

    /** A frame as read: its type and payload (the payload array may be longer than {@code length}). */
    public record Frame(byte type, byte[] payload, int length) {
        /** A Kryo input over the payload, for the message types to decode. */
        public Input input() {
            return new Input(payload, 0, length);
        }
    }

    /** The buffer to read the next frame into: the last payload if it grew the kept one within bounds. */
    public static byte[] keep(byte[] payload, byte[] kept) {
        return payload.length > kept.length && payload.length <= KEPT_BUFFER_MAX ? payload : kept;
    }

    /** Writes one frame; does not flush. */
    public static void write(OutputStream out, byte type, byte[] payload, int length) throws IOException {
        write(out, type, payload, length, payload, 0);
    }

    /** Writes one frame whose payload is {@code head} then {@code body}, without joining them first. */
    public static void write(OutputStream out, byte type, byte[] head, int headLength, byte[] body, int bodyLength)
            throws IOException {
        long length = (long) headLength + bodyLength;
        if (length > MAX_PAYLOAD) {
            throw new FrameTooLargeException(length);
        }
        byte[] header = new byte[HEADER_BYTES];
        putInt(header, 0, MAGIC);
        header[4] = type;
        putInt(header, 5, (int) length);
        out.write(header);
        out.write(head, 0, headLength);
        if (bodyLength > 0) {
            out.write(body, 0, bodyLength);
        }
    }

    /**
     * Reads one frame, or returns null at a clean end of stream (no byte of a new frame read).
     *
     * @throws CorruptFrameException when the magic or the length is wrong, or the stream ends inside a frame
     */
    public static Frame read(InputStream in) throws IOException {
        return read(in, null);
    }

    /**
     * As {@link #read(InputStream)}, reading the payload into {@code reuse} when it fits: the frame is
     * then only valid until the next read with the same buffer. Saves an allocation per frame, which
     * for large payloads is a humongous one.
     */
    public static Frame read(InputStream in, byte[] reuse) throws IOException {
        byte[] header = new byte[HEADER_BYTES];
        int first = in.read();
        if (first < 0) {
            return null;
        }
        header[0] = (byte) first;
        readFully(in, header, 1, HEADER_BYTES - 1);
        int magic = getInt(header, 0);
        if (magic != MAGIC) {
            throw new CorruptFrameException(String.format(
                    "bad frame magic 0x%08x (expected 0x%08x): something else wrote to the channel", magic, MAGIC));
        }
        int length = getInt(header, 5);
        if (length < 0 || length > MAX_PAYLOAD) {
            throw new CorruptFrameException("frame length " + length + " outside 0.." + MAX_PAYLOAD);
        }
        byte[] payload = reuse != null && reuse.length >= length ? reuse : new byte[length];
        readFully(in, payload, 0, length);
        return new Frame(header[4], payload, length);
    }

    private static void readFully(InputStream in, byte[] b, int off, int len) throws IOException {
        while (len > 0) {
            int n = in.read(b, off, len);
            if (n < 0) {
                throw new CorruptFrameException("stream ended inside a frame", new EOFException());
            }
            off += n;
            len -= n;
        }
    }

    static void putInt(byte[] b, int off, int v) {
        b[off] = (byte) (v >>> 24);
        b[off + 1] = (byte) (v >>> 16);
        b[off + 2] = (byte) (v >>> 8);
        b[off + 3] = (byte) v;
    }

    static int getInt(byte[] b, int off) {
        return (b[off] & 0xff) << 24 | (b[off + 1] & 0xff) << 16 | (b[off + 2] & 0xff) << 8 | (b[off + 3] & 0xff);
    }

    /** The channel carried bytes that are not a frame. */
    public static final class CorruptFrameException extends IOException {
        public CorruptFrameException(String message) {
            super(message);
        }

        public CorruptFrameException(String message, Throwable cause) {
            super(message, cause);
        }
    }

    /** A payload over {@link #MAX_PAYLOAD}. */
    public static final class FrameTooLargeException extends IOException {
        public FrameTooLargeException(long length) {
            super("frame payload of " + length + " bytes exceeds the limit of " + MAX_PAYLOAD + " bytes");
        }
    }
}
