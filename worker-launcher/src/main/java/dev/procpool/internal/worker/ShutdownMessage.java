package dev.procpool.internal.worker;

import java.io.IOException;
import java.io.OutputStream;

/** SHUTDOWN, parent to worker, always last: run what is queued, answer it, exit with 0. */
public final class ShutdownMessage {
    public static final byte TYPE = FrameType.SHUTDOWN;
    private static final byte[] EMPTY = new byte[0];

    private ShutdownMessage() {}

    /** Writes the frame; does not flush. */
    public static void write(OutputStream out) throws IOException {
        FrameChannel.write(out, TYPE, EMPTY, 0);
    }
}
