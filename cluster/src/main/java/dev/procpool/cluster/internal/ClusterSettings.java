package dev.procpool.cluster.internal;

import dev.procpool.SerializableRunnable;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * What a {@code ClusterPool.Builder} was given, checked: how to reach the cluster, and the settings of
 * each member's local pool ({@code workersPerMember} 0: the member's own default; {@code taskTimeout}
 * null: none).
 */
public record ClusterSettings(List<String> addresses, String clusterName, Duration heartbeatTimeout,
        Duration connectTimeout, int workersPerMember, List<String> jvmOptions, Map<String, String> environment,
        SerializableRunnable initializer, int maxTasksPerWorker, Duration taskTimeout, int retries,
        Path scratchDirectory) {

    /** What each member builds this pool's local pool with; the initializer travels as Kryo bytes. */
    Tasks.SessionSettings sessionSettings() {
        byte[] init = initializer == null ? null : Wire.write(initializer, initializer.getClass().getClassLoader());
        return new Tasks.SessionSettings(workersPerMember, jvmOptions, environment, maxTasksPerWorker,
                taskTimeout == null ? 0 : taskTimeout.toMillis(), retries, init);
    }
}
