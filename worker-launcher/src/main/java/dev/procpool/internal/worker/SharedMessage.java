package dev.procpool.internal.worker;

import com.esotericsoftware.kryo.kryo5.io.Input;
import com.esotericsoftware.kryo.kryo5.io.Output;
import java.io.IOException;
import java.io.OutputStream;

/**
 * Values shared with {@code Pool.share}: SHARED_REQUEST, worker to parent, asks where shared value
 * {@code sharedId} is, the first time a task of this worker calls {@code get()} on it; SHARED_VALUE,
 * parent to worker, answers with the reference to the value's shared-memory segment (as
 * {@link LargeValues#writeShared} wrote it), or with no reference and the reason (closed, unknown);
 * SHARED_RELEASE, parent to worker, says the value was closed. Requests carry an id, answered once each.
 */
public final class SharedMessage {
    public static final byte REQUEST = FrameType.SHARED_REQUEST;
    public static final byte VALUE = FrameType.SHARED_VALUE;
    public static final byte RELEASE = FrameType.SHARED_RELEASE;

    private SharedMessage() {}

    public record Request(long requestId, long sharedId) {}

    /** {@code reference} null when the parent has no such value; {@code reason} then says why. */
    public record Answer(long requestId, byte[] reference, String reason) {}

    /** Writes a request; does not flush. */
    public static void writeRequest(OutputStream out, long requestId, long sharedId) throws IOException {
        Output payload = new Output(16);
        payload.writeLong(requestId);
        payload.writeLong(sharedId);
        FrameChannel.write(out, REQUEST, payload.getBuffer(), payload.position());
    }

    public static Request readRequest(FrameChannel.Frame frame) {
        Input in = frame.input();
        return new Request(in.readLong(), in.readLong());
    }

    /** Writes the answer: the segment reference, or null and the reason; does not flush. */
    public static void writeAnswer(OutputStream out, long requestId, byte[] reference, String reason) throws IOException {
        Output payload = new Output(64, -1);
        payload.writeLong(requestId);
        payload.writeBoolean(reference != null);
        if (reference == null) {
            payload.writeString(reason);
        } else {
            payload.writeVarInt(reference.length, true);
            payload.writeBytes(reference);
        }
        FrameChannel.write(out, VALUE, payload.getBuffer(), payload.position());
    }

    public static Answer readAnswer(FrameChannel.Frame frame) {
        Input in = frame.input();
        long id = in.readLong();
        if (!in.readBoolean()) {
            return new Answer(id, null, in.readString());
        }
        return new Answer(id, in.readBytes(in.readVarInt(true)), null);
    }

    /** Writes a release; does not flush. */
    public static void writeRelease(OutputStream out, long sharedId) throws IOException {
        Output payload = new Output(8);
        payload.writeLong(sharedId);
        FrameChannel.write(out, RELEASE, payload.getBuffer(), payload.position());
    }

    public static long readRelease(FrameChannel.Frame frame) {
        return frame.input().readLong();
    }
}
