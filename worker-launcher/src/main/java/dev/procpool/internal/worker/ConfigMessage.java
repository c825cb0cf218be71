package dev.procpool.internal.worker;

import com.esotericsoftware.kryo.kryo5.Kryo;
import com.esotericsoftware.kryo.kryo5.io.Output;
import java.io.IOException;
import java.io.OutputStream;

/**
 * CONFIG, parent to worker, first after the worker's BOOTED: the pool's initializer or none. The Kryo
 * customizers are not here: a worker needs them before its first Kryo, which it makes before BOOTED (a
 * spare waits ready to decode), so they come on its command line ({@link KryoSetup#CUSTOMIZERS_PROPERTY}).
 */
public final class ConfigMessage {
    public static final byte TYPE = FrameType.CONFIG;

    private ConfigMessage() {}

    /** Writes the frame; does not flush. A cold Kryo costs ~100 ms, so none is made without an initializer. */
    public static void write(OutputStream out, Object initializer, ClassLoader loader) throws IOException {
        Output payload = new Output(256, -1);
        if (initializer == null) {
            payload.writeByte(Kryo.NULL); // Kryo's own form of null
        } else {
            KryoSetup.newKryo(loader).writeClassAndObject(payload, initializer);
        }
        FrameChannel.write(out, TYPE, payload.getBuffer(), payload.position());
    }

    /** The initializer, or null; throws what Kryo throws when it cannot be rebuilt. */
    public static Object readInitializer(Kryo kryo, FrameChannel.Frame frame) {
        return kryo.readClassAndObject(frame.input());
    }
}
