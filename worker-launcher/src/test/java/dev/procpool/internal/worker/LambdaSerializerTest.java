package dev.procpool.internal.worker;

import static org.assertj.core.api.Assertions.assertThat;

import com.esotericsoftware.kryo.kryo5.Kryo;
import com.esotericsoftware.kryo.kryo5.io.Input;
import com.esotericsoftware.kryo.kryo5.io.Output;
import java.io.Serializable;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.Function;
import javax.tools.ToolProvider;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Runs in a JVM without --add-opens, like the caller's. */
class LambdaSerializerTest {
    @TempDir
    Path dir;

    interface SerializableFunction<T, R> extends Function<T, R>, Serializable {}

    record Offset(int by) {}

    static int twice(int x) {
        return 2 * x;
    }

    @SuppressWarnings("unchecked")
    private static <T> T roundTrip(Object value, ClassLoader readLoader) {
        Kryo writer = KryoSetup.newKryo(LambdaSerializerTest.class.getClassLoader());
        Output out = new Output(256, -1);
        Elements.write(writer, out, value);
        Kryo reader = KryoSetup.newKryo(readLoader);
        return (T) Elements.read(reader, new Input(out.getBuffer(), 0, out.position()));
    }

    @Test
    void capturingLambdasAndMethodReferencesRoundTrip() {
        Offset offset = new Offset(5);
        SerializableFunction<Integer, Integer> capturing = x -> x + offset.by();
        SerializableFunction<Integer, Integer> reference = LambdaSerializerTest::twice;
        SerializableFunction<Integer, String> bound = "v"::repeat;
        ClassLoader loader = getClass().getClassLoader();

        assertThat(LambdaSerializerTest.<Function<Integer, Integer>>roundTrip(capturing, loader).apply(1)).isEqualTo(6);
        assertThat(LambdaSerializerTest.<Function<Integer, Integer>>roundTrip(reference, loader).apply(4)).isEqualTo(8);
        assertThat(LambdaSerializerTest.<Function<Integer, String>>roundTrip(bound, loader).apply(3)).isEqualTo("vvv");
    }

    @Test
    void aLambdaOfAClassInAChildClassLoaderIsRebuiltThroughThatLoader() throws Exception {
        Path source = dir.resolve("Shipped.java");
        Files.writeString(source, "import java.util.function.Function;\n"
                + "public class Shipped {\n"
                + "  public static Function<Integer, Integer> adder(int k) {\n"
                + "    return (Function<Integer, Integer> & java.io.Serializable) x -> x + k;\n"
                + "  }\n"
                + "}\n");
        assertThat(ToolProvider.getSystemJavaCompiler().run(null, null, null, source.toString())).isZero();
        try (URLClassLoader child = new URLClassLoader(new URL[] {dir.toUri().toURL()}, getClass().getClassLoader())) {
            @SuppressWarnings("unchecked")
            Function<Integer, Integer> adder = (Function<Integer, Integer>) child.loadClass("Shipped")
                    .getMethod("adder", int.class).invoke(null, 40);

            Function<Integer, Integer> back = roundTrip(adder, child);

            assertThat(back.apply(2)).isEqualTo(42);
            assertThat(back.getClass().getClassLoader()).isSameAs(child);
        }
    }
}
