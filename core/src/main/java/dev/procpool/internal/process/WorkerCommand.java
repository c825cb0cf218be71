package dev.procpool.internal.process;

import dev.procpool.internal.worker.KryoSetup;
import dev.procpool.internal.worker.WorkerMain;
import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.StringJoiner;
import org.apache.commons.exec.CommandLine;

/** The command line that starts one worker JVM. */
public final class WorkerCommand {
    /**
     * JDK 17+ keeps these closed; Kryo reaches into them for closures and JDK types. JVM output that is
     * not ours goes to stderr: fd 1 carries frames only.
     */
    private static final List<String> FIXED_OPTIONS = List.of(
            "--add-opens=java.base/java.lang=ALL-UNNAMED",
            "--add-opens=java.base/java.util=ALL-UNNAMED",
            "--add-opens=java.base/java.lang.invoke=ALL-UNNAMED",
            "-XX:+DisplayVMOutputToStderr",
            "-Xlog:disable",
            "-Xlog:all=warning:stderr",
            "-XX:+ExitOnOutOfMemoryError",
            "-XX:-UsePerfData");

    private static final Path SHELL = Path.of("/bin/sh");
    /**
     * Run by {@code sh -c} with the JVM's command line as its arguments: moves the frame channel to fds
     * 3 and 4, gives fd 0 {@code /dev/null} and fd 1 stderr, then execs the JVM in place (same pid).
     */
    private static final String MOVE_CHANNEL = "exec \"$0\" \"$@\" " + WorkerMain.CHANNEL_IN_FD + "<&0 "
            + WorkerMain.CHANNEL_OUT_FD + ">&1 0</dev/null 1>&2";
    /** util-linux setsid: the worker leads a new session and process group, which its tasks' processes join. */
    private static final Path SETSID = findSetsid();

    private WorkerCommand() {}

    /** True when workers lead their own process group (so it can be killed with them). */
    static boolean workersLeadTheirGroup() {
        return usesShell() && SETSID != null;
    }

    private static boolean usesShell() {
        return !isWindows() && Files.isExecutable(SHELL);
    }

    private static Path findSetsid() {
        if (isWindows()) {
            return null;
        }
        List<Path> candidates = new ArrayList<>(List.of(Path.of("/usr/bin/setsid"), Path.of("/bin/setsid")));
        for (String dir : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
            if (!dir.isEmpty()) {
                candidates.add(Path.of(dir, "setsid"));
            }
        }
        for (Path candidate : candidates) { // a loop, not a stream: this runs in a cold caller's first build()
            if (Files.isExecutable(candidate)) {
                return candidate;
            }
        }
        return null;
    }

    static CommandLine build(WorkerSettings settings, List<String> extraOptions, int workerId, Path slotFile) {
        boolean shell = usesShell();
        CommandLine command;
        if (shell) {
            // setsid execs in place (a child of this JVM never leads a group), so the pid stays the JVM's
            command = new CommandLine((SETSID != null ? SETSID : SHELL).toFile());
            if (SETSID != null) {
                command.addArgument(SHELL.toString(), false);
            }
            command.addArgument("-c", false);
            command.addArgument(MOVE_CHANNEL, false);
            command.addArgument(settings.javaExecutable().toString(), false);
        } else {
            command = new CommandLine(settings.javaExecutable().toFile());
        }
        for (String option : FIXED_OPTIONS) {
            command.addArgument(option, false);
        }
        // the caller's Kryo customizers, which the worker needs before its first Kryo (no scan of its own class path)
        List<String> customizers = KryoSetup.customizerNames();
        if (!customizers.isEmpty()) {
            command.addArgument("-D" + KryoSetup.CUSTOMIZERS_PROPERTY + "=" + String.join(",", customizers), false);
        }
        for (String option : extraOptions) {
            command.addArgument(option, false);
        }
        for (String option : settings.jvmOptions()) {
            command.addArgument(logToStderr(option), false);
        }
        command.addArgument("-cp", false);
        command.addArgument(classPath(settings.classPath()), false);
        command.addArgument(WorkerMain.class.getName(), false);
        command.addArgument(Integer.toString(workerId), false);
        command.addArgument(slotFile.toString(), false);
        if (shell) {
            command.addArgument(WorkerMain.OWN_FDS, false);
        }
        return command;
    }

    /**
     * JVM logging that would go to stdout goes to stderr instead: fd 1 is the frame channel, and a
     * {@code -Xlog:gc} or {@code -verbose:gc} there would read as a corrupt frame. Other options pass
     * unchanged.
     */
    static String logToStderr(String option) {
        if (option.startsWith("-verbose:")) {
            return "-Xlog:" + option.substring("-verbose:".length()) + ":stderr";
        }
        if (option.equals("-XX:+PrintGC")) {
            return "-Xlog:gc:stderr";
        }
        if (option.equals("-XX:+PrintGCDetails")) {
            return "-Xlog:gc*:stderr";
        }
        if (!option.equals("-Xlog") && !option.startsWith("-Xlog:")) {
            return option;
        }
        if (option.equals("-Xlog:disable") || option.startsWith("-Xlog:help")) {
            return option;
        }
        // -Xlog[:what[:output[:decorators[:output-options]]]]; no output, or stdout, means fd 1
        String[] parts = (option.equals("-Xlog") ? "-Xlog:all=info" : option).split(":", -1);
        if (parts.length < 3 || parts[2].isEmpty() || parts[2].equals("stdout")) {
            String[] fixed = Arrays.copyOf(parts, Math.max(3, parts.length));
            fixed[2] = "stderr";
            return String.join(":", fixed);
        }
        return option;
    }

    /**
     * The worker's class path: the entries {@link WorkerClassPath#resolve} chose when the pool was built
     * (procpool's own code first), or, when none were, what it chooses now.
     */
    static String classPath(List<Path> resolved) {
        List<Path> entries = resolved != null ? resolved : WorkerClassPath.resolve(null, null);
        StringJoiner joined = new StringJoiner(File.pathSeparator);
        for (Path entry : entries) {
            joined.add(entry.toString());
        }
        return joined.toString();
    }

    public static Path defaultJava() {
        return Path.of(System.getProperty("java.home"), "bin", isWindows() ? "java.exe" : "java");
    }

    private static boolean isWindows() {
        return System.getProperty("os.name", "").toLowerCase().startsWith("windows");
    }

    static List<String> describe(CommandLine command) {
        List<String> words = new ArrayList<>();
        words.add(command.getExecutable());
        words.addAll(List.of(command.getArguments()));
        return words;
    }
}
