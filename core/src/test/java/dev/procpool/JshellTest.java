package dev.procpool;

import static org.assertj.core.api.Assertions.assertThat;

import dev.procpool.testing.ChildJvm;
import dev.procpool.testing.NoProcessLeft;
import dev.procpool.testing.ProcpoolJars;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
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
        ChildJvm.Output output = ChildJvm.run(List.of(jshell.toString(), "--class-path", ProcpoolJars.path(),
                script.toString()));
        List<String> lines = output.lines();
        assertThat(lines).as("jshell's output").containsSubsequence("MODE PROCESSES",
                "RESULT [Sq[x=1, y=101], Sq[x=2, y=104], Sq[x=3, y=109]]", "PIDS false");
        assertThat(output.exitCode()).as("exit code; output:%n%s", String.join("\n", lines)).isZero();
    }
}
