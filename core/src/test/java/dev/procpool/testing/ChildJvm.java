package dev.procpool.testing;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Runs a program of the JDK (java, jshell) as a caller would, and takes what it printed. */
public final class ChildJvm {
    /** What the program printed (stdout and stderr) and how it ended. */
    public record Output(List<String> lines, int exitCode) {}

    private ChildJvm() {}

    /**
     * Runs {@code command} with no input and without the test's class path (Surefire passes it in
     * {@code CLASSPATH}), up to 60 s; whatever it leaves running is killed.
     *
     * @param command the program and its arguments
     * @return its output and exit code
     * @throws AssertionError it did not end within 60 s
     */
    public static Output run(List<String> command) throws IOException, InterruptedException {
        ProcessBuilder launch = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
        launch.environment().remove("CLASSPATH");
        Process process = launch.start();
        try {
            List<String> lines = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8)
                    .lines().toList();
            if (!process.waitFor(60, TimeUnit.SECONDS)) {
                throw new AssertionError(command.get(0) + " did not end within 60 s; it printed:\n"
                        + String.join("\n", lines));
            }
            return new Output(lines, process.exitValue());
        } finally {
            process.toHandle().descendants().forEach(ProcessHandle::destroyForcibly);
            process.destroyForcibly();
            process.waitFor(10, TimeUnit.SECONDS);
        }
    }
}
