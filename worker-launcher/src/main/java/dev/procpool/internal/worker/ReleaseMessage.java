package dev.procpool.internal.worker;

import com.esotericsoftware.kryo.kryo5.io.Output;
import java.io.IOException;
import java.io.OutputStream;

/** RELEASE, parent to worker: no more tasks will name this function id; the worker may drop it. */
public final class ReleaseMessage {
    public static final byte TYPE = FrameType.RELEASE;

    private ReleaseMessage() {}

    /** Writes the frame; does not flush. */
    public static void write(OutputStream out, long functionId) throws IOException {
        Output payload = new Output(8);
        payload.writeLong(functionId);
        FrameChannel.write(out, TYPE, payload.getBuffer(), payload.position());
    }

    /** The released function id. */
    public static long read(FrameChannel.Frame frame) {
        return frame.input().readLong();
    }
}
