package dev.procpool.internal.worker;

import com.esotericsoftware.kryo.kryo5.Kryo;
import com.esotericsoftware.kryo.kryo5.io.Output;
import com.esotericsoftware.kryo.kryo5.io.Input;
import java.io.IOException;
import java.io.OutputStream;
import java.util.ArrayList;
import java.util.List;

/**
 * CONFIG, parent to worker, always first: the class names of the caller's {@link KryoSetup}
 * customizers (plain strings, read before the worker has a Kryo), then the pool's initializer or none.
 */
public final class ConfigMessage {
    public static final byte TYPE = FrameType.CONFIG;

    private ConfigMessage() {}

    /** Writes the frame; does not flush. A cold Kryo costs ~100 ms, so none is made without an initializer. */
    public static void write(OutputStream out, Object initializer, ClassLoader loader) throws IOException {
        Output payload = new Output(256, -1);
        List<String> customizers = KryoSetup.customizerNames();
        payload.writeVarInt(customizers.size(), true);
        for (String name : customizers) {
            payload.writeString(name);
        }
        if (initializer == null) {
            payload.writeByte(Kryo.NULL); // Kryo's own form of null
        } else {
            KryoSetup.newKryo(loader).writeClassAndObject(payload, initializer);
        }
        FrameChannel.write(out, TYPE, payload.getBuffer(), payload.position());
    }

    /** The customizers' class names, read without a Kryo (the worker makes its first one after). */
    public static List<String> readCustomizers(FrameChannel.Frame frame) {
        Input input = frame.input();
        int count = input.readVarInt(true);
        List<String> names = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            names.add(input.readString());
        }
        return names;
    }

    /** The initializer, or null; throws what Kryo throws when it cannot be rebuilt. */
    public static Object readInitializer(Kryo kryo, FrameChannel.Frame frame) {
        Input input = frame.input();
        int count = input.readVarInt(true);
        for (int i = 0; i < count; i++) {
            input.readString();
        }
        return kryo.readClassAndObject(input);
    }
}
