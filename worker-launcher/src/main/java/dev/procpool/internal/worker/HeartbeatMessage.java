package dev.procpool.internal.worker;

import java.io.IOException;
import java.io.OutputStream;

/**
 * PING, parent to worker, and its answer PONG, worker to parent; both empty. The parent pings only a
 * worker it has heard nothing from for a while; the worker's stdin reader answers at once, even while
 * a task computes, so silence means the JVM itself is frozen or stuck.
 */
public final class HeartbeatMessage {
    public static final byte PING = FrameType.PING;
    public static final byte PONG = FrameType.PONG;
    private static final byte[] EMPTY = new byte[0];

    private HeartbeatMessage() {}

    /** Writes a PING or PONG frame; does not flush. */
    public static void write(OutputStream out, byte type) throws IOException {
        FrameChannel.write(out, type, EMPTY, 0);
    }
}
