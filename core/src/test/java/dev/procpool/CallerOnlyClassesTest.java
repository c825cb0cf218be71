package dev.procpool;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.procpool.testing.NoProcessLeft;
import java.io.ByteArrayInputStream;
import java.io.File;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import javax.tools.JavaCompiler;
import javax.tools.ToolProvider;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Classes that exist only as bytes in the caller (a class loader with no URLs, as jshell or a code
 * generator has): workers ask the caller for them over their channel.
 */
@NoProcessLeft
@Timeout(120)
class CallerOnlyClassesTest {
    /** The task code: a lambda, a record as input and result, a helper class its body loads late, a resource. */
    private static final String TASK = """
            package bytesonly;

            import dev.procpool.SerializableFunction;
            import java.nio.charset.StandardCharsets;

            public class Task {
                public record Point(long x, long y) {}

                public static SerializableFunction<Point, Point> scale() {
                    return p -> new Point(p.x() * 10, p.y() + Helper.offset());
                }

                public static SerializableFunction<Long, String> greet() {
                    return x -> {
                        try (var in = Task.class.getResourceAsStream("greeting.txt")) {
                            return new String(in.readAllBytes(), StandardCharsets.UTF_8).strip() + " " + x
                                    + " from " + Task.class.getClassLoader().getName()
                                    + ", context " + Thread.currentThread().getContextClassLoader().getName();
                        }
                    };
                }

                public static SerializableFunction<Long, String> variant() {
                    return x -> "VARIANT-" + x;
                }
            }

            class Helper {
                static long offset() {
                    return 7;
                }
            }
            """;

    @TempDir
    Path directory;

    @Test
    void aClassDefinedFromBytesOnlyRunsInWorkerProcesses() throws Exception {
        BytesLoader loader = new BytesLoader("bytes-only", compile(TASK, "A"), true);
        loader.resources.put("bytesonly/greeting.txt", "hello from the caller".getBytes(StandardCharsets.UTF_8));
        Class<?> task = loader.loadClass("bytesonly.Task");
        Class<?> point = loader.loadClass("bytesonly.Task$Point");
        assertThat(task.getProtectionDomain().getCodeSource().getLocation()).as("no URL behind it").isNull();
        @SuppressWarnings("unchecked")
        SerializableFunction<Object, Object> scale = (SerializableFunction<Object, Object>) task.getMethod("scale")
                .invoke(null);
        @SuppressWarnings("unchecked")
        SerializableFunction<Long, String> greet = (SerializableFunction<Long, String>) task.getMethod("greet")
                .invoke(null);
        List<Object> points = List.of(point.getConstructor(long.class, long.class).newInstance(1L, 2L),
                point.getConstructor(long.class, long.class).newInstance(3L, 4L));

        try (ProcessPool pool = PoolTestSupport.pool(PoolMode.PROCESSES, 2)) {
            List<Object> scaled = pool.map(scale, points, 1);
            assertThat(scaled).extracting(Object::toString).containsExactly("Point[x=10, y=9]", "Point[x=30, y=11]");
            assertThat(scaled).allSatisfy(p -> assertThat(p.getClass()).isSameAs(point));
            assertThat(pool.map(greet, List.of(1L, 2L))).satisfiesExactly(
                    one -> assertThat(one).matches("hello from the caller 1 from procpool-caller-\\d+,"
                            + " context procpool-caller-\\d+"),
                    two -> assertThat(two).startsWith("hello from the caller 2 from procpool-caller-"));
            // many one-input chunks in flight while the workers fetch: no frame waits on a class
            List<Long> many = java.util.stream.LongStream.range(0, 300).boxed().toList();
            assertThat(pool.map(greet, many, 1)).hasSize(300).allSatisfy(g -> assertThat(g).startsWith("hello"));
            // no worker died fetching; one may still be starting (a taken spare serves at once, a fresh JVM later)
            assertThat(pool.stats().workerCrashes()).isZero();
            FaultTestSupport.await("both workers ready", java.time.Duration.ofSeconds(60),
                    () -> pool.stats().workers().size() == 2);
        }
    }

    @Test
    void theSameClassNameFromTwoLoadersIsTwoClassesInTheWorker() throws Exception {
        BytesLoader first = new BytesLoader("first", compile(TASK.replace("VARIANT-", "FIRST-"), "first"), true);
        BytesLoader second = new BytesLoader("second", compile(TASK.replace("VARIANT-", "SECOND-"), "second"), true);
        SerializableFunction<Long, String> a = variant(first);
        SerializableFunction<Long, String> b = variant(second);
        try (ProcessPool pool = PoolTestSupport.pool(PoolMode.PROCESSES, 1)) {
            assertThat(pool.map(a, List.of(1L))).containsExactly("FIRST-1");
            assertThat(pool.map(b, List.of(2L))).containsExactly("SECOND-2");
            assertThat(pool.map(a, List.of(3L))).containsExactly("FIRST-3");
            assertThat(pool.map(b, List.of(4L))).containsExactly("SECOND-4");
            // records of the same name as input and result: each call's own class, on both sides
            for (BytesLoader loader : List.of(first, second, first)) {
                Class<?> point = loader.loadClass("bytesonly.Task$Point");
                @SuppressWarnings("unchecked")
                SerializableFunction<Object, Object> scale = (SerializableFunction<Object, Object>) loader
                        .loadClass("bytesonly.Task").getMethod("scale").invoke(null);
                List<Object> result = pool.map(scale, List.of(point.getConstructor(long.class, long.class)
                        .newInstance(1L, 1L)));
                assertThat(result).extracting(Object::toString).containsExactly("Point[x=10, y=8]");
                assertThat(result.get(0).getClass()).isSameAs(point);
            }
        }
    }

    @Test
    void aClassWhoseBytesCannotBeHadFailsTheCallBeforeAnyInputRuns() throws Exception {
        BytesLoader secretive = new BytesLoader("secretive", compile(TASK, "secret"), false);
        SerializableFunction<Long, String> task = variant(secretive);
        try (ProcessPool pool = PoolTestSupport.pool(PoolMode.PROCESSES, 1)) {
            assertThatThrownBy(() -> pool.map(task, List.of(1L, 2L)))
                    .isExactlyInstanceOf(ProcessPoolException.class)
                    .satisfies(e -> assertThat(((ProcessPoolException) e).inputIndex())
                            .isEqualTo(ProcessPoolException.NO_INDEX))
                    .hasMessageContaining("bytesonly.Task")
                    .hasMessageContaining("secretive")
                    .hasMessageContaining("getResourceAsStream(\"bytesonly/Task.class\")")
                    .hasMessageContaining("classPath(...)")
                    .hasMessageContaining("PoolMode.THREADS")
                    .hasMessageNotContaining("input 0");
            assertThat(pool.stats().tasksFailed()).isZero();
            assertThat(pool.stats().tasksSucceeded()).isZero();
            // the pool is unharmed
            assertThat(pool.map((Long x) -> x + 1, List.of(1L))).containsExactly(2L);
        }
    }

    @SuppressWarnings("unchecked")
    private static SerializableFunction<Long, String> variant(ClassLoader loader) throws Exception {
        return (SerializableFunction<Long, String>) loader.loadClass("bytesonly.Task").getMethod("variant").invoke(null);
    }

    /** Compiles the source into memory: class name to bytes. */
    private Map<String, byte[]> compile(String source, String tag) throws Exception {
        Path src = directory.resolve(tag + "/src/bytesonly/Task.java");
        Path out = directory.resolve(tag + "/out");
        Files.createDirectories(src.getParent());
        Files.createDirectories(out);
        Files.writeString(src, source);
        JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
        int status = javac.run(null, null, null, "-d", out.toString(), "-cp", System.getProperty("java.class.path"),
                src.toString());
        assertThat(status).as("the task code compiles").isZero();
        Map<String, byte[]> classes = new HashMap<>();
        try (Stream<Path> files = Files.walk(out)) {
            for (Path file : files.filter(f -> f.toString().endsWith(".class")).toList()) {
                String name = out.relativize(file).toString().replace(File.separatorChar, '.');
                classes.put(name.substring(0, name.length() - ".class".length()), Files.readAllBytes(file));
            }
        }
        return classes;
    }

    /** Defines classes from bytes in memory; no URLs. Serves its class files and resources by stream, or not. */
    private static final class BytesLoader extends ClassLoader {
        private final Map<String, byte[]> classes;
        final Map<String, byte[]> resources = new HashMap<>();
        private final boolean servesBytes;

        BytesLoader(String name, Map<String, byte[]> classes, boolean servesBytes) {
            super(name, CallerOnlyClassesTest.class.getClassLoader());
            this.classes = classes;
            this.servesBytes = servesBytes;
        }

        @Override
        protected Class<?> findClass(String name) throws ClassNotFoundException {
            byte[] bytes = classes.get(name);
            if (bytes == null) {
                throw new ClassNotFoundException(name);
            }
            return defineClass(name, bytes, 0, bytes.length);
        }

        @Override
        public InputStream getResourceAsStream(String name) {
            InputStream parent = super.getResourceAsStream(name);
            if (parent != null || !servesBytes) {
                return parent;
            }
            byte[] bytes = name.endsWith(".class")
                    ? classes.get(name.substring(0, name.length() - ".class".length()).replace('/', '.'))
                    : resources.get(name);
            return bytes == null ? null : new ByteArrayInputStream(bytes);
        }
    }
}
