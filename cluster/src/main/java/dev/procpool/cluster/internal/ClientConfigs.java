package dev.procpool.cluster.internal;

import com.hazelcast.client.config.ClientConfig;
import java.util.ArrayList;
import java.util.UUID;

/** The Hazelcast client configuration of a pool: this JVM joins as a client, never as a member. */
final class ClientConfigs {
    private ClientConfigs() {}

    static ClientConfig forPool(ClusterSettings settings) {
        ClientConfig config = new ClientConfig();
        config.setClusterName(settings.clusterName());
        config.setInstanceName("procpool-client-" + UUID.randomUUID());
        config.setProperty("hazelcast.phone.home.enabled", "false");
        config.setProperty("hazelcast.logging.type", System.getProperty("hazelcast.logging.type", "slf4j"));
        config.setProperty("hazelcast.client.heartbeat.interval", "1000");
        // Hazelcast's own connection watchdog backs up ours, a little later than ours.
        config.setProperty("hazelcast.client.heartbeat.timeout",
                Long.toString(Math.max(2000, 2 * settings.heartbeatTimeout().toMillis())));
        config.setProperty("hazelcast.client.statistics.enabled", "false");
        config.getNetworkConfig().setAddresses(new ArrayList<>(settings.addresses())).setSmartRouting(true)
                .setConnectionTimeout((int) Math.min(Integer.MAX_VALUE, settings.heartbeatTimeout().toMillis()));
        config.getNetworkConfig().getAutoDetectionConfig().setEnabled(false);
        config.getConnectionStrategyConfig().getConnectionRetryConfig()
                .setClusterConnectTimeoutMillis(settings.connectTimeout().toMillis())
                .setInitialBackoffMillis(200).setMaxBackoffMillis(2000);
        return config;
    }
}
