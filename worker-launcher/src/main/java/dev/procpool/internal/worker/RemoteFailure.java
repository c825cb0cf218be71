package dev.procpool.internal.worker;

import com.esotericsoftware.kryo.kryo5.io.Input;
import com.esotericsoftware.kryo.kryo5.io.Output;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.io.ObjectStreamClass;

/**
 * An exception as it crosses the channel: its class name, message and stack trace as text (always
 * readable), plus its Java serialization, from which the parent rebuilds the original exception
 * when its class can be loaded there. An exception that fought being described ({@link ThrowableText})
 * travels as text only: the caller must be able to print what it gets.
 */
public record RemoteFailure(String className, String message, String stackTrace, Throwable rebuilt) {

    /** A failure read once on the side that threw it; can be written more than once. */
    public static final class Captured {
        final ThrowableText text;
        /** Empty when it cannot or should not be rebuilt. */
        final byte[] serialized;

        private Captured(ThrowableText text, byte[] serialized) {
            this.text = text;
            this.serialized = serialized;
        }
    }

    /** Reads the failure; never throws. */
    public static Captured capture(Throwable failure) {
        ThrowableText text = ThrowableText.of(failure);
        return new Captured(text, text.clean() ? javaSerialize(failure) : new byte[0]);
    }

    public static void write(Output out, Throwable failure) {
        write(out, capture(failure), true);
    }

    /**
     * Writes the failure; without its serialized form when {@code rebuildable} is false (it would not
     * fit in a frame), saying so in the stack trace. The text alone is bounded and always fits.
     */
    public static void write(Output out, Captured failure, boolean rebuildable) {
        ThrowableText text = failure.text;
        out.writeString(text.className());
        out.writeString(text.message());
        String trace = text.stackTrace();
        if (!rebuildable && failure.serialized.length > 0) {
            trace = "(its serialized form, " + failure.serialized.length + " bytes, was too big to send)\n" + trace;
        }
        out.writeString(trace);
        byte[] serialized = rebuildable ? failure.serialized : new byte[0];
        out.writeVarInt(serialized.length, true);
        out.writeBytes(serialized);
    }

    public static RemoteFailure read(Input in, ClassLoader classLoader) {
        String className = in.readString();
        String message = in.readString();
        String stackTrace = in.readString();
        byte[] serialized = in.readBytes(in.readVarInt(true));
        return new RemoteFailure(className, message, stackTrace, javaDeserialize(serialized, classLoader));
    }

    private static byte[] javaSerialize(Throwable failure) {
        CappedBytes bytes = new CappedBytes(FrameChannel.MAX_PAYLOAD);
        try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
            out.writeObject(failure);
        } catch (Throwable notSerializable) { // its writeObject is user code: an Error is as likely as an IOException
            return new byte[0]; // the text form still reaches the caller
        }
        return bytes.toByteArray();
    }

    private static Throwable javaDeserialize(byte[] serialized, ClassLoader classLoader) {
        if (serialized.length == 0) {
            return null;
        }
        try (ObjectInputStream in = new LoaderObjectInputStream(new ByteArrayInputStream(serialized), classLoader)) {
            return (Throwable) in.readObject();
        } catch (Throwable notRebuildable) { // readObject is user code too; the text form stands in
            return null;
        }
    }

    /** Stops a serialization that could never be sent before it fills the heap. */
    private static final class CappedBytes extends ByteArrayOutputStream {
        private final int cap;

        CappedBytes(int cap) {
            this.cap = cap;
        }

        @Override
        public synchronized void write(int b) {
            check(1);
            super.write(b);
        }

        @Override
        public synchronized void write(byte[] b, int off, int len) {
            check(len);
            super.write(b, off, len);
        }

        private void check(int more) {
            if ((long) count + more > cap) {
                throw new IllegalStateException("over " + cap + " bytes");
            }
        }
    }

    private static final class LoaderObjectInputStream extends ObjectInputStream {
        private final ClassLoader classLoader;

        LoaderObjectInputStream(InputStream in, ClassLoader classLoader) throws IOException {
            super(in);
            this.classLoader = classLoader;
        }

        @Override
        protected Class<?> resolveClass(ObjectStreamClass desc) throws IOException, ClassNotFoundException {
            try {
                return Class.forName(desc.getName(), false, classLoader);
            } catch (ClassNotFoundException e) {
                return super.resolveClass(desc);
            }
        }
    }
}
