package dev.procpool.cluster;

import dev.procpool.PoolBuilder;
import dev.procpool.PoolStats;
import dev.procpool.ProcessPoolException;
import dev.procpool.SerializableRunnable;
import dev.procpool.cluster.internal.ClusterEngine;
import dev.procpool.cluster.internal.ClusterSettings;
import dev.procpool.internal.engine.EnginePool;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * {@link dev.procpool.ProcessPool}'s calls across machines: chunks of a call run on Hazelcast
 * members ({@link ClusterMember}), each of which runs them on its own local pool of worker JVMs.
 * This JVM joins as a Hazelcast client, never as a member.
 *
 * <pre>{@code
 * try (ClusterPool pool = ClusterPool.builder().members("10.0.0.5:5701", "10.0.0.6:5701").build()) {
 *     List<Long> squares = pool.map(x -> x * x, inputs);
 * }
 * }</pre>
 *
 * <p><b>Same calls, same results, same failures, same lifecycle</b> as the local pool, written once for
 * both: {@code map}, {@code mapAsync}, {@code starmap}, {@code apply}, {@code submit}, {@code imap},
 * {@code imapUnordered}, {@code asExecutorService}; a task that throws, a worker JVM that crashes and a
 * task timeout on a member reach the caller as {@link dev.procpool.TaskFailedException},
 * {@link dev.procpool.WorkerCrashedException} and {@link dev.procpool.TaskTimeoutException} naming the
 * input's index in the whole call. {@code cancel(true)} on a call's future stops its running tasks: the
 * members running them kill those worker JVMs (and start new ones). {@link #close()} finishes the calls
 * under way (an {@code imap} stops reading its input, as on the local pool), ends this pool's worker JVMs
 * on every member and disconnects; {@link #terminate()} fails what is pending and kills them now.
 *
 * <p><b>Code shipping.</b> At {@link Builder#build()} this JVM's class path is sent to every member,
 * content-addressed: each jar (a class directory is packed into a reproducible jar) is named by its
 * SHA-256, crosses to a member once and is cached there; jars the member itself runs with are never
 * sent. Each member loads them for this pool in a class loader of their own, and its worker JVMs get
 * them on their class path.
 *
 * <p><b>Member faults.</b> A member that leaves (killed, crashed, shut down) or stops answering the
 * pool's heartbeat for {@link Builder#heartbeatTimeout} (frozen, partitioned) is given up: the chunks
 * it held run again on the others, and the results of a chunk are taken exactly once. A member that
 * answers again is used again. When no member has been reachable for the heartbeat timeout, the
 * pending calls fail with a {@link ProcessPoolException} saying so.
 */
public final class ClusterPool extends EnginePool {
    private ClusterPool(Builder builder) {
        super(builder.progressListener(), context -> new ClusterEngine(builder.settings(), context));
    }

    /**
     * A builder: at least {@link Builder#members} is needed.
     *
     * @return a new builder
     */
    public static Builder builder() {
        return new Builder();
    }

    private ClusterEngine cluster() {
        return (ClusterEngine) engine();
    }

    /**
     * Worker JVMs across the members in use now.
     *
     * @return their number
     */
    public int workers() {
        return cluster().workers().size();
    }

    /**
     * The members in use now.
     *
     * @return their names ({@code host:port})
     */
    public List<String> members() {
        return cluster().members();
    }

    /**
     * How many inputs each member has run for this pool (results taken).
     *
     * @return counts by member name
     */
    public Map<String, Long> inputsPerMember() {
        return cluster().inputsPerMember();
    }

    /**
     * The members' pool counters for this pool, summed over the members that answer within a few
     * seconds. Worker entries carry no pid (they live on other machines): id only.
     */
    @Override
    public PoolStats stats() {
        return cluster().memberStats();
    }

    // ---------------------------------------------------------------------------------- builder

    /**
     * Configures a {@link ClusterPool}: at least {@link #members} is needed. The worker options of
     * {@link PoolBuilder} apply to each member's local pool of worker JVMs. Not thread-safe.
     */
    public static final class Builder extends PoolBuilder<ClusterPool, Builder> {
        private final List<String> members = new ArrayList<>();
        private String clusterName = "procpool";
        private Duration heartbeatTimeout = Duration.ofSeconds(5);
        private Duration connectTimeout = Duration.ofSeconds(30);
        private int workersPerMember;
        private Path scratch;

        private Builder() {}

        /**
         * Addresses of members to connect to; the client then learns the whole cluster.
         *
         * @param addresses {@code host:port} of one or more members
         * @return this builder
         */
        public Builder members(String... addresses) {
            for (String address : addresses) {
                members.add(Objects.requireNonNull(address, "address"));
            }
            return this;
        }

        /**
         * Hazelcast cluster name of the members. Default {@code procpool}.
         *
         * @param name the cluster name the members were started with
         * @return this builder
         */
        public Builder clusterName(String name) {
            this.clusterName = Objects.requireNonNull(name, "name");
            return this;
        }

        /**
         * A member that does not answer a heartbeat for this long is given up and its chunks run
         * elsewhere. Default 5 s.
         *
         * @param timeout positive
         * @return this builder
         * @throws IllegalArgumentException {@code timeout} is zero or negative
         */
        public Builder heartbeatTimeout(Duration timeout) {
            this.heartbeatTimeout = positive("heartbeatTimeout", timeout);
            return this;
        }

        /**
         * How long {@link #build()} waits for the cluster and a first ready member. Default 30 s.
         *
         * @param timeout positive
         * @return this builder
         * @throws IllegalArgumentException {@code timeout} is zero or negative
         */
        public Builder connectTimeout(Duration timeout) {
            this.connectTimeout = positive("connectTimeout", timeout);
            return this;
        }

        /**
         * Worker JVMs each member runs for this pool. Default: the member's own setting (its processors).
         *
         * @param workers at least 1
         * @return this builder
         * @throws IllegalArgumentException {@code workers} is less than 1
         */
        public Builder workersPerMember(int workers) {
            this.workersPerMember = atLeast("workersPerMember", workers, 1);
            return this;
        }

        /**
         * Where class directories are packed into jars before shipping. Default: a temp directory.
         *
         * @param directory a writable directory
         * @return this builder
         */
        public Builder scratchDirectory(Path directory) {
            this.scratch = Objects.requireNonNull(directory, "directory");
            return this;
        }

        private dev.procpool.ProgressListener progressListener() {
            return progress();
        }

        private ClusterSettings settings() {
            Path scratchDirectory = scratch != null ? scratch
                    : Path.of(System.getProperty("java.io.tmpdir"), "procpool-cluster-client");
            return new ClusterSettings(List.copyOf(members), clusterName, heartbeatTimeout, connectTimeout,
                    workersPerMember, jvmOptions(), environment(), initializer(), maxTasksPerWorker(), taskTimeout(),
                    retries(), scratchDirectory);
        }

        /**
         * Connects as a Hazelcast client, ships the class path, and returns once a member is ready.
         *
         * @return the new pool
         * @throws IllegalStateException no member address was given
         * @throws dev.procpool.ProcessPoolException no member became ready within the connect timeout
         */
        @Override
        public ClusterPool build() {
            if (members.isEmpty()) {
                throw new IllegalStateException("no member addresses: call members(\"host:port\", ...)");
            }
            return new ClusterPool(this);
        }
    }
}
