package dev.procpool;

import static org.assertj.core.api.Assertions.assertThat;

import dev.procpool.testing.ChildJvm;
import dev.procpool.testing.NoProcessLeft;
import dev.procpool.testing.ProcpoolJars;
import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import javax.tools.JavaCompiler;
import javax.tools.ToolProvider;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A JPMS application that {@code requires dev.procpool} and nothing else, launched with
 * {@code java -p ... -m}: no {@code opens}, no {@code --add-opens}, no class path.
 */
@NoProcessLeft
@Timeout(120)
class ModulePathTest {
    private static final String MODULE_INFO = """
            module app {
                requires dev.procpool;
            }
            """;

    private static final String MAIN = """
            package app;

            import dev.procpool.PoolMode;
            import dev.procpool.ProcessPool;
            import java.util.List;

            public class Main {
                public static void main(String[] args) {
                    try (ProcessPool pool = ProcessPool.builder().workers(2).mode(PoolMode.valueOf(args[0])).build()) {
                        int offset = 100;
                        System.out.println("mode=" + pool.mode());
                        System.out.println("squares=" + pool.map(Main::square, List.of(1, 2, 3)));
                        System.out.println("shifted=" + pool.map((Integer x) -> x + offset, List.of(1, 2, 3)));
                        try {
                            pool.map((Point p) -> p, List.of(new Point(1, 2)));
                        } catch (RuntimeException e) {
                            System.out.println("closed package: " + e.getMessage().contains("opens app;"));
                        }
                        System.out.println("pids=" + pool.map((Integer x) -> ProcessHandle.current().pid(), List.of(1))
                                .get(0).equals(ProcessHandle.current().pid()));
                    }
                }

                record Point(int x, int y) {}

                static int square(int x) {
                    return x * x;
                }
            }
            """;

    @TempDir
    Path directory;

    @Test
    void processPoolRunsInAModularApplicationWithoutFlags() throws Exception {
        List<String> output = runApp("PROCESSES");
        assertThat(output).containsSubsequence("mode=PROCESSES", "squares=[1, 4, 9]", "shifted=[101, 102, 103]",
                "closed package: true", "pids=false");
    }

    @Test
    void threadModeRunsInAModularApplication() throws Exception {
        List<String> output = runApp("THREADS");
        assertThat(output).containsSubsequence("mode=THREADS", "squares=[1, 4, 9]", "shifted=[101, 102, 103]",
                "pids=true");
    }

    private List<String> runApp(String mode) throws Exception {
        String modulePath = ProcpoolJars.path();
        Path source = directory.resolve("src");
        Files.createDirectories(source.resolve("app"));
        Files.writeString(source.resolve("module-info.java"), MODULE_INFO);
        Files.writeString(source.resolve("app/Main.java"), MAIN);
        Path classes = directory.resolve("mods/app");
        JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
        int compiled = javac.run(null, null, null, "-d", classes.toString(), "-p", modulePath,
                source.resolve("module-info.java").toString(), source.resolve("app/Main.java").toString());
        assertThat(compiled).as("the app compiles against the procpool module").isZero();

        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        ChildJvm.Output output = ChildJvm.run(List.of(java.toString(), "-p", modulePath + File.pathSeparator + classes,
                "-m", "app/app.Main", mode));
        List<String> lines = output.lines();
        assertThat(output.exitCode()).as("exit code; output:%n%s", String.join("\n", lines)).isZero();
        return lines;
    }
}
