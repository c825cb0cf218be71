package dev.procpool.cluster.internal;

import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.core.HazelcastInstanceAware;
import java.io.Serializable;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.Callable;

/**
 * What the client sends to members through Hazelcast's executor services: small Java-serializable
 * tasks whose classes live in procpool-cluster (on every member's classpath). User objects travel
 * inside them as Kryo bytes and are read on the member in the job's own class loader.
 */
public final class Tasks {
    public static final String CHUNK_EXECUTOR = "procpool-chunks";
    public static final String CONTROL_EXECUTOR = "procpool-control";

    private Tasks() {}

    /** One jar of the caller's classpath, named by the SHA-256 of its bytes. */
    record JarRef(String sha256, String name, long size) implements Serializable {}

    /** What a member's pool for one session is built with. */
    record SessionSettings(int workersPerMember, List<String> jvmOptions, Map<String, String> environment,
            int maxTasksPerWorker, long taskTimeoutMillis, int retries, byte[] initializer) implements Serializable {}

    record PrepareReply(List<String> missing, String memberName, int workers) implements Serializable {}

    /**
     * Outcome of one chunk: per-element Kryo bytes (a value or a {@link RemoteFailures.ElementFailure}), or,
     * when the member has no pool for the session (it restarted, or closed it), why not.
     */
    record ChunkReply(byte[][] elements, String sessionUnknown) implements Serializable {}

    /** Base: finds this member's {@link MemberService} in the Hazelcast user context. */
    abstract static class MemberTask<T> implements Callable<T>, Serializable, HazelcastInstanceAware {
        private static final long serialVersionUID = 1L;
        transient MemberService service;

        @Override
        public void setHazelcastInstance(HazelcastInstance instance) {
            service = (MemberService) instance.getUserContext().get(MemberService.USER_CONTEXT_KEY);
        }

        MemberService service() {
            if (service == null) {
                throw new IllegalStateException("this Hazelcast member is not a procpool member (no MemberService)");
            }
            return service;
        }
    }

    /** Creates (or confirms) the session's pool; replies with the jars the member still lacks. */
    static final class Prepare extends MemberTask<PrepareReply> {
        private static final long serialVersionUID = 1L;
        final UUID session;
        final UUID client;
        final List<JarRef> jars;
        final SessionSettings settings;

        Prepare(UUID session, UUID client, List<JarRef> jars, SessionSettings settings) {
            this.session = session;
            this.client = client;
            this.jars = jars;
            this.settings = settings;
        }

        @Override
        public PrepareReply call() throws Exception {
            return service().prepare(session, client, jars, settings);
        }
    }

    /** One piece of one jar; the last piece is checked against the hash and moves the jar into the cache. */
    static final class Upload extends MemberTask<Boolean> {
        private static final long serialVersionUID = 1L;
        final String sha256;
        final UUID upload;
        final long offset;
        final byte[] bytes;
        final boolean last;

        Upload(String sha256, UUID upload, long offset, byte[] bytes, boolean last) {
            this.sha256 = sha256;
            this.upload = upload;
            this.offset = offset;
            this.bytes = bytes;
            this.last = last;
        }

        @Override
        public Boolean call() throws Exception {
            service().upload(sha256, upload, offset, bytes, last);
            return Boolean.TRUE;
        }
    }

    /** Runs one chunk on the member's pool for the session; {@code indices[i]} is input i's index in the whole call. */
    static final class Chunk extends MemberTask<ChunkReply> {
        private static final long serialVersionUID = 1L;
        final UUID session;
        final long job;
        final byte[] function;
        final long[] indices;
        final byte[][] inputs;

        Chunk(UUID session, long job, byte[] function, long[] indices, byte[][] inputs) {
            this.session = session;
            this.job = job;
            this.function = function;
            this.indices = indices;
            this.inputs = inputs;
        }

        @Override
        public ChunkReply call() {
            return service().runChunk(this);
        }
    }

    /**
     * {@code Pool.share}: the member decodes the value once and shares it with its session's workers under
     * the caller's id (a second time is a no-op); false when it has no session for the pool.
     */
    static final class Share extends MemberTask<Boolean> {
        private static final long serialVersionUID = 1L;
        final UUID session;
        final long id;
        final byte[] value;

        Share(UUID session, long id, byte[] value) {
            this.session = session;
            this.id = id;
            this.value = value;
        }

        @Override
        public Boolean call() {
            return service().share(session, id, value);
        }
    }

    /** The shared value was closed: the member frees it (its segment, its workers' copies). */
    static final class Unshare extends MemberTask<Boolean> {
        private static final long serialVersionUID = 1L;
        final UUID session;
        final long id;

        Unshare(UUID session, long id) {
            this.session = session;
            this.id = id;
        }

        @Override
        public Boolean call() {
            service().unshare(session, id);
            return Boolean.TRUE;
        }
    }

    /** Liveness: answered on the control executor, so a member busy with chunks still answers at once. */
    static final class Ping extends MemberTask<String> {
        private static final long serialVersionUID = 1L;

        @Override
        public String call() {
            return service().name();
        }
    }

    /** Counters of the session's pool on this member, in {@link dev.procpool.PoolStats} order. */
    static final class Stats extends MemberTask<long[]> {
        private static final long serialVersionUID = 1L;
        final UUID session;

        Stats(UUID session) {
            this.session = session;
        }

        @Override
        public long[] call() {
            return service().stats(session);
        }
    }

    /**
     * {@code cancel(true)} of a call: the member stops the call's running chunks (killing the worker JVMs
     * running them) and skips its chunks that arrive later.
     */
    static final class CancelJob extends MemberTask<Boolean> {
        private static final long serialVersionUID = 1L;
        final UUID session;
        final long job;

        CancelJob(UUID session, long job) {
            this.session = session;
            this.job = job;
        }

        @Override
        public Boolean call() {
            service().cancelJob(session, job);
            return Boolean.TRUE;
        }
    }

    /** Closes the session's pool on this member (orderly, or killing its workers). */
    static final class CloseSession extends MemberTask<Boolean> {
        private static final long serialVersionUID = 1L;
        final UUID session;
        final boolean terminate;

        CloseSession(UUID session, boolean terminate) {
            this.session = session;
            this.terminate = terminate;
        }

        @Override
        public Boolean call() {
            service().closeSession(session, terminate);
            return Boolean.TRUE;
        }
    }
}
