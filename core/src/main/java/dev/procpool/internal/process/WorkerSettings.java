package dev.procpool.internal.process;

import dev.procpool.SerializableRunnable;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * What every worker JVM of one pool is started with; fixed when the pool is built.
 *
 * @param spareWorkers  how many started JVMs of this pool's {@link JvmShape} to keep ready while the pool is
 *                      open (0: none, the pool launches its own)
 * @param spareIdleTime how long those spares stay after the last pool of that shape closed
 */
public record WorkerSettings(
        int workers,
        Path javaExecutable,
        List<Path> classPath,
        List<String> jvmOptions,
        Map<String, String> environment,
        Path workingDirectory,
        SerializableRunnable initializer,
        int maxTasksPerWorker,
        Duration taskTimeout,
        Duration startTimeout,
        int retries,
        Duration livenessTimeout,
        int spareWorkers,
        Duration spareIdleTime) {}
