package dev.procpool.internal.worker;

import com.esotericsoftware.kryo.kryo5.io.Input;
import com.esotericsoftware.kryo.kryo5.io.Output;
import java.io.IOException;
import java.io.OutputStream;

/**
 * Code on demand: CLASS_REQUEST and RESOURCE_REQUEST, worker to parent, ask for the bytes of a class or
 * a resource that the worker's class path lacks, as the caller's class loader {@code scope} sees it
 * (the scope a FUNCTION frame names); CLASS_BYTES and RESOURCE_BYTES, parent to worker, answer with the
 * bytes or with "not found" and the reason. Requests carry an id, answered once each, in any order.
 */
public final class CodeMessage {
    public static final byte CLASS_REQUEST = FrameType.CLASS_REQUEST;
    public static final byte RESOURCE_REQUEST = FrameType.RESOURCE_REQUEST;
    public static final byte CLASS_BYTES = FrameType.CLASS_BYTES;
    public static final byte RESOURCE_BYTES = FrameType.RESOURCE_BYTES;

    private CodeMessage() {}

    /** A request: {@code name} is a binary class name (CLASS_REQUEST) or a resource name. */
    public record Request(byte type, long id, long scope, String name) {
        public boolean forClass() {
            return type == CLASS_REQUEST;
        }
    }

    /** An answer: {@code bytes} null when not found, then {@code reason} says why. */
    public record Answer(long id, byte[] bytes, String reason) {}

    public static boolean isRequest(byte type) {
        return type == CLASS_REQUEST || type == RESOURCE_REQUEST;
    }

    public static boolean isAnswer(byte type) {
        return type == CLASS_BYTES || type == RESOURCE_BYTES;
    }

    /** Writes a request; does not flush. */
    public static void writeRequest(OutputStream out, byte type, long id, long scope, String name) throws IOException {
        Output payload = new Output(64, -1);
        payload.writeLong(id);
        payload.writeLong(scope);
        payload.writeString(name);
        FrameChannel.write(out, type, payload.getBuffer(), payload.position());
    }

    public static Request readRequest(FrameChannel.Frame frame) {
        Input in = frame.input();
        return new Request(frame.type(), in.readLong(), in.readLong(), in.readString());
    }

    /** Writes the answer to {@code request}: its bytes, or null and the reason; does not flush. */
    public static void writeAnswer(OutputStream out, Request request, byte[] bytes, String reason) throws IOException {
        byte type = request.forClass() ? CLASS_BYTES : RESOURCE_BYTES;
        Output head = new Output(64, -1);
        head.writeLong(request.id());
        head.writeBoolean(bytes != null);
        if (bytes == null) {
            head.writeString(reason);
            FrameChannel.write(out, type, head.getBuffer(), head.position());
        } else {
            head.writeVarInt(bytes.length, true);
            FrameChannel.write(out, type, head.getBuffer(), head.position(), bytes, bytes.length);
        }
    }

    public static Answer readAnswer(FrameChannel.Frame frame) {
        Input in = frame.input();
        long id = in.readLong();
        if (!in.readBoolean()) {
            return new Answer(id, null, in.readString());
        }
        return new Answer(id, in.readBytes(in.readVarInt(true)), null);
    }
}
