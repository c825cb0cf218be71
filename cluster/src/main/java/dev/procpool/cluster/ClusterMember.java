package dev.procpool.cluster;

import com.hazelcast.client.Client;
import com.hazelcast.client.ClientListener;
import com.hazelcast.config.Config;
import com.hazelcast.config.JoinConfig;
import com.hazelcast.config.NetworkConfig;
import com.hazelcast.core.Hazelcast;
import com.hazelcast.core.HazelcastInstance;
import dev.procpool.cluster.internal.MemberService;
import dev.procpool.cluster.internal.Tasks;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * A procpool cluster member: a Hazelcast member that runs the chunks clients send it on a local
 * {@link dev.procpool.ProcessPool} of worker JVMs. Start one per machine:
 *
 * <pre>
 * java -cp procpool-cluster-all.jar dev.procpool.cluster.ClusterMember \
 *      --host 10.0.0.5 --port 5701 --join 10.0.0.5:5701,10.0.0.6:5701
 * </pre>
 *
 * <p>Options: {@code --host} the address to bind and announce (default 127.0.0.1), {@code --port}
 * (default 5701, never auto-incremented), {@code --join} comma-separated member addresses (default:
 * this member alone), {@code --cluster-name} (default {@code procpool}), {@code --workers} worker
 * JVMs per client session when the client does not say (default: available processors),
 * {@code --cache-dir} where shipped jars are cached by SHA-256 (default: a temp directory per port),
 * {@code --name} (default host:port), {@code --member-heartbeat-seconds} how long members wait for
 * a silent member before dropping it (default 10). Multicast, auto-detection and phone-home are off.
 * Prints {@code procpool member ready <name>} on stdout when it has joined.
 */
public final class ClusterMember implements AutoCloseable {
    private final HazelcastInstance hazelcast;
    private final MemberService service;

    private ClusterMember(HazelcastInstance hazelcast, MemberService service) {
        this.hazelcast = hazelcast;
        this.service = service;
    }

    /** Member options; {@link #start()} starts the member in this JVM. */
    public static final class Options {
        private String host = "127.0.0.1";
        private int port = 5701;
        private final List<String> join = new ArrayList<>();
        private String clusterName = "procpool";
        private int workers = Runtime.getRuntime().availableProcessors();
        private Path cacheDirectory;
        private String name;
        private int memberHeartbeatSeconds = 10;

        public Options host(String host) {
            this.host = Objects.requireNonNull(host);
            return this;
        }

        public Options port(int port) {
            this.port = port;
            return this;
        }

        public Options join(String... addresses) {
            join.addAll(List.of(addresses));
            return this;
        }

        public Options clusterName(String clusterName) {
            this.clusterName = Objects.requireNonNull(clusterName);
            return this;
        }

        public Options workers(int workers) {
            if (workers < 1) {
                throw new IllegalArgumentException("workers must be >= 1");
            }
            this.workers = workers;
            return this;
        }

        public Options cacheDirectory(Path directory) {
            this.cacheDirectory = directory;
            return this;
        }

        public Options name(String name) {
            this.name = name;
            return this;
        }

        public Options memberHeartbeatSeconds(int seconds) {
            this.memberHeartbeatSeconds = seconds;
            return this;
        }

        public ClusterMember start() throws IOException {
            return ClusterMember.start(this);
        }
    }

    public static Options options() {
        return new Options();
    }

    static ClusterMember start(Options options) throws IOException {
        Path cache = options.cacheDirectory != null ? options.cacheDirectory
                : Path.of(System.getProperty("java.io.tmpdir"), "procpool-cluster-" + options.port);
        Files.createDirectories(cache);
        MemberService service = new MemberService(cache, options.workers);

        Config config = new Config();
        config.setClusterName(options.clusterName);
        config.setProperty("hazelcast.phone.home.enabled", "false");
        config.setProperty("hazelcast.logging.type", System.getProperty("hazelcast.logging.type", "slf4j"));
        config.setProperty("hazelcast.shutdownhook.enabled", "false");
        config.setProperty("hazelcast.heartbeat.interval.seconds", "1");
        config.setProperty("hazelcast.max.no.heartbeat.seconds", Integer.toString(options.memberHeartbeatSeconds));
        config.setProperty("hazelcast.socket.bind.any", "false");
        config.setProperty("hazelcast.local.localAddress", options.host);
        NetworkConfig network = config.getNetworkConfig();
        network.setPort(options.port).setPortAutoIncrement(false).setPortCount(1);
        network.getInterfaces().setEnabled(true).addInterface(options.host);
        network.setPublicAddress(options.host + ":" + options.port);
        JoinConfig join = network.getJoin();
        join.getMulticastConfig().setEnabled(false);
        join.getAutoDetectionConfig().setEnabled(false);
        join.getTcpIpConfig().setEnabled(true).setConnectionTimeoutSeconds(2)
                .setMembers(options.join.isEmpty() ? List.of(options.host + ":" + options.port) : options.join);
        int threads = Math.max(64, 4 * options.workers);
        config.getExecutorConfig(Tasks.CHUNK_EXECUTOR).setPoolSize(threads).setQueueCapacity(0).setStatisticsEnabled(false);
        config.getExecutorConfig(Tasks.CONTROL_EXECUTOR).setPoolSize(8).setQueueCapacity(0).setStatisticsEnabled(false);
        config.getUserContext().put(MemberService.USER_CONTEXT_KEY, service);

        HazelcastInstance hazelcast = Hazelcast.newHazelcastInstance(config);
        service.setName(options.name != null ? options.name : options.host + ":" + options.port);
        hazelcast.getClientService().addClientListener(new ClientListener() {
            @Override
            public void clientConnected(Client client) {}

            @Override
            public void clientDisconnected(Client client) {
                // the client may still reach other members; only a client that is gone for good loses its sessions
                boolean stillConnected = hazelcast.getClientService().getConnectedClients().stream()
                        .anyMatch(c -> c.getUuid().equals(client.getUuid()));
                if (!stillConnected) {
                    service.clientLeft(client.getUuid());
                }
            }
        });
        return new ClusterMember(hazelcast, service);
    }

    /** This member's name (host:port unless set), which its worker JVMs see as {@code PROCPOOL_MEMBER}. */
    public String name() {
        return service.name();
    }

    /** Ends every session's workers and leaves the cluster. */
    @Override
    public void close() {
        service.shutdown();
        hazelcast.getLifecycleService().terminate(); // members hold no data: no migration to wait for
    }

    public static void main(String[] args) throws Exception {
        Options options = options();
        for (int i = 0; i < args.length; i++) {
            String value = i + 1 < args.length ? args[i + 1] : null;
            switch (args[i]) {
                case "--host" -> options.host(value);
                case "--port" -> options.port(Integer.parseInt(value));
                case "--join" -> options.join(value.split(","));
                case "--cluster-name" -> options.clusterName(value);
                case "--workers" -> options.workers(Integer.parseInt(value));
                case "--cache-dir" -> options.cacheDirectory(Path.of(value));
                case "--name" -> options.name(value);
                case "--member-heartbeat-seconds" -> options.memberHeartbeatSeconds(Integer.parseInt(value));
                default -> {
                    System.err.println("unknown option " + args[i] + "\nusage: ClusterMember [--host H] [--port P]"
                            + " [--join H:P,H:P...] [--cluster-name N] [--workers W] [--cache-dir D] [--name N]"
                            + " [--member-heartbeat-seconds S]");
                    System.exit(2);
                }
            }
            i++;
        }
        ClusterMember member = options.start();
        Runtime.getRuntime().addShutdownHook(new Thread(member::close, "procpool-member-shutdown"));
        System.out.println("procpool member ready " + member.name());
        System.out.flush();
        Thread.currentThread().join();
    }
}
