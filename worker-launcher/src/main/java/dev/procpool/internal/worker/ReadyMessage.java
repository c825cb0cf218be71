package dev.procpool.internal.worker;

import com.esotericsoftware.kryo.kryo5.io.Input;
import com.esotericsoftware.kryo.kryo5.io.Output;
import java.io.IOException;
import java.io.OutputStream;

/** READY, worker to parent, once: the initializer ran and tasks may come. */
public record ReadyMessage(long pid, String javaVersion) {
    public static final byte TYPE = FrameType.READY;

    /** Writes the frame; does not flush. */
    public static void write(OutputStream out, long pid, String javaVersion) throws IOException {
        Output payload = new Output(64, -1);
        payload.writeLong(pid);
        payload.writeString(javaVersion);
        FrameChannel.write(out, TYPE, payload.getBuffer(), payload.position());
    }

    public static ReadyMessage read(FrameChannel.Frame frame) {
        Input in = frame.input();
        return new ReadyMessage(in.readLong(), in.readString());
    }
}
