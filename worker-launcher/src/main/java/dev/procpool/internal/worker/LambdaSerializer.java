package dev.procpool.internal.worker;

import com.esotericsoftware.kryo.kryo5.Kryo;
import com.esotericsoftware.kryo.kryo5.KryoException;
import com.esotericsoftware.kryo.kryo5.Serializer;
import com.esotericsoftware.kryo.kryo5.io.Input;
import com.esotericsoftware.kryo.kryo5.io.Output;
import java.io.IOException;
import java.io.ObjectOutputStream;
import java.io.OutputStream;
import java.lang.invoke.SerializedLambda;
import java.lang.reflect.InaccessibleObjectException;
import java.lang.reflect.Method;

/**
 * Serializable lambdas and method references, through their {@link SerializedLambda} form.
 *
 * <p>Kryo's own closure serializer needs {@code java.lang.invoke} opened (the caller's JVM has no
 * flags) and otherwise resolves the capturing class with Kryo's class loader, so lambdas of classes in
 * a child class loader fail. This one writes the capturing class by name and rebuilds the lambda with
 * that class's own {@code $deserializeLambda$}, found through the reading Kryo's class loader.
 */
final class LambdaSerializer extends Serializer<Object> {

    @Override
    public void write(Kryo kryo, Output output, Object lambda) {
        SerializedLambda form = serializedForm(lambda);
        int captured = form.getCapturedArgCount();
        output.writeVarInt(captured, true);
        for (int i = 0; i < captured; i++) {
            kryo.writeClassAndObject(output, form.getCapturedArg(i));
        }
        output.writeString(form.getCapturingClass());
        output.writeString(form.getFunctionalInterfaceClass());
        output.writeString(form.getFunctionalInterfaceMethodName());
        output.writeString(form.getFunctionalInterfaceMethodSignature());
        output.writeVarInt(form.getImplMethodKind(), true);
        output.writeString(form.getImplClass());
        output.writeString(form.getImplMethodName());
        output.writeString(form.getImplMethodSignature());
        output.writeString(form.getInstantiatedMethodType());
    }

    @Override
    public Object read(Kryo kryo, Input input, Class<?> type) {
        int captured = input.readVarInt(true);
        Object[] arguments = new Object[captured];
        for (int i = 0; i < captured; i++) {
            arguments[i] = kryo.readClassAndObject(input);
        }
        String capturingName = input.readString().replace('/', '.');
        try {
            Class<?> capturing = Class.forName(capturingName, false, kryo.getClassLoader());
            SerializedLambda form = new SerializedLambda(capturing, input.readString(), input.readString(),
                    input.readString(), input.readVarInt(true), input.readString(), input.readString(),
                    input.readString(), input.readString(), arguments);
            Method rebuild = capturing.getDeclaredMethod("$deserializeLambda$", SerializedLambda.class);
            rebuild.setAccessible(true);
            return rebuild.invoke(null, form);
        } catch (ReflectiveOperationException | RuntimeException e) {
            throw new KryoException("cannot rebuild a lambda of " + capturingName + ": " + e, e);
        }
    }

    private static SerializedLambda serializedForm(Object lambda) {
        try {
            Method writeReplace = lambda.getClass().getDeclaredMethod("writeReplace");
            writeReplace.setAccessible(true);
            return (SerializedLambda) writeReplace.invoke(lambda);
        } catch (InaccessibleObjectException e) {
            return serializedFormThroughJdk(lambda, e);
        } catch (ReflectiveOperationException | RuntimeException e) {
            throw notSerializable(lambda, e);
        }
    }

    /**
     * A lambda of a named module that does not open its package to us: Java serialization may still call
     * its {@code writeReplace}, so let it, and take the {@link SerializedLambda} it hands to
     * {@code replaceObject} instead of writing it anywhere.
     */
    private static SerializedLambda serializedFormThroughJdk(Object lambda, RuntimeException inaccessible) {
        final class Capture extends ObjectOutputStream {
            SerializedLambda form;

            Capture() throws IOException {
                super(OutputStream.nullOutputStream());
                enableReplaceObject(true);
            }

            @Override
            protected Object replaceObject(Object object) {
                if (form == null && object instanceof SerializedLambda serialized) {
                    form = serialized;
                    return null; // its captured values need not be Serializable: Kryo writes them
                }
                return object;
            }
        }
        try (Capture capture = new Capture()) {
            capture.writeObject(lambda);
            if (capture.form != null) {
                return capture.form;
            }
        } catch (IOException | RuntimeException e) {
            inaccessible.addSuppressed(e);
        }
        throw notSerializable(lambda, inaccessible);
    }

    private static KryoException notSerializable(Object lambda, Exception cause) {
        return new KryoException("cannot serialize " + lambda.getClass().getName() + ": a lambda or method"
                + " reference that is not serializable. A java.util.function type (Function, Supplier, ...) held in a"
                + " variable and passed on, as f::apply, stays one: declare the variable as SerializableFunction,"
                + " SerializableBiFunction, SerializableCallable or SerializableRunnable", cause);
    }
}
