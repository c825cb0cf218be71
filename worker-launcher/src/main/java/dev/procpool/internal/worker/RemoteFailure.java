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
import java.io.PrintWriter;
import java.io.StringWriter;

/**
 * An exception as it crosses the channel: its class name, message and stack trace as text (always
 * readable), plus its Java serialization, from which the parent rebuilds the original exception
 * when its class can be loaded there.
 */
public record RemoteFailure(String className, String message, String stackTrace, Throwable rebuilt) {

    public static void write(Output out, Throwable failure) {
        out.writeString(failure.getClass().getName());
        out.writeString(failure.getMessage());
        StringWriter text = new StringWriter();
        failure.printStackTrace(new PrintWriter(text));
        out.writeString(text.toString());
        byte[] serialized = javaSerialize(failure);
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
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
            out.writeObject(failure);
        } catch (IOException | RuntimeException notSerializable) {
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
        } catch (IOException | ClassNotFoundException | RuntimeException | LinkageError notRebuildable) {
            return null;
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
