package dev.procpool.internal.process;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * What shapes a worker JVM before any pool's code runs in it: the {@code java} it runs, its class path,
 * JVM options, environment and working directory. Spare JVMs are kept and shared by this key alone: a
 * pool may take a spare of its own shape only. What a pool adds once it takes a JVM (its initializer,
 * time limits, recycling) is not part of it.
 */
record JvmShape(Path javaExecutable, List<Path> classPath, List<String> jvmOptions, Map<String, String> environment,
        Path workingDirectory) {

    static JvmShape of(WorkerSettings settings) {
        return new JvmShape(settings.javaExecutable(), settings.classPath() == null ? null : List.copyOf(settings.classPath()),
                List.copyOf(settings.jvmOptions()), Map.copyOf(settings.environment()), settings.workingDirectory());
    }

    /** Settings that launch a JVM of this shape; the fields a pool adds are neutral (no pool's code runs). */
    WorkerSettings launchSettings() {
        return new WorkerSettings(1, javaExecutable, classPath, jvmOptions, environment, workingDirectory, null, 0, null,
                Duration.ofSeconds(60), 0, Duration.ofSeconds(30), 0, Duration.ZERO);
    }
}
