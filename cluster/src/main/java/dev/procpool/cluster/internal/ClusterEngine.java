package dev.procpool.cluster.internal;

import com.hazelcast.client.HazelcastClient;
import com.hazelcast.cluster.Member;
import com.hazelcast.cluster.MembershipEvent;
import com.hazelcast.cluster.MembershipListener;
import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.core.IExecutorService;
import dev.procpool.PoolMode;
import dev.procpool.PoolStats;
import dev.procpool.ProcessPoolException;
import dev.procpool.internal.engine.Chunk;
import dev.procpool.internal.engine.Engine;
import dev.procpool.internal.engine.EnginePool;
import dev.procpool.internal.engine.Job;
import dev.procpool.internal.engine.Scheduler;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs a pool's chunks on Hazelcast members, each of which runs them on its own local pool of worker
 * JVMs (one session per pool on each member, see {@link MemberService}). This JVM is a Hazelcast client.
 *
 * <p><b>Design.</b> One dispatcher thread does everything that is not an answer: on each wake-up (a
 * call queued work, an answer freed a slot, a member became ready) and at least every tick, it prepares
 * new members, checks heartbeats, fails the queued work when no member has been reachable for the
 * heartbeat timeout, then takes chunks from the scheduler while some ready member has room
 * ({@link MemberRegistry#reserve}) and sends each ({@link ChunkTransport}). Answers come back on
 * Hazelcast's threads and go straight to their jobs. A chunk a member cannot finish (it left, missed
 * heartbeats, lost its session) is put back in the scheduler, first in line, and runs elsewhere; after
 * {@link #MAX_ATTEMPTS} members its inputs fail.
 */
public final class ClusterEngine implements Engine {
    private static final Logger log = LoggerFactory.getLogger(ClusterEngine.class);
    static final int MAX_ATTEMPTS = 6;
    /** How long closing a shared value waits for the members to confirm they freed it. */
    private static final long UNSHARE_WAIT_SECONDS = 5;

    private final ClusterSettings settings;
    private final Scheduler scheduler;
    private final UUID session = UUID.randomUUID();
    private final MemberRegistry registry = new MemberRegistry();
    private final ExecutorService preparer = Executors.newCachedThreadPool(daemon("procpool-cluster-prepare"));
    private final ExecutorService pinger = Executors.newCachedThreadPool(daemon("procpool-cluster-heartbeat"));
    private final JarShipper shipper;
    private final HazelcastInstance client;
    private final IExecutorService control;
    private final ChunkTransport transport;
    private final Heartbeats heartbeats;
    private final Thread dispatcher;
    private final long tickMillis;
    private final Object wakeLock = new Object();
    private boolean wakeRequested; // guarded by wakeLock
    private volatile boolean stopped;
    /**
     * Set when close or terminate ends the members' sessions: from then on every call's work is done or
     * failed, so a chunk that fails in transport (the client shutting down) or finds its session gone is
     * simply dropped; no member is given up, and none is prepared again for a pool that is ending.
     */
    private volatile boolean ending;
    private final CompletableFuture<Void> stoppedHere = new CompletableFuture<>();
    /** Values shared with {@code Pool.share}, as Kryo bytes: sent to each member once, and to members that join later. */
    private final Map<Long, byte[]> sharedValues = new ConcurrentHashMap<>();

    /** Connects, ships the class path and returns once a member is ready; leaves nothing running if it throws. */
    public ClusterEngine(ClusterSettings settings, EnginePool.EngineContext context) {
        this.settings = settings;
        this.scheduler = context.scheduler();
        this.tickMillis = Math.max(20, Math.min(250, settings.heartbeatTimeout().toMillis() / 10));
        this.shipper = new JarShipper(settings);
        this.client = HazelcastClient.newHazelcastClient(ClientConfigs.forPool(settings));
        this.control = client.getExecutorService(Tasks.CONTROL_EXECUTOR);
        this.transport = new ChunkTransport(client.getExecutorService(Tasks.CHUNK_EXECUTOR), session, registry,
                this::handBack, this::dispatch, () -> ending);
        this.heartbeats = new Heartbeats(registry, control, pinger, settings.heartbeatTimeout(), this::handBack);
        this.dispatcher = new Thread(this::dispatchLoop, "procpool-cluster-dispatch");
        dispatcher.setDaemon(true);
        try {
            client.getCluster().addMembershipListener(new MembershipListener() {
                @Override
                public void memberAdded(MembershipEvent event) {
                    registry.added(event.getMember());
                    dispatch();
                }

                @Override
                public void memberRemoved(MembershipEvent event) {
                    handBack(registry.removed(event.getMember()), "its member left the cluster");
                }
            });
            for (Member member : client.getCluster().getMembers()) {
                registry.added(member);
            }
            dispatcher.start();
            registry.awaitReady(settings.connectTimeout());
        } catch (InterruptedException e) {
            stopHere();
            Thread.currentThread().interrupt();
            throw new ProcessPoolException("interrupted while connecting to the cluster", e);
        } catch (RuntimeException | Error e) {
            stopHere();
            throw e;
        }
    }

    @Override
    public PoolMode mode() {
        return PoolMode.PROCESSES;
    }

    /** Worker JVMs across the ready members (at least 1, so that chunk sizes stay defined). */
    @Override
    public int parallelism() {
        return Math.max(1, registry.readyWorkers());
    }

    @Override
    public void dispatch() {
        synchronized (wakeLock) {
            wakeRequested = true;
            wakeLock.notifyAll();
        }
    }

    private void dispatchLoop() {
        while (!stopped) {
            synchronized (wakeLock) {
                wakeRequested = false;
            }
            try {
                housekeeping();
                while (!stopped && dispatchOne()) {
                    // until no member has room or no chunk is queued
                }
                synchronized (wakeLock) {
                    if (!wakeRequested && !stopped) {
                        wakeLock.wait(tickMillis);
                    }
                }
            } catch (InterruptedException e) {
                return;
            } catch (RuntimeException | Error e) { // a bug must not stop the pool silently: keep going, loudly
                log.error("procpool cluster dispatcher: unexpected failure", e);
            }
        }
    }

    private boolean dispatchOne() {
        RemoteMember member = registry.reserve();
        if (member == null) {
            return false;
        }
        Chunk chunk = scheduler.pollNow();
        if (chunk == null) {
            registry.release(member);
            return false;
        }
        transport.send(member, chunk);
        return true;
    }

    private void housekeeping() {
        if (ending) {
            return; // no new session, no heartbeat verdict, nothing queued: the pool's calls are over
        }
        UUID clientId = client.getLocalEndpoint().getUuid();
        for (RemoteMember member : registry.startPreparing()) {
            preparer.execute(() -> prepare(member, clientId));
        }
        heartbeats.check();
        String why = registry.noMemberFor(settings.heartbeatTimeout());
        if (why != null) {
            ProcessPoolException reason = new ProcessPoolException("no procpool cluster member is left to run the call "
                    + "(cluster " + settings.clusterName() + ", addresses " + settings.addresses() + "): " + why);
            for (Chunk chunk; (chunk = scheduler.pollNow()) != null; ) {
                chunk.job().failAll(reason);
            }
        }
    }

    private void prepare(RemoteMember member, UUID clientId) {
        try {
            Tasks.PrepareReply reply = shipper.prepare(control, member.member, session, clientId);
            java.util.Set<Long> sent = new java.util.HashSet<>(sharedValues.keySet());
            sendShared(member.member, sent);
            registry.prepared(member, reply.memberName(), reply.workers());
            java.util.Set<Long> sharedMeanwhile = new java.util.HashSet<>(sharedValues.keySet());
            sharedMeanwhile.removeAll(sent);
            sendShared(member.member, sharedMeanwhile); // share() saw this member not ready yet
            dispatch();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (Exception e) {
            Throwable cause = e instanceof ExecutionException && e.getCause() != null ? e.getCause() : e;
            if (!stopped) {
                log.warn("procpool cluster: cannot prepare member {}: {}", member.name, cause.toString());
            }
            handBack(registry.giveUp(member, "cannot prepare it: " + cause), "its member could not be prepared");
        }
    }

    /**
     * {@code Pool.share} on the cluster: the value's bytes go to every ready member once (each decodes it
     * and shares it with its own workers, see {@link MemberService#share}); members that become ready
     * later get them while being prepared. Blocks until the ready members have it.
     */
    @Override
    public void share(long id, Object value) {
        byte[] bytes;
        try {
            ClassLoader loader = value.getClass().getClassLoader();
            bytes = Wire.write(value, loader == null ? ClusterEngine.class.getClassLoader() : loader);
        } catch (RuntimeException | StackOverflowError e) {
            throw new ProcessPoolException("cannot share a " + value.getClass().getName()
                    + " with cluster members: it cannot be serialized: " + e, e);
        }
        sharedValues.put(id, bytes);
        for (Member member : registry.readyMembers()) {
            sendShared(member, java.util.Set.of(id));
        }
    }

    @Override
    public void unshare(long id) {
        if (sharedValues.remove(id) == null) {
            return;
        }
        List<Future<Boolean>> answers = new ArrayList<>();
        for (Member member : registry.reachable()) {
            try {
                answers.add(control.submitToMember(new Tasks.Unshare(session, id), member));
            } catch (RuntimeException e) {
                log.debug("cannot free shared value on {}: {}", member, e.toString());
            }
        }
        // wait (bounded) for the members, so that a call made after close() finds the value gone everywhere
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(UNSHARE_WAIT_SECONDS);
        for (Future<Boolean> answer : answers) {
            try {
                answer.get(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            } catch (ExecutionException | TimeoutException e) {
                log.debug("freeing a shared value not confirmed: {}", e.toString());
            }
        }
    }

    /** Sends these shared values to one member and waits for it to have them. */
    private void sendShared(Member member, java.util.Set<Long> ids) {
        for (long id : ids) {
            byte[] bytes = sharedValues.get(id);
            if (bytes == null) {
                continue; // closed meanwhile
            }
            try {
                control.submitToMember(new Tasks.Share(session, id, bytes), member)
                        .get(settings.connectTimeout().toMillis(), TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new ProcessPoolException("interrupted while sharing a value with cluster members", e);
            } catch (ExecutionException | TimeoutException | RuntimeException e) {
                log.warn("procpool cluster: member {} did not take shared value {}: {}", member,
                        dev.procpool.internal.worker.SharedValues.name(id), e.toString());
            }
        }
    }

    /** Chunks a member did not finish run elsewhere, first in line; after too many members, their inputs fail. */
    private void handBack(List<Chunk> chunks, String reason) {
        for (Chunk chunk : chunks) {
            Job job = chunk.job();
            if (job.isFinished()) {
                continue;
            }
            int attempts = job.recordCrash(chunk.indices()[0]);
            if (attempts < MAX_ATTEMPTS) {
                scheduler.requeue(chunk);
                continue;
            }
            for (long index : chunk.indices()) {
                job.failed(index, new ProcessPoolException("the chunk holding input " + index + " was tried on "
                        + attempts + " cluster members and none finished it; last: " + reason, null, index));
            }
        }
        dispatch();
    }

    /** Tells the members holding the job's chunks to stop them: each kills the worker JVMs running them. */
    @Override
    public void interruptRunning(Job job) {
        for (RemoteMember member : registry.holding(job)) {
            try {
                control.submitToMember(new Tasks.CancelJob(session, job.id), member.member);
            } catch (RuntimeException e) {
                log.debug("cannot cancel job {} on {}: {}", job.id, member.name, e.toString());
            }
        }
    }

    /** One entry per worker JVM of the ready members; they live on other machines, so no pid. */
    @Override
    public List<PoolStats.Worker> workers() {
        List<PoolStats.Worker> list = new ArrayList<>();
        for (int i = 1, n = registry.readyWorkers(); i <= n; i++) {
            list.add(new PoolStats.Worker(i, -1, Duration.ZERO));
        }
        return list;
    }

    /** Names (host:port) of the members in use now. */
    public List<String> members() {
        return registry.readyNames();
    }

    /** How many inputs each member has run for this pool (results taken), by member name. */
    public Map<String, Long> inputsPerMember() {
        return registry.inputsPerMember();
    }

    /** The members' own pool counters for this pool, summed over those that answer within a few seconds. */
    public PoolStats memberStats() {
        long[] sum = new long[9];
        for (Member member : registry.readyMembers()) {
            try {
                long[] part = control.submitToMember(new Tasks.Stats(session), member).get(3, TimeUnit.SECONDS);
                for (int i = 0; i < sum.length; i++) {
                    sum[i] += part[i];
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            } catch (ExecutionException | TimeoutException | RuntimeException e) {
                log.debug("no stats from {}: {}", member, e.toString());
            }
        }
        List<PoolStats.Worker> workers = new ArrayList<>();
        for (int i = 0; i < sum[0]; i++) {
            workers.add(new PoolStats.Worker(i, -1, Duration.ZERO));
        }
        return new PoolStats(PoolMode.PROCESSES, workers, sum[1], sum[2], sum[3], sum[4], sum[5], sum[6], sum[7]);
    }

    @Override
    public void shutdown(long deadlineNanos) {
        ending = true;
        endSessions(false, deadlineNanos);
        stopHere();
    }

    @Override
    public void terminate() {
        ending = true;
        endSessions(true, System.nanoTime() + TimeUnit.SECONDS.toNanos(2));
        stopHere();
    }

    /** Asks every reachable member to end this pool's session (orderly, or killing its workers), and waits a little. */
    private void endSessions(boolean terminate, long deadlineNanos) {
        if (stopped) {
            return;
        }
        List<Future<Boolean>> answers = new ArrayList<>();
        for (Member member : registry.reachable()) {
            try {
                answers.add(control.submitToMember(new Tasks.CloseSession(session, terminate), member));
            } catch (RuntimeException e) {
                log.debug("cannot close session on {}: {}", member, e.toString());
            }
        }
        for (Future<Boolean> answer : answers) {
            try {
                long left = Math.min(deadlineNanos - System.nanoTime(), TimeUnit.SECONDS.toNanos(2));
                answer.get(Math.max(1, left), TimeUnit.NANOSECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            } catch (ExecutionException | TimeoutException e) {
                log.debug("session close not confirmed: {}", e.toString());
            }
        }
    }

    /**
     * Complete once the members were asked to end this pool's session and this JVM's side has stopped:
     * what a member still runs after that is its own pool's to end, within its close timeout.
     */
    @Override
    public CompletableFuture<Void> stopped() {
        return stoppedHere;
    }

    /** Stops this JVM's side: threads and the Hazelcast client. Idempotent. */
    private void stopHere() {
        stopped = true;
        preparer.shutdownNow();
        pinger.shutdownNow();
        dispatcher.interrupt();
        try {
            client.shutdown();
        } catch (RuntimeException e) {
            log.debug("client shutdown: {}", e.toString());
        }
        stoppedHere.complete(null);
    }

    private static java.util.concurrent.ThreadFactory daemon(String name) {
        return runnable -> {
            Thread thread = new Thread(runnable, name);
            thread.setDaemon(true);
            return thread;
        };
    }
}
