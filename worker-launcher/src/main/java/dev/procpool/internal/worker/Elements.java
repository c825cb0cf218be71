package dev.procpool.internal.worker;

import com.esotericsoftware.kryo.kryo5.Kryo;
import com.esotericsoftware.kryo.kryo5.io.Input;
import com.esotericsoftware.kryo.kryo5.io.Output;

/**
 * One input or result inside a frame: a 4-byte length, then the value as Kryo writes it. The length
 * lets a reader skip a value it cannot rebuild, so one bad element fails only its own task.
 */
public final class Elements {
    private Elements() {}

    /** Writes one value; on failure the output is rewound to where it was and the error rethrown. */
    public static void write(Kryo kryo, Output out, Object value) {
        int start = out.position();
        out.writeInt(0);
        try {
            kryo.writeClassAndObject(out, value);
        } catch (RuntimeException | StackOverflowError e) {
            out.setPosition(start);
            throw e;
        }
        int end = out.position();
        out.setPosition(start);
        out.writeInt(end - start - 4); // Kryo's own byte order, as readInt expects
        out.setPosition(end);
    }

    /** Reads one value; on failure the input is positioned after it and the error rethrown. */
    public static Object read(Kryo kryo, Input in) {
        int length = in.readInt();
        int end = in.position() + length;
        try {
            return kryo.readClassAndObject(in);
        } finally {
            in.setPosition(end);
        }
    }
}
