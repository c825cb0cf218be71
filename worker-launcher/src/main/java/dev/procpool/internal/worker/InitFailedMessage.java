package dev.procpool.internal.worker;

import com.esotericsoftware.kryo.kryo5.io.KryoBufferOverflowException;
import com.esotericsoftware.kryo.kryo5.io.Output;
import java.io.IOException;
import java.io.OutputStream;

/**
 * INIT_FAILED, worker to parent, instead of READY: the pool's initializer threw. The worker exits
 * with {@link WorkerExitCodes#INIT_FAILED} right after.
 */
public final class InitFailedMessage {
    public static final byte TYPE = FrameType.INIT_FAILED;

    private InitFailedMessage() {}

    /** Writes the frame; does not flush. */
    public static void write(OutputStream out, Throwable failure) throws IOException {
        RemoteFailure.Captured captured = RemoteFailure.capture(failure);
        Output payload = new Output(1024, FrameChannel.MAX_PAYLOAD);
        try {
            RemoteFailure.write(payload, captured, true);
        } catch (KryoBufferOverflowException tooBig) {
            payload.reset();
            RemoteFailure.write(payload, captured, false);
        }
        FrameChannel.write(out, TYPE, payload.getBuffer(), payload.position());
    }

    /** The initializer's failure, rebuilt with {@code loader} where its class is known. */
    public static RemoteFailure read(FrameChannel.Frame frame, ClassLoader loader) {
        return RemoteFailure.read(frame.input(), loader);
    }
}
