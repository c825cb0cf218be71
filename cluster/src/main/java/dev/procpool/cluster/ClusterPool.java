package dev.procpool.cluster;

import com.hazelcast.client.HazelcastClient;
import com.hazelcast.client.config.ClientConfig;
import com.hazelcast.cluster.Member;
import com.hazelcast.cluster.MembershipEvent;
import com.hazelcast.cluster.MembershipListener;
import com.hazelcast.core.ExecutionCallback;
import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.core.IExecutorService;
import dev.procpool.Pool;
import dev.procpool.PoolMode;
import dev.procpool.PoolStats;
import dev.procpool.ProcessPoolException;
import dev.procpool.ResultIterator;
import dev.procpool.SerializableBiFunction;
import dev.procpool.SerializableCallable;
import dev.procpool.SerializableFunction;
import dev.procpool.SerializableRunnable;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

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
 * <p><b>Same calls, same results, same failures</b> as the local pool: {@code map}, {@code mapAsync},
 * {@code starmap}, {@code apply}, {@code submit}, {@code imap}, {@code imapUnordered}; a task that
 * throws, a worker JVM that crashes and a task timeout on a member reach the caller as
 * {@link dev.procpool.TaskFailedException}, {@link dev.procpool.WorkerCrashedException} and
 * {@link dev.procpool.TaskTimeoutException} naming the input's index in the whole call.
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
public final class ClusterPool implements Pool {
    private static final Logger log = LoggerFactory.getLogger(ClusterPool.class);
    private static final int UPLOAD_PIECE = 4 << 20;
    private static final int MAX_ATTEMPTS = 6;

    private enum Status { NEW, PREPARING, READY, DOWN }

    private final class MemberState {
        final Member member;
        String name;
        Status status = Status.NEW;
        String downReason;
        int workers;
        final Map<Object, ClusterJob.Chunk> inFlight = new HashMap<>();
        long pingSentAt;
        long lastPong = System.nanoTime();
        long chunksRun;
        long elementsRun;

        MemberState(Member member) {
            this.member = member;
            this.name = member.getAddress().getHost() + ":" + member.getAddress().getPort();
        }

        int capacity() {
            return status == Status.READY ? Math.max(2, 2 * workers) - inFlight.size() : 0;
        }
    }

    private final Object lock = new Object();
    private final Builder config;
    private final HazelcastInstance client;
    private final IExecutorService chunkExecutor;
    private final IExecutorService controlExecutor;
    private final UUID session = UUID.randomUUID();
    private final List<Tasks.JarRef> jarRefs = new ArrayList<>();
    private final Map<String, Path> jarFiles = new HashMap<>();
    private final Tasks.SessionSettings settings;
    private final Map<UUID, MemberState> members = new LinkedHashMap<>();
    private final List<ClusterJob> jobs = new ArrayList<>();
    private final AtomicLong jobIds = new AtomicLong();
    private final ExecutorService preparer = Executors.newCachedThreadPool(daemon("procpool-cluster-prepare"));
    private final ExecutorService pinger = Executors.newCachedThreadPool(daemon("procpool-cluster-heartbeat"));
    private final Thread dispatcher;
    private final long heartbeatNanos;
    private long noMemberSince = System.nanoTime();
    private volatile boolean open = true;
    private boolean closing;

    private ClusterPool(Builder builder) {
        this.config = builder;
        this.heartbeatNanos = builder.heartbeatTimeout.toNanos();
        byte[] initializer = builder.initializer == null ? null
                : Wire.write(builder.initializer, builder.initializer.getClass().getClassLoader());
        this.settings = new Tasks.SessionSettings(builder.workersPerMember, List.copyOf(builder.jvmOptions),
                Map.copyOf(builder.environment), builder.maxTasksPerWorker,
                builder.taskTimeout == null ? 0 : builder.taskTimeout.toMillis(), builder.retries, initializer);
        try {
            for (Jars.Local jar : Jars.callerClassPath(builder.scratchDirectory())) {
                if (jarFiles.putIfAbsent(jar.sha256(), jar.file()) == null) {
                    jarRefs.add(new Tasks.JarRef(jar.sha256(), jar.name(), jar.size()));
                }
            }
        } catch (IOException e) {
            throw new ProcessPoolException("cannot read this JVM's class path to ship it: " + e, e);
        }
        this.client = HazelcastClient.newHazelcastClient(clientConfig(builder));
        this.chunkExecutor = client.getExecutorService(Tasks.CHUNK_EXECUTOR);
        this.controlExecutor = client.getExecutorService(Tasks.CONTROL_EXECUTOR);
        client.getCluster().addMembershipListener(new MembershipListener() {
            @Override
            public void memberAdded(MembershipEvent event) {
                synchronized (lock) {
                    members.computeIfAbsent(event.getMember().getUuid(), u -> new MemberState(event.getMember()));
                    lock.notifyAll();
                }
            }

            @Override
            public void memberRemoved(MembershipEvent event) {
                synchronized (lock) {
                    MemberState state = members.remove(event.getMember().getUuid());
                    if (state != null) {
                        retiredCounts.merge(state.name, state.elementsRun, Long::sum);
                        giveUp(state, "left the cluster");
                    }
                }
            }
        });
        synchronized (lock) {
            for (Member member : client.getCluster().getMembers()) {
                members.computeIfAbsent(member.getUuid(), u -> new MemberState(member));
            }
        }
        this.dispatcher = new Thread(this::dispatchLoop, "procpool-cluster-dispatch");
        dispatcher.setDaemon(true);
        dispatcher.start();
        awaitMembers(builder.connectTimeout);
    }

    private static ClientConfig clientConfig(Builder builder) {
        ClientConfig config = new ClientConfig();
        config.setClusterName(builder.clusterName);
        config.setInstanceName("procpool-client-" + UUID.randomUUID());
        config.setProperty("hazelcast.phone.home.enabled", "false");
        config.setProperty("hazelcast.logging.type", System.getProperty("hazelcast.logging.type", "slf4j"));
        config.setProperty("hazelcast.client.heartbeat.interval", "1000");
        // Hazelcast's own connection watchdog backs up ours, a little later than ours.
        config.setProperty("hazelcast.client.heartbeat.timeout",
                Long.toString(Math.max(2000, 2 * builder.heartbeatTimeout.toMillis())));
        config.setProperty("hazelcast.client.statistics.enabled", "false");
        config.getNetworkConfig().setAddresses(new ArrayList<>(builder.members)).setSmartRouting(true)
                .setConnectionTimeout((int) Math.min(Integer.MAX_VALUE, builder.heartbeatTimeout.toMillis()));
        config.getNetworkConfig().getAutoDetectionConfig().setEnabled(false);
        config.getConnectionStrategyConfig().getConnectionRetryConfig()
                .setClusterConnectTimeoutMillis(builder.connectTimeout.toMillis())
                .setInitialBackoffMillis(200).setMaxBackoffMillis(2000);
        return config;
    }

    /** Until every member known now is ready (or given up) and at least one is ready. */
    private void awaitMembers(Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        synchronized (lock) {
            while (members.values().stream().noneMatch(m -> m.status == Status.READY)
                    || members.values().stream().anyMatch(m -> m.status == Status.NEW || m.status == Status.PREPARING)) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    String reasons = members.values().stream().map(m -> m.name + ": " + m.status
                            + (m.downReason == null ? "" : " (" + m.downReason + ")")).toList().toString();
                    shutdownQuietly();
                    throw new ProcessPoolException("no procpool cluster member became ready within " + timeout
                            + "; members: " + reasons);
                }
                try {
                    TimeUnit.NANOSECONDS.timedWait(lock, left);
                } catch (InterruptedException e) {
                    shutdownQuietly();
                    Thread.currentThread().interrupt();
                    throw new ProcessPoolException("interrupted while connecting to the cluster", e);
                }
            }
        }
    }

    /** A builder: at least {@link Builder#members} is needed. */
    public static Builder builder() {
        return new Builder();
    }

    /** Always {@link PoolMode#PROCESSES}: members run tasks in worker JVMs. */
    @Override
    public PoolMode mode() {
        return PoolMode.PROCESSES;
    }

    /** Worker JVMs across the members in use now. */
    public int workers() {
        synchronized (lock) {
            return members.values().stream().filter(m -> m.status == Status.READY).mapToInt(m -> m.workers).sum();
        }
    }

    /** Names (host:port) of the members in use now. */
    public List<String> members() {
        synchronized (lock) {
            return members.values().stream().filter(m -> m.status == Status.READY).map(m -> m.name).toList();
        }
    }

    /** How many inputs each member has run for this pool (results taken), by member name. */
    public Map<String, Long> inputsPerMember() {
        synchronized (lock) {
            Map<String, Long> counts = new LinkedHashMap<>(retiredCounts);
            for (MemberState m : members.values()) {
                counts.merge(m.name, m.elementsRun, Long::sum);
            }
            return counts;
        }
    }

    private final Map<String, Long> retiredCounts = new LinkedHashMap<>();

    /**
     * The members' pool counters for this pool, summed over the members that answer within a few
     * seconds. Worker entries carry no pid (they live on other machines): id only.
     */
    @Override
    public PoolStats stats() {
        List<Member> targets;
        synchronized (lock) {
            targets = members.values().stream().filter(m -> m.status == Status.READY).map(m -> m.member).toList();
        }
        long[] sum = new long[9];
        for (Member member : targets) {
            try {
                long[] part = controlExecutor.submitToMember(new Tasks.Stats(session), member).get(3, TimeUnit.SECONDS);
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

    // ------------------------------------------------------------------------------------ calls

    /** As {@link dev.procpool.ProcessPool#map(SerializableFunction, Iterable, int)}; 0: about len / (4 × workers). */
    @Override
    public <T, R> List<R> map(SerializableFunction<? super T, ? extends R> function, Iterable<? extends T> inputs,
            int chunkSize) {
        return await(mapAsync(function, inputs, chunkSize));
    }

    @Override
    public <T, R> CompletableFuture<List<R>> mapAsync(SerializableFunction<? super T, ? extends R> function,
            Iterable<? extends T> inputs, int chunkSize) {
        Objects.requireNonNull(function, "function");
        return all(function, toArray(Objects.requireNonNull(inputs, "inputs")), chunkSize);
    }

    /** As {@link dev.procpool.ProcessPool#starmap}: pairs are {@link Map.Entry} values. */
    @Override
    public <A, B, R> List<R> starmap(SerializableBiFunction<? super A, ? super B, ? extends R> function,
            Iterable<? extends Map.Entry<? extends A, ? extends B>> pairs) {
        Objects.requireNonNull(function, "function");
        return await(all(function, toArray(Objects.requireNonNull(pairs, "pairs")), 0));
    }

    @Override
    public <T, R> R apply(SerializableFunction<? super T, ? extends R> function, T argument) {
        Objects.requireNonNull(function, "function");
        List<R> result = await(all(function, new Object[] {argument}, 1));
        return result.get(0);
    }

    @Override
    public <R> CompletableFuture<R> submit(SerializableCallable<? extends R> task) {
        Objects.requireNonNull(task, "task");
        CompletableFuture<List<R>> all = all(task, new Object[] {null}, 1);
        return derive(all, list -> list.get(0));
    }

    @Override
    public CompletableFuture<Void> submit(SerializableRunnable task) {
        Objects.requireNonNull(task, "task");
        CompletableFuture<List<Object>> all = all(task, new Object[] {null}, 1);
        return derive(all, list -> null);
    }

    @Override
    public <T, R> ResultIterator<R> imap(SerializableFunction<? super T, ? extends R> function,
            Iterable<? extends T> inputs, int chunkSize) {
        return lazy(function, inputs, chunkSize, true);
    }

    @Override
    public <T, R> ResultIterator<R> imapUnordered(SerializableFunction<? super T, ? extends R> function,
            Iterable<? extends T> inputs, int chunkSize) {
        return lazy(function, inputs, chunkSize, false);
    }

    @SuppressWarnings("unchecked")
    private <R> ResultIterator<R> lazy(Object function, Iterable<?> inputs, int chunkSize, boolean ordered) {
        Objects.requireNonNull(function, "function");
        Objects.requireNonNull(inputs, "inputs");
        checkChunkSize(chunkSize);
        int size = chunkSize;
        if (size == 0 && inputs instanceof Collection<?> known) {
            size = defaultChunkSize(known.size());
        }
        ClusterJob job = newJob(function, inputs.iterator(), size, true, ordered);
        ResultIterator<?> results = job.iterator();
        start(job);
        return (ResultIterator<R>) results;
    }

    @SuppressWarnings("unchecked")
    private <R> CompletableFuture<List<R>> all(Object function, Object[] inputs, int chunkSize) {
        checkChunkSize(chunkSize);
        int size = chunkSize > 0 ? chunkSize : defaultChunkSize(inputs.length);
        ClusterJob job = newJob(function, Arrays.asList(inputs).iterator(), size, false, true);
        if (inputs.length == 0) {
            checkOpen();
            job.future.complete(new ArrayList<>());
        } else {
            start(job);
        }
        CompletableFuture<R> future = (CompletableFuture<R>) (CompletableFuture<?>) job.future;
        future.whenComplete((r, e) -> {
            if (future.isCancelled()) {
                synchronized (lock) {
                    job.cancel();
                }
            }
        });
        return (CompletableFuture<List<R>>) future;
    }

    private ClusterJob newJob(Object function, java.util.Iterator<?> source, int chunkSize, boolean streaming,
            boolean ordered) {
        ClassLoader context = Thread.currentThread().getContextClassLoader();
        ClassLoader loader = context != null ? context : function.getClass().getClassLoader();
        byte kind = Wire.kindOf(function);
        byte[] bytes;
        try {
            bytes = Wire.write(function, function.getClass().getClassLoader());
        } catch (RuntimeException | StackOverflowError e) {
            throw new ProcessPoolException("the task function cannot be sent to a cluster member: " + e, e);
        }
        return new ClusterJob(jobIds.incrementAndGet(), lock, this::wake, kind, bytes, loader, source, chunkSize,
                streaming, ordered);
    }

    private void start(ClusterJob job) {
        synchronized (lock) {
            checkOpen();
            jobs.add(job);
            lock.notifyAll();
        }
    }

    private void checkOpen() {
        synchronized (lock) {
            if (!open || closing) {
                throw new IllegalStateException("the pool is " + (open ? "closing" : "closed"));
            }
        }
    }

    private int defaultChunkSize(int inputs) {
        int workers = Math.max(1, workers());
        long perChunk = ((long) inputs + 4L * workers - 1) / (4L * workers);
        return (int) Math.max(1, perChunk);
    }

    private static void checkChunkSize(int chunkSize) {
        if (chunkSize < 0) {
            throw new IllegalArgumentException("chunkSize must be >= 0 (0: default), got " + chunkSize);
        }
    }

    private static Object[] toArray(Iterable<?> inputs) {
        if (inputs instanceof Collection<?> collection) {
            return collection.toArray();
        }
        List<Object> list = new ArrayList<>();
        inputs.forEach(list::add);
        return list.toArray();
    }

    private static <A, B> CompletableFuture<B> derive(CompletableFuture<A> source, java.util.function.Function<A, B> f) {
        CompletableFuture<B> derived = new CompletableFuture<>() {
            @Override
            public boolean cancel(boolean mayInterruptIfRunning) {
                source.cancel(mayInterruptIfRunning);
                return super.cancel(mayInterruptIfRunning);
            }
        };
        source.whenComplete((value, failure) -> {
            if (failure != null) {
                derived.completeExceptionally(failure);
            } else {
                derived.complete(f.apply(value));
            }
        });
        return derived;
    }

    private static <R> R await(CompletableFuture<R> future) {
        try {
            return future.get();
        } catch (InterruptedException e) {
            future.cancel(true);
            Thread.currentThread().interrupt();
            throw new ProcessPoolException("interrupted while waiting for results; the call was cancelled", e);
        } catch (ExecutionException e) {
            Throwable failure = e.getCause();
            if (failure instanceof ProcessPoolException p) {
                p.setStackTrace(new Throwable().getStackTrace());
                throw p;
            }
            throw new ProcessPoolException(String.valueOf(failure.getMessage()), failure);
        }
    }

    // ------------------------------------------------------------------------------- dispatching

    private void wake() {
        synchronized (lock) {
            lock.notifyAll();
        }
    }

    private record Work(ClusterJob job, ClusterJob.Chunk chunk, MemberState member) {}

    private void dispatchLoop() {
        long tick = Math.max(20, Math.min(250, heartbeatNanos / 1_000_000 / 10));
        while (open) {
            Work work;
            synchronized (lock) {
                housekeeping();
                work = pickWork();
                if (work == null) {
                    try {
                        lock.wait(tick);
                    } catch (InterruptedException e) {
                        return;
                    }
                    continue;
                }
            }
            try {
                List<ClusterJob.Chunk> chunks = work.chunk != null ? List.of(work.chunk) : readChunks(work.job);
                for (ClusterJob.Chunk chunk : chunks) {
                    send(chunk);
                }
            } catch (RuntimeException | Error e) {
                log.error("procpool cluster dispatcher: unexpected failure", e);
                synchronized (lock) {
                    work.job.fail(new ProcessPoolException("the cluster pool failed to dispatch: " + e, e));
                }
            }
        }
    }

    /** Under the lock: a chunk to run again, or a job that may read more input, and a member with room. */
    private Work pickWork() {
        jobs.removeIf(j -> j.finished);
        if (jobs.isEmpty()) {
            return null;
        }
        MemberState best = bestMember();
        if (best == null) {
            return null;
        }
        int window = 0;
        for (MemberState m : members.values()) {
            if (m.status == Status.READY) {
                window += 2 * Math.max(2, 2 * m.workers);
            }
        }
        for (ClusterJob job : jobs) {
            ClusterJob.Chunk retry;
            while ((retry = job.retry.poll()) != null) {
                if (!retry.done) {
                    return new Work(job, retry, best);
                }
            }
            if (job.mayCreateChunk(window)) {
                return new Work(job, null, best);
            }
        }
        return null;
    }

    private MemberState bestMember() {
        MemberState best = null;
        for (MemberState m : members.values()) {
            if (m.capacity() > 0 && (best == null || m.capacity() > best.capacity())) {
                best = m;
            }
        }
        return best;
    }

    /** Dispatcher thread, outside the lock: read and serialize the job's next inputs. */
    private List<ClusterJob.Chunk> readChunks(ClusterJob job) {
        List<Object> inputs = job.readInputs();
        byte[][] each = new byte[inputs.size()][];
        ProcessPoolException[] bad = new ProcessPoolException[inputs.size()];
        boolean anyBad = false;
        for (int i = 0; i < inputs.size(); i++) {
            try {
                each[i] = Wire.write(inputs.get(i), job.loader);
            } catch (RuntimeException | StackOverflowError e) {
                anyBad = true;
                bad[i] = new MemberService.IndexedFailure(-1, null, e);
            }
        }
        List<byte[][]> serialized = new ArrayList<>();
        List<ProcessPoolException> unsendable = new ArrayList<>();
        synchronized (lock) {
            if (!anyBad) {
                serialized.add(each);
            } else { // one chunk per input; those that cannot be sent fail at once, as in the local pool
                for (int i = 0; i < inputs.size(); i++) {
                    long index = job.nextIndex + i;
                    serialized.add(new byte[][] {each[i]});
                    unsendable.add(bad[i] == null ? null : new MemberService.IndexedFailure(index, "input " + index
                            + " cannot be sent to a cluster member: " + bad[i].getCause(), bad[i].getCause()));
                }
            }
            return job.addChunks(inputs, serialized, unsendable);
        }
    }

    /** Dispatcher thread: run the chunk on the best member now (or put it back). */
    private void send(ClusterJob.Chunk chunk) {
        Object attempt = new Object();
        MemberState member;
        synchronized (lock) {
            if (chunk.done || chunk.job.finished) {
                return;
            }
            member = bestMember();
            if (member == null) {
                chunk.job.retry.add(chunk);
                return;
            }
            chunk.attempts++;
            chunk.currentAttempt = attempt;
            member.inFlight.put(attempt, chunk);
        }
        Tasks.Chunk task = new Tasks.Chunk(session, chunk.job.id, chunk.job.kind, chunk.job.function, chunk.firstIndex,
                chunk.inputs);
        MemberState target = member;
        try {
            chunkExecutor.submitToMember(task, member.member, new ExecutionCallback<Tasks.ChunkReply>() {
                @Override
                public void onResponse(Tasks.ChunkReply reply) {
                    answered(target, attempt, chunk, reply);
                }

                @Override
                public void onFailure(Throwable failure) {
                    failed(target, attempt, chunk, failure);
                }
            });
        } catch (RuntimeException e) {
            failed(target, attempt, chunk, e);
        }
    }

    private void answered(MemberState member, Object attempt, ClusterJob.Chunk chunk, Tasks.ChunkReply reply) {
        ClusterJob job = chunk.job;
        ClusterJob.Outcome outcome = null;
        ProcessPoolException whole = null;
        if (reply.sessionUnknown() == null) {
            synchronized (lock) {
                if (chunk.done || job.finished) {
                    member.inFlight.remove(attempt);
                    lock.notifyAll();
                    return;
                }
            }
            if (reply.chunkFailure() != null) {
                whole = readFailure(reply.chunkFailure(), job.loader);
            } else {
                outcome = decode(chunk, reply, job.loader);
            }
        }
        synchronized (lock) {
            member.inFlight.remove(attempt);
            lock.notifyAll();
            if (reply.sessionUnknown() != null) {
                log.info("procpool cluster: {}; preparing it again", reply.sessionUnknown());
                if (member.status == Status.READY) {
                    member.status = Status.NEW;
                }
                requeue(chunk, reply.sessionUnknown());
                return;
            }
            if (chunk.done || job.finished) {
                return; // another attempt's results were taken first: each chunk's results count once
            }
            job.markDone(chunk);
            member.chunksRun++;
            member.elementsRun += chunk.size;
            if (whole != null) {
                job.fail(whole);
            } else {
                job.observed(chunk.size, reply.elapsedNanos());
                job.deliver(outcome);
            }
        }
    }

    private static ProcessPoolException readFailure(byte[] bytes, ClassLoader loader) {
        try {
            return (ProcessPoolException) Wire.read(bytes, loader);
        } catch (RuntimeException | LinkageError e) {
            return new ProcessPoolException("a cluster member failed and its failure cannot be read here: " + e, e);
        }
    }

    /** Results are read with the caller's class loader, outside the lock. */
    private static ClusterJob.Outcome decode(ClusterJob.Chunk chunk, Tasks.ChunkReply reply, ClassLoader loader) {
        int n = reply.elements().length;
        Object[] values = new Object[n];
        ProcessPoolException[] failures = new ProcessPoolException[n];
        for (int i = 0; i < n; i++) {
            long index = chunk.firstIndex + i;
            try {
                Object value = Wire.read(reply.elements()[i], loader);
                if (value instanceof Wire.ElementFailure failure) {
                    failures[i] = failure.failure;
                } else {
                    values[i] = value;
                }
            } catch (RuntimeException | LinkageError e) {
                failures[i] = new MemberService.IndexedFailure(index, "the result for input " + index
                        + " cannot be rebuilt in the caller's JVM: " + e, e);
            }
        }
        return new ClusterJob.Outcome(chunk.seq, values, failures);
    }

    private void failed(MemberState member, Object attempt, ClusterJob.Chunk chunk, Throwable failure) {
        synchronized (lock) {
            boolean mine = member.inFlight.containsKey(attempt);
            if (!open) {
                return;
            }
            if (mine) {
                giveUp(member, "a chunk failed there: " + failure);
            } else if (chunk.currentAttempt == attempt && !chunk.done) {
                requeue(chunk, failure.toString());
            }
            lock.notifyAll();
        }
    }

    /** Under the lock: the member is not used until it answers a heartbeat again; its chunks run elsewhere. */
    private void giveUp(MemberState member, String reason) {
        boolean wasUp = member.status != Status.DOWN;
        member.status = Status.DOWN;
        member.downReason = reason;
        if (wasUp || !member.inFlight.isEmpty()) {
            log.warn("procpool cluster: giving up member {} ({}); {} chunk(s) it held run again elsewhere", member.name,
                    reason, member.inFlight.size());
        }
        List<ClusterJob.Chunk> held = new ArrayList<>(member.inFlight.values());
        member.inFlight.clear();
        for (ClusterJob.Chunk chunk : held) {
            requeue(chunk, "member " + member.name + " " + reason);
        }
        lock.notifyAll();
    }

    private void requeue(ClusterJob.Chunk chunk, String reason) {
        if (chunk.done || chunk.job.finished) {
            return;
        }
        chunk.currentAttempt = null;
        if (chunk.attempts >= MAX_ATTEMPTS) {
            chunk.job.fail(new MemberService.IndexedFailure(chunk.firstIndex, "the chunk holding inputs "
                    + chunk.firstIndex + ".." + (chunk.firstIndex + chunk.size - 1) + " was tried on " + chunk.attempts
                    + " cluster members and none finished it; last: " + reason, null));
            return;
        }
        if (!chunk.job.retry.contains(chunk)) {
            chunk.job.retry.add(chunk);
        }
    }

    /** Under the lock: heartbeats, member preparation, and failing calls when no member is left. */
    private void housekeeping() {
        long now = System.nanoTime();
        boolean anyAlive = false;
        for (MemberState m : members.values()) {
            if (m.status == Status.NEW) {
                m.status = Status.PREPARING;
                preparer.execute(() -> prepare(m));
            }
            if (m.pingSentAt != 0 && now - m.pingSentAt > heartbeatNanos && m.status != Status.DOWN) {
                giveUp(m, "no heartbeat answer for " + Duration.ofNanos(now - m.pingSentAt).toMillis() + " ms");
            }
            if (m.pingSentAt == 0 && now - m.lastPong > heartbeatNanos / 4) {
                m.pingSentAt = now;
                pinger.execute(() -> ping(m)); // never call Hazelcast under the lock: a frozen member can block the call
            }
            anyAlive |= m.status != Status.DOWN;
        }
        if (anyAlive) {
            noMemberSince = 0;
        } else if (noMemberSince == 0) {
            noMemberSince = now;
        }
        if (!anyAlive && now - noMemberSince >= heartbeatNanos) {
            for (ClusterJob job : jobs) {
                if (job.hasPendingWork()) {
                    job.fail(new ProcessPoolException("no procpool cluster member is left to run the call (cluster "
                            + config.clusterName + ", addresses " + config.members + "): "
                            + (members.isEmpty() ? "every member left"
                                    : members.values().stream().map(m -> m.name + " " + m.downReason).toList())));
                }
            }
        }
    }

    private void ping(MemberState m) {
        try {
            controlExecutor.submitToMember(new Tasks.Ping(), m.member, new ExecutionCallback<String>() {
                @Override
                public void onResponse(String name) {
                    synchronized (lock) {
                        m.pingSentAt = 0;
                        m.lastPong = System.nanoTime();
                        if (m.status == Status.DOWN && members.get(m.member.getUuid()) == m) {
                            log.info("procpool cluster: member {} answers again; using it again", m.name);
                            m.status = Status.NEW;
                        }
                        lock.notifyAll();
                    }
                }

                @Override
                public void onFailure(Throwable t) {
                    synchronized (lock) {
                        m.lastPong = System.nanoTime(); // a failed ping is not an answer: ask again soon
                        m.pingSentAt = 0;
                        if (m.status != Status.DOWN) {
                            giveUp(m, "heartbeat failed: " + t);
                        }
                    }
                }
            });
        } catch (RuntimeException e) {
            synchronized (lock) {
                m.pingSentAt = 0;
                m.lastPong = System.nanoTime();
            }
        }
    }

    /** Preparer thread: create this pool's session on the member, shipping the jars it lacks. */
    private void prepare(MemberState m) {
        try {
            UUID clientId = client.getLocalEndpoint().getUuid();
            for (int round = 0; round < 3; round++) {
                Tasks.PrepareReply reply = controlExecutor.submitToMember(
                        new Tasks.Prepare(session, clientId, jarRefs, settings), m.member).get(
                                Math.max(30_000, config.connectTimeout.toMillis()), TimeUnit.MILLISECONDS);
                if (reply.missing().isEmpty()) {
                    synchronized (lock) {
                        if (m.status == Status.PREPARING) {
                            m.status = Status.READY;
                            m.name = reply.memberName();
                            m.workers = reply.workers();
                            m.downReason = null;
                        }
                        lock.notifyAll();
                    }
                    return;
                }
                for (String hash : reply.missing()) {
                    upload(hash, m.member);
                }
            }
            throw new IllegalStateException("the member still lacks jars after three rounds");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (Exception e) {
            Throwable cause = e instanceof ExecutionException && e.getCause() != null ? e.getCause() : e;
            synchronized (lock) {
                if (open) {
                    log.warn("procpool cluster: cannot prepare member {}: {}", m.name, cause.toString());
                }
                m.status = Status.DOWN;
                m.downReason = "cannot prepare it: " + cause;
                lock.notifyAll();
            }
        }
    }

    private void upload(String hash, Member member) throws Exception {
        Path file = jarFiles.get(hash);
        if (file == null) {
            throw new IllegalStateException("member asked for unknown jar " + hash);
        }
        UUID upload = UUID.randomUUID();
        long size = Files.size(file);
        try (InputStream in = Files.newInputStream(file)) {
            long offset = 0;
            do {
                byte[] piece = in.readNBytes((int) Math.min(UPLOAD_PIECE, size - offset));
                boolean last = offset + piece.length >= size;
                controlExecutor.submitToMember(new Tasks.Upload(hash, upload, offset, piece, last), member)
                        .get(120, TimeUnit.SECONDS);
                offset += piece.length;
            } while (offset < size);
        }
    }

    // -------------------------------------------------------------------------------- lifecycle

    /** Finishes the calls under way, ends this pool's worker JVMs on every member and disconnects. Idempotent. */
    @Override
    public void close() {
        List<ClusterJob> running;
        synchronized (lock) {
            if (!open || closing) {
                return;
            }
            closing = true;
            running = List.copyOf(jobs);
        }
        for (ClusterJob job : running) {
            try {
                job.future.get(); // map-like calls; an imap left unconsumed is cancelled below
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            } catch (ExecutionException | java.util.concurrent.CancellationException ignored) {
                // the caller of that call sees its failure
            }
            if (job.streaming) {
                break;
            }
        }
        end(false, new ProcessPoolException("the pool was closed"));
    }

    /** Fails every pending call, kills this pool's worker JVMs on every member and disconnects. Idempotent. */
    @Override
    public void terminate() {
        end(true, new ProcessPoolException("the pool was terminated"));
    }

    /** True once {@link #close()} or {@link #terminate()} was called. */
    @Override
    public boolean isShutdown() {
        synchronized (lock) {
            return !open || closing;
        }
    }

    /** True once {@link #close()} or {@link #terminate()} has ended the session. */
    @Override
    public boolean isTerminated() {
        return !open;
    }

    /** Not yet offered by the cluster: it joins the engine the local pool runs on. */
    @Override
    public boolean awaitTermination(Duration timeout) {
        return !open;
    }

    /** Not yet offered by the cluster: it joins the engine the local pool runs on. */
    @Override
    public ExecutorService asExecutorService() {
        throw new UnsupportedOperationException("asExecutorService is not available on a ClusterPool yet");
    }

    private void end(boolean terminate, ProcessPoolException reason) {
        List<Member> targets;
        synchronized (lock) {
            if (!open) {
                return;
            }
            open = false;
            closing = true;
            for (ClusterJob job : jobs) {
                job.fail(reason);
            }
            jobs.clear();
            targets = members.values().stream().filter(m -> m.status != Status.DOWN).map(m -> m.member).toList();
            lock.notifyAll();
        }
        List<java.util.concurrent.Future<Boolean>> closing = new ArrayList<>();
        for (Member member : targets) {
            try {
                closing.add(controlExecutor.submitToMember(new Tasks.CloseSession(session, terminate), member));
            } catch (RuntimeException e) {
                log.debug("cannot close session on {}: {}", member, e.toString());
            }
        }
        for (java.util.concurrent.Future<Boolean> f : closing) {
            try {
                f.get(2, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            } catch (ExecutionException | TimeoutException e) {
                log.debug("session close not confirmed: {}", e.toString());
            }
        }
        shutdownQuietly();
    }

    private void shutdownQuietly() {
        open = false;
        preparer.shutdownNow();
        pinger.shutdownNow();
        if (dispatcher != null) {
            dispatcher.interrupt();
        }
        try {
            client.shutdown();
        } catch (RuntimeException e) {
            log.debug("client shutdown: {}", e.toString());
        }
    }

    private static java.util.concurrent.ThreadFactory daemon(String name) {
        return runnable -> {
            Thread thread = new Thread(runnable, name);
            thread.setDaemon(true);
            return thread;
        };
    }

    // ---------------------------------------------------------------------------------- builder

    /** Configures a {@link ClusterPool}; the worker options apply to each member's local pool. */
    public static final class Builder {
        private final List<String> members = new ArrayList<>();
        private String clusterName = "procpool";
        private Duration heartbeatTimeout = Duration.ofSeconds(5);
        private Duration connectTimeout = Duration.ofSeconds(30);
        private int workersPerMember;
        private final List<String> jvmOptions = new ArrayList<>();
        private final Map<String, String> environment = new LinkedHashMap<>();
        private SerializableRunnable initializer;
        private int maxTasksPerWorker;
        private Duration taskTimeout;
        private int retries;
        private Path scratch;

        private Builder() {}

        /** Addresses (host:port) of members to connect to; the client then learns the whole cluster. */
        public Builder members(String... addresses) {
            for (String address : addresses) {
                members.add(Objects.requireNonNull(address, "address"));
            }
            return this;
        }

        /** Hazelcast cluster name of the members. Default {@code procpool}. */
        public Builder clusterName(String name) {
            this.clusterName = Objects.requireNonNull(name, "name");
            return this;
        }

        /**
         * A member that does not answer a heartbeat for this long is given up and its chunks run
         * elsewhere. Default 5 s.
         */
        public Builder heartbeatTimeout(Duration timeout) {
            if (timeout.isNegative() || timeout.isZero()) {
                throw new IllegalArgumentException("heartbeatTimeout must be positive");
            }
            this.heartbeatTimeout = timeout;
            return this;
        }

        /** How long {@link #build()} waits for the cluster and a first ready member. Default 30 s. */
        public Builder connectTimeout(Duration timeout) {
            this.connectTimeout = Objects.requireNonNull(timeout);
            return this;
        }

        /** Worker JVMs each member runs for this pool. Default: the member's own setting (its processors). */
        public Builder workersPerMember(int workers) {
            if (workers < 1) {
                throw new IllegalArgumentException("workersPerMember must be >= 1, got " + workers);
            }
            this.workersPerMember = workers;
            return this;
        }

        public Builder jvmOptions(String... options) {
            for (String option : options) {
                jvmOptions.add(Objects.requireNonNull(option, "option"));
            }
            return this;
        }

        public Builder environment(String name, String value) {
            environment.put(Objects.requireNonNull(name), Objects.requireNonNull(value));
            return this;
        }

        public Builder initializer(SerializableRunnable initializer) {
            this.initializer = Objects.requireNonNull(initializer);
            return this;
        }

        public Builder maxTasksPerWorker(int tasks) {
            if (tasks < 0) {
                throw new IllegalArgumentException("maxTasksPerWorker must be >= 0");
            }
            this.maxTasksPerWorker = tasks;
            return this;
        }

        public Builder taskTimeout(Duration timeout) {
            if (timeout.isNegative() || timeout.isZero()) {
                throw new IllegalArgumentException("taskTimeout must be positive");
            }
            this.taskTimeout = timeout;
            return this;
        }

        public Builder retries(int retries) {
            if (retries < 0) {
                throw new IllegalArgumentException("retries must be >= 0");
            }
            this.retries = retries;
            return this;
        }

        /** Where class directories are packed into jars before shipping. Default: a temp directory. */
        public Builder scratchDirectory(Path directory) {
            this.scratch = Objects.requireNonNull(directory);
            return this;
        }

        Path scratchDirectory() {
            return scratch != null ? scratch : Path.of(System.getProperty("java.io.tmpdir"), "procpool-cluster-client");
        }

        /** Connects as a Hazelcast client, ships the class path, and returns once a member is ready. */
        public ClusterPool build() {
            if (members.isEmpty()) {
                throw new IllegalStateException("no member addresses: call members(\"host:port\", ...)");
            }
            return new ClusterPool(this);
        }
    }
}
