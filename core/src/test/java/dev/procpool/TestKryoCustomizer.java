package dev.procpool;

import com.esotericsoftware.kryo.kryo5.Kryo;
import com.esotericsoftware.kryo.kryo5.Serializer;
import com.esotericsoftware.kryo.kryo5.io.Input;
import com.esotericsoftware.kryo.kryo5.io.Output;
import dev.procpool.spi.KryoCustomizer;

/** Registered in META-INF/services of the test class path, so the caller and the workers both apply it. */
public final class TestKryoCustomizer implements KryoCustomizer {

    /** Holds a thread, which procpool refuses to send: only a custom serializer makes it travel. */
    static final class ThreadTagged {
        final String tag;
        final transient Thread owner;

        ThreadTagged(String tag) {
            this.tag = tag;
            this.owner = Thread.currentThread();
        }
    }

    @Override
    public void customize(Kryo kryo) {
        kryo.register(ThreadTagged.class, new Serializer<ThreadTagged>() {
            @Override
            public void write(Kryo k, Output output, ThreadTagged value) {
                output.writeString(value.tag + "|written-by-customizer");
            }

            @Override
            public ThreadTagged read(Kryo k, Input input, Class<? extends ThreadTagged> type) {
                return new ThreadTagged(input.readString() + "|read-by-customizer");
            }
        });
    }
}
