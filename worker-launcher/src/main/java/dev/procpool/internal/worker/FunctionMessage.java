package dev.procpool.internal.worker;

import com.esotericsoftware.kryo.kryo5.Kryo;
import com.esotericsoftware.kryo.kryo5.io.Input;
import com.esotericsoftware.kryo.kryo5.io.Output;
import java.io.IOException;
import java.io.OutputStream;

/**
 * FUNCTION, parent to worker: a task function and the id later TASKS frames name it by. The parent
 * encodes a function once ({@link #encode}) and sends those bytes to every worker that needs it.
 *
 * @param function the function, or an {@link Unreadable} when the worker could not rebuild it
 */
public record FunctionMessage(long id, Object function) {
    public static final byte TYPE = FrameType.FUNCTION;
    /** The largest encoded function a frame carries, after the id. */
    public static final int MAX_ENCODED_BYTES = FrameChannel.MAX_PAYLOAD - 8;

    /** The function's body bytes; throws what Kryo throws when it cannot be serialized. */
    public static byte[] encode(Kryo kryo, Object function) {
        Output out = new Output(256, -1);
        Elements.write(kryo, out, function);
        return out.toBytes();
    }

    /** Writes the frame; does not flush. */
    public static void write(OutputStream out, long id, byte[] encodedFunction) throws IOException {
        Output head = new Output(8);
        head.writeLong(id);
        FrameChannel.write(out, TYPE, head.getBuffer(), head.position(), encodedFunction, encodedFunction.length);
    }

    public static FunctionMessage read(Kryo kryo, FrameChannel.Frame frame) {
        Input in = frame.input();
        long id = in.readLong();
        Object function;
        try {
            function = Elements.read(kryo, in);
        } catch (Throwable failure) { // a missing class, a failing readObject: only the tasks that use it fail
            function = new Unreadable("the function", failure);
        }
        return new FunctionMessage(id, function);
    }
}
