package dev.procpool.cluster.internal;

import com.esotericsoftware.kryo.kryo5.Kryo;
import com.esotericsoftware.kryo.kryo5.io.Input;
import com.esotericsoftware.kryo.kryo5.io.Output;
import dev.procpool.SerializableBiFunction;
import dev.procpool.SerializableCallable;
import dev.procpool.SerializableFunction;
import dev.procpool.SerializableRunnable;
import dev.procpool.internal.worker.KryoSetup;
import java.util.Map;

/**
 * User objects on the wire between client and members: the same Kryo setup the workers use.
 *
 * <p>The function kinds and {@link #asFunction} repeat worker-launcher's {@code TaskInvoker} (the
 * shape dispatch of worker JVMs); they go once the wire is defined in one place there.
 */
final class Wire {
    static final byte FUNCTION = 0;
    static final byte BIFUNCTION = 1;
    static final byte CALLABLE = 2;
    static final byte RUNNABLE = 3;

    private static final ThreadLocal<Kryo> KRYO = ThreadLocal.withInitial(() -> KryoSetup.newKryo(Wire.class.getClassLoader()));

    private Wire() {}

    static byte[] write(Object value, ClassLoader loader) {
        Kryo kryo = KRYO.get();
        ClassLoader previous = kryo.getClassLoader();
        kryo.setClassLoader(loader);
        try (Output out = new Output(256, -1)) {
            kryo.writeClassAndObject(out, value);
            return out.toBytes();
        } finally {
            kryo.setClassLoader(previous);
            kryo.reset();
        }
    }

    static Object read(byte[] bytes, ClassLoader loader) {
        Kryo kryo = KRYO.get();
        ClassLoader previous = kryo.getClassLoader();
        kryo.setClassLoader(loader);
        try (Input in = new Input(bytes)) {
            return kryo.readClassAndObject(in);
        } finally {
            kryo.setClassLoader(previous);
            kryo.reset();
        }
    }

    static byte kindOf(Object function) {
        if (function instanceof SerializableFunction<?, ?>) {
            return FUNCTION;
        } else if (function instanceof SerializableBiFunction<?, ?, ?>) {
            return BIFUNCTION;
        } else if (function instanceof SerializableCallable<?>) {
            return CALLABLE;
        } else if (function instanceof SerializableRunnable) {
            return RUNNABLE;
        }
        throw new IllegalArgumentException("not a procpool function: " + function.getClass());
    }

    /** The member runs everything as a one-argument function (the only shape of the lazy calls). */
    @SuppressWarnings({"unchecked", "rawtypes"})
    static SerializableFunction<Object, Object> asFunction(byte kind, Object function) {
        return switch (kind) {
            case FUNCTION -> (SerializableFunction<Object, Object>) function;
            case BIFUNCTION -> new Spread((SerializableBiFunction) function);
            case CALLABLE -> new Call((SerializableCallable<?>) function);
            case RUNNABLE -> new Run((SerializableRunnable) function);
            default -> throw new IllegalArgumentException("unknown function kind " + kind);
        };
    }

    /** starmap: a pair in, both halves to the two-argument function (runs in the worker JVM). */
    static final class Spread implements SerializableFunction<Object, Object> {
        private static final long serialVersionUID = 1L;
        private final SerializableBiFunction<Object, Object, Object> function;

        Spread(SerializableBiFunction<Object, Object, Object> function) {
            this.function = function;
        }

        @Override
        public Object call(Object pair) throws Exception {
            Map.Entry<?, ?> entry = (Map.Entry<?, ?>) pair;
            return function.call(entry.getKey(), entry.getValue());
        }
    }

    /** submit(Callable): the input is ignored; checked exceptions pass through unchanged. */
    static final class Call implements SerializableFunction<Object, Object> {
        private static final long serialVersionUID = 1L;
        private final SerializableCallable<?> task;

        Call(SerializableCallable<?> task) {
            this.task = task;
        }

        @Override
        public Object call(Object ignored) throws Exception {
            return task.call();
        }
    }

    static final class Run implements SerializableFunction<Object, Object> {
        private static final long serialVersionUID = 1L;
        private final SerializableRunnable task;

        Run(SerializableRunnable task) {
            this.task = task;
        }

        @Override
        public Object call(Object ignored) throws Exception {
            task.call();
            return null;
        }
    }

    /**
     * What a member hands its local pool: the user's function still as the client's Kryo bytes. It is
     * read in the worker JVM (whose class path holds the shipped jars), once per worker
     * per call, and each input and result crosses the member as bytes. The member never re-serializes
     * user lambdas: Kryo's closure serializer looks their capturing class up with its own class loader,
     * which cannot see the member's per-session class loader.
     */
    static final class Opaque implements SerializableFunction<Object, Object> {
        private static final long serialVersionUID = 1L;
        private final byte kind;
        private final byte[] function;
        private transient volatile SerializableFunction<Object, Object> resolved;

        Opaque(byte kind, byte[] function) {
            this.kind = kind;
            this.function = function;
        }

        @Override
        public Object call(Object input) throws Exception {
            SerializableFunction<Object, Object> f = resolved;
            if (f == null) {
                f = asFunction(kind, read(function, loader()));
                resolved = f;
            }
            Object value = f.call(read((byte[]) input, loader()));
            return write(value, loader());
        }

        private static ClassLoader loader() {
            ClassLoader context = Thread.currentThread().getContextClassLoader();
            return context != null ? context : ClassLoader.getSystemClassLoader();
        }
    }

    /** The pool's initializer, read in the worker JVM like {@link Opaque}. */
    static final class OpaqueRunnable implements SerializableRunnable {
        private static final long serialVersionUID = 1L;
        private final byte[] task;

        OpaqueRunnable(byte[] task) {
            this.task = task;
        }

        @Override
        public void call() {
            ((Runnable) read(task, Opaque.loader())).run();
        }
    }

}
