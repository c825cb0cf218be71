package dev.procpool;

import static org.assertj.core.api.Assertions.assertThat;

import dev.procpool.testing.NoProcessLeft;
import dev.procpool.testing.ProcpoolJars;
import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * jshell (the JDK's) with procpool's jars on {@code --class-path}: a lambda, a record and a method
 * defined in the session exist only as bytes in jshell's class loader, and workers fetch them.
 * (jshell's top-level variables are static fields of its snippet classes, set in the session's JVM
 * only: a lambda sees their values in a worker only through a real capture, a parameter or a local.)
 */
@NoProcessLeft
@Timeout(120)
class JshellTest {
    private static final String SCRIPT = """
            import dev.procpool.*;
            record Sq(long x, long y) {}
            long square(long x) { return x * x; }
            long offset = 100;
            var pool = ProcessPool.builder().workers(2).mode(PoolMode.PROCESSES).build();
            System.out.println("MODE " + pool.mode());
            List<Sq> squares(ProcessPool pool, long plus) { return pool.map((Long x) -> new Sq(x, square(x) + plus), List.of(1L, 2L, 3L)); }
            System.out.println("RESULT " + squares(pool, offset));
            System.out.println("PIDS " + pool.map((Long x) -> ProcessHandle.current().pid(), List.of(1L)).get(0).equals(ProcessHandle.current().pid()));
            pool.close();
            /exit
            """;

    @TempDir
    Path directory;

    @Test
    void aLambdaDefinedInJshellRunsInWorkerProcesses() throws Exception {
        Path script = directory.resolve("pool.jsh");
        Files.writeString(script, SCRIPT);
        Path jshell = Path.of(System.getProperty("java.home"), "bin", "jshell");
        ProcessBuilder launch = new ProcessBuilder(jshell.toString(), "--class-path", ProcpoolJars.path(),
                script.toString()).redirectErrorStream(true).redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
        launch.environment().remove("CLASSPATH");
        Process process = launch.start();
        List<String> lines;
        try {
            lines = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8).lines().toList();
            assertThat(process.waitFor(60, TimeUnit.SECONDS)).isTrue();
        } finally {
            process.toHandle().descendants().forEach(ProcessHandle::destroyForcibly);
            process.destroyForcibly();
            process.waitFor(10, TimeUnit.SECONDS);
        }
        assertThat(lines).as("jshell's output").containsSubsequence("MODE PROCESSES",
                "RESULT [Sq[x=1, y=101], Sq[x=2, y=104], Sq[x=3, y=109]]", "PIDS false");
        assertThat(process.exitValue()).isZero();
    }
}
