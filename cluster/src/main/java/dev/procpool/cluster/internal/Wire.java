package dev.procpool.cluster.internal;

import com.esotericsoftware.kryo.kryo5.Kryo;
import com.esotericsoftware.kryo.kryo5.io.Input;
import com.esotericsoftware.kryo.kryo5.io.Output;
import dev.procpool.SerializableFunction;
import dev.procpool.SerializableRunnable;
import dev.procpool.internal.worker.KryoSetup;
import dev.procpool.internal.worker.TaskInvoker;

/**
 * User objects on the wire between client and members: the same Kryo setup the workers use.
 * Whatever the function's shape, the member's workers apply it through worker-launcher's
 * {@link TaskInvoker}, as a local pool's workers do.
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

    /**
     * What a member hands its local pool: the user's function still as the client's Kryo bytes. It is
     * read in the worker JVM (whose class path holds the shipped jars), once per worker
     * per call, and each input and result crosses the member as bytes. The member never re-serializes
     * user lambdas: Kryo's closure serializer looks their capturing class up with its own class loader,
     * which cannot see the member's per-session class loader.
     */
    static final class Opaque implements SerializableFunction<Object, Object> {
        private static final long serialVersionUID = 1L;
        private final byte[] function;
        private transient volatile Object resolved;

        Opaque(byte[] function) {
            this.function = function;
        }

        @Override
        public Object call(Object input) throws Exception {
            Object f = resolved;
            if (f == null) {
                f = read(function, loader());
                resolved = f;
            }
            Object value = TaskInvoker.invoke(f, read((byte[]) input, loader()));
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
