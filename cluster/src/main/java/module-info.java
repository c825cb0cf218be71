/**
 * procpool-cluster: the {@link dev.procpool.Pool} calls across machines on Hazelcast. The API is
 * {@link dev.procpool.cluster.ClusterPool} and {@link dev.procpool.cluster.ClusterMember}; the engine,
 * member registry and wire live in {@code dev.procpool.cluster.internal}.
 */
module dev.procpool.cluster {
    requires transitive dev.procpool;
    requires com.hazelcast.core;
    requires org.slf4j;

    exports dev.procpool.cluster;
    // The tasks members run arrive through Hazelcast's serialization.
    opens dev.procpool.cluster.internal to com.hazelcast.core;
}
