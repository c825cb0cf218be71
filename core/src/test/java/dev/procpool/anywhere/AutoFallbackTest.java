package dev.procpool.anywhere;

import static org.assertj.core.api.Assertions.assertThat;

import dev.procpool.PoolMode;
import dev.procpool.ProcessPool;
import dev.procpool.testing.NoProcessLeft;
import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.PrintStream;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** AUTO mode's fallback: when, why (readable from the pool), told once, tried once per settings. */
@NoProcessLeft
@Timeout(120)
class AutoFallbackTest {
    private static final String PLUGIN = """
            package plugin;

            import dev.procpool.PoolMode;
            import dev.procpool.ProcessPool;
            import java.io.File;
            import java.nio.file.Path;
            import java.util.Arrays;
            import java.util.List;
            import java.util.concurrent.Callable;

            public class AutoPlugin implements Callable<List<Object>> {
                @Override
                public List<Object> call() {
                    // the override leaves this plugin's own folder out: workers start, but cannot load its classes
                    List<Path> hostOnly = Arrays.stream(System.getProperty("java.class.path").split(File.pathSeparator))
                            .map(Path::of).toList();
                    try (ProcessPool pool = ProcessPool.builder().workers(1).mode(PoolMode.AUTO).classPath(hostOnly).build()) {
                        return List.of(pool.mode(), pool.fallbackReason().orElse(""), pool.map((Integer x) -> x * 2, List.of(1, 2)));
                    }
                }
            }
            """;

    private static final String NO_PROVIDER_APP = """
            import dev.procpool.PoolMode;
            import dev.procpool.ProcessPool;
            import java.util.List;

            public class NoProvider {
                public static void main(String[] args) {
                    try (ProcessPool pool = ProcessPool.builder().workers(1).build()) {
                        System.out.println("result=" + pool.apply((Integer x) -> { System.out.println("printed by a task " + x); return x; }, 7));
                    }
                    try (ProcessPool pool = ProcessPool.builder().workers(1).mode(PoolMode.AUTO)
                            .jvmOptions("-XX:+ThisOptionDoesNotExist").build()) {
                        System.out.println("mode=" + pool.mode());
                    }
                }
            }
            """;

    @TempDir
    Path directory;

    @Test
    @SuppressWarnings("unchecked")
    void autoModeFallsBackWhenWorkersStartButCannotLoadTheCallersClasses() throws Exception {
        Path classes = TestApps.compile(directory, Map.of("plugin/AutoPlugin.java", PLUGIN), Map.of());
        try (URLClassLoader loader = new URLClassLoader(new URL[] {classes.toUri().toURL()},
                AutoFallbackTest.class.getClassLoader())) {
            List<Object> out = ((Callable<List<Object>>) Class.forName("plugin.AutoPlugin", true, loader)
                    .getConstructor().newInstance()).call();
            assertThat(out.get(0)).isEqualTo(PoolMode.THREADS);
            assertThat((String) out.get(1)).contains("cannot load plugin.AutoPlugin", "Builder.classPath");
            assertThat(out.get(2)).isEqualTo(List.of(2, 4));
        }
    }

    @Test
    void aFailureToStartIsToldOnceReadableFromThePoolAndNotTriedAgainForTheSameSettings() throws Exception {
        Path counter = directory.resolve("launches");
        Path fakeJava = directory.resolve("java");
        Files.writeString(fakeJava, "#!/bin/sh\necho launched >> '" + counter + "'\necho 'no JVM here' >&2\nexit 1\n");
        Files.setPosixFilePermissions(fakeJava, PosixFilePermissions.fromString("rwx------"));
        PrintStream stderr = System.err;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        String first;
        long launchesAfterFirst;
        System.setErr(new PrintStream(captured, true, StandardCharsets.UTF_8));
        try {
            try (ProcessPool pool = ProcessPool.builder().workers(1).mode(PoolMode.AUTO).javaExecutable(fakeJava).build()) {
                assertThat(pool.mode()).isEqualTo(PoolMode.THREADS);
                first = pool.fallbackReason().orElseThrow();
                assertThat(pool.map((Integer x) -> x + 1, List.of(1, 2))).containsExactly(2, 3);
            }
            launchesAfterFirst = Files.readAllLines(counter).size();
            try (ProcessPool pool = ProcessPool.builder().workers(1).mode(PoolMode.AUTO).javaExecutable(fakeJava).build()) {
                assertThat(pool.mode()).isEqualTo(PoolMode.THREADS);
                assertThat(pool.fallbackReason()).contains(first);
            }
        } finally {
            System.setErr(stderr);
        }
        String log = captured.toString(StandardCharsets.UTF_8);
        stderr.print(log);
        assertThat(first).contains("cannot start", "no JVM here");
        assertThat(launchesAfterFirst).isBetween(1L, 3L);
        assertThat(Files.readAllLines(counter)).as("the second pool started no JVM").hasSize((int) launchesAfterFirst);
        List<String> warnings = log.lines().filter(l -> l.contains("WARN")).toList();
        assertThat(warnings).as("one WARN line in all:%n%s", log).hasSize(1);
        assertThat(warnings.get(0)).contains("running on threads instead of worker JVMs");
        assertThat(log).doesNotContain("ERROR").doesNotContain("[worker-");
    }

    @Test
    void aPoolThatRunsAsAskedHasNoFallbackReason() {
        try (ProcessPool pool = ProcessPool.builder().workers(1).mode(PoolMode.THREADS).build()) {
            assertThat(pool.fallbackReason()).isEmpty();
        }
    }

    @Test
    void withoutAnSlf4jProviderTaskOutputAndTheAutoWarningReachStderr() throws Exception {
        Path classes = TestApps.compile(directory, Map.of("NoProvider.java", NO_PROVIDER_APP), Map.of());
        String classPath = Arrays.stream(System.getProperty("java.class.path").split(File.pathSeparator))
                .filter(entry -> !Path.of(entry).getFileName().toString().startsWith("slf4j-simple"))
                .collect(Collectors.joining(File.pathSeparator)) + File.pathSeparator + classes;
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        TestApps.Run run = TestApps.run(new ProcessBuilder(java.toString(), "-cp", classPath, "NoProvider"), 90);
        assertThat(run.exitCode()).as(run.output()).isZero();
        assertThat(run.output()).contains("result=7", "mode=THREADS")
                .containsPattern("\\[worker-\\d+\\] printed by a task 7")
                .containsPattern("\\[procpool\\] WARN procpool: running on threads instead of worker JVMs: .*ThisOptionDoesNotExist");
    }
}
