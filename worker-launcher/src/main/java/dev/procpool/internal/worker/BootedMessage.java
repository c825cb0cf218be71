package dev.procpool.internal.worker;

import com.esotericsoftware.kryo.kryo5.io.Input;
import com.esotericsoftware.kryo.kryo5.io.Output;
import java.io.IOException;
import java.io.OutputStream;

/**
 * BOOTED, worker to parent, first: the JVM is up (Kryo set up, channel open) and has run no code of any
 * pool. The parent keeps such a JVM as a spare until a pool takes it by sending its CONFIG.
 */
public record BootedMessage(long pid) {
    public static final byte TYPE = FrameType.BOOTED;

    /** Writes the frame; does not flush. */
    public static void write(OutputStream out, long pid) throws IOException {
        Output payload = new Output(16, -1);
        payload.writeLong(pid);
        FrameChannel.write(out, TYPE, payload.getBuffer(), payload.position());
    }

    public static BootedMessage read(FrameChannel.Frame frame) {
        Input in = frame.input();
        return new BootedMessage(in.readLong());
    }
}
