package dev.procpool.cluster.internal;

import dev.procpool.PoolMode;
import dev.procpool.PoolStats;
import dev.procpool.ProcessPool;
import dev.procpool.ProcessPoolException;
import dev.procpool.ResultIterator;
import dev.procpool.SerializableFunction;
import dev.procpool.SerializableRunnable;
import dev.procpool.internal.engine.ImapJob;
import java.io.File;
import java.io.IOException;
import java.net.MalformedURLException;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.NoSuchElementException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The member's side: a jar cache by SHA-256, and per client session a class loader over the shipped
 * jars and a local {@link ProcessPool} whose worker JVMs see the same jars.
 */
public final class MemberService {
    public static final String USER_CONTEXT_KEY = "dev.procpool.cluster.MemberService";
    /** Environment variable every worker JVM of a member gets: the member's name. */
    static final String MEMBER_ENV = "PROCPOOL_MEMBER";
    private static final Logger log = LoggerFactory.getLogger(MemberService.class);

    private final Path jarDirectory;
    private final Path uploadDirectory;
    private final List<Path> ownClassPath = Arrays.stream(System.getProperty("java.class.path", "").split(File.pathSeparator))
            .filter(e -> !e.isEmpty()).map(Path::of).toList();
    private final Set<String> ownJars;
    private final int defaultWorkers;
    private final Map<UUID, Session> sessions = new ConcurrentHashMap<>();
    private volatile String name;
    private volatile boolean stopped;

    public MemberService(Path cacheDirectory, int defaultWorkers) throws IOException {
        this.jarDirectory = Files.createDirectories(cacheDirectory.resolve("jars"));
        this.uploadDirectory = Files.createDirectories(cacheDirectory.resolve("uploads"));
        this.ownJars = ownJarHashes();
        this.defaultWorkers = defaultWorkers;
    }

    public void setName(String name) {
        this.name = name;
    }

    public String name() {
        return name;
    }

    // ------------------------------------------------------------------------------- sessions

    private static final class Session {
        final UUID id;
        final UUID client;
        final URLClassLoader loader;
        final ProcessPool pool;
        final AtomicLong chunks = new AtomicLong();
        /** The caller's shared values, by the caller's id: one copy on this member for all its workers. */
        final Map<Long, dev.procpool.Shared<Object>> shared = new ConcurrentHashMap<>();
        /** How many shared values this member received from the caller (tests and logs). */
        final AtomicLong sharedReceived = new AtomicLong();
        final Map<Long, SerializableFunction<Object, Object>> functions = new LinkedHashMap<>(16, 0.75f, true) {
            @Override
            protected boolean removeEldestEntry(Map.Entry<Long, SerializableFunction<Object, Object>> eldest) {
                return size() > 32;
            }
        };

        /** Guarded by this: each call's chunks running now, and calls cancelled lately (their late chunks are skipped). */
        private final Map<Long, List<ResultIterator<?>>> running = new HashMap<>();
        private final Map<Long, Boolean> cancelled = new LinkedHashMap<>(16, 0.75f, false) {
            @Override
            protected boolean removeEldestEntry(Map.Entry<Long, Boolean> eldest) {
                return size() > 1024;
            }
        };

        Session(UUID id, UUID client, URLClassLoader loader, ProcessPool pool) {
            this.id = id;
            this.client = client;
            this.loader = loader;
            this.pool = pool;
        }

        /** False when the call was cancelled already: the caller cancels this chunk too. */
        synchronized boolean register(long job, ResultIterator<?> results) {
            if (cancelled.containsKey(job)) {
                return false;
            }
            running.computeIfAbsent(job, j -> new ArrayList<>()).add(results);
            return true;
        }

        synchronized void unregister(long job, ResultIterator<?> results) {
            List<ResultIterator<?>> list = running.get(job);
            if (list != null && list.remove(results) && list.isEmpty()) {
                running.remove(job);
            }
        }

        synchronized boolean isCancelled(long job) {
            return cancelled.containsKey(job);
        }

        synchronized List<ResultIterator<?>> cancel(long job) {
            cancelled.put(job, Boolean.TRUE);
            List<ResultIterator<?>> list = running.remove(job);
            return list == null ? List.of() : list;
        }
    }

    Tasks.PrepareReply prepare(UUID id, UUID client, List<Tasks.JarRef> jars, Tasks.SessionSettings settings)
            throws IOException {
        checkRunning();
        List<String> missing = new ArrayList<>();
        List<Path> shipped = new ArrayList<>();
        for (Tasks.JarRef jar : jars) {
            if (ownJars.contains(jar.sha256())) {
                continue; // the member has this very jar on its own class path
            }
            Path cached = jarDirectory.resolve(jar.sha256() + ".jar");
            if (Files.isRegularFile(cached)) {
                shipped.add(cached);
            } else {
                missing.add(jar.sha256());
            }
        }
        if (!missing.isEmpty()) {
            return new Tasks.PrepareReply(missing, name, 0);
        }
        Session session;
        synchronized (sessions) {
            checkRunning();
            session = sessions.get(id);
            if (session == null) {
                session = open(id, client, shipped, settings);
                sessions.put(id, session);
            }
        }
        return new Tasks.PrepareReply(List.of(), name, session.pool.workers());
    }

    private Session open(UUID id, UUID client, List<Path> shipped, Tasks.SessionSettings settings) throws IOException {
        URL[] urls = new URL[shipped.size()];
        for (int i = 0; i < urls.length; i++) {
            urls[i] = toUrl(shipped.get(i));
        }
        URLClassLoader loader = new URLClassLoader("procpool-session-" + id, urls, MemberService.class.getClassLoader());
        ProcessPool.Builder builder = ProcessPool.builder().mode(PoolMode.PROCESSES)
                .workers(settings.workersPerMember() > 0 ? settings.workersPerMember() : defaultWorkers)
                .environment(MEMBER_ENV, name);
        // Workers: the member's own class path, then the shipped jars (the member's copies win, as in the loader).
        List<Path> classPath = new ArrayList<>(ownClassPath);
        classPath.addAll(shipped);
        builder.classPath(classPath);
        settings.jvmOptions().forEach(builder::jvmOptions);
        settings.environment().forEach(builder::environment);
        if (settings.maxTasksPerWorker() > 0) {
            builder.maxTasksPerWorker(settings.maxTasksPerWorker());
        }
        if (settings.taskTimeoutMillis() > 0) {
            builder.taskTimeout(Duration.ofMillis(settings.taskTimeoutMillis()));
        }
        builder.retries(settings.retries());
        if (settings.initializer() != null) {
            builder.initializer(new Wire.OpaqueRunnable(settings.initializer()));
        }
        ClassLoader previous = Thread.currentThread().getContextClassLoader();
        Thread.currentThread().setContextClassLoader(loader);
        try {
            ProcessPool pool = builder.build();
            log.info("procpool member {}: session {} opened ({} workers, {} shipped jars)", name, id, pool.workers(),
                    shipped.size());
            return new Session(id, client, loader, pool);
        } finally {
            Thread.currentThread().setContextClassLoader(previous);
        }
    }

    private static URL toUrl(Path path) {
        try {
            return path.toUri().toURL();
        } catch (MalformedURLException e) {
            throw new IllegalArgumentException(e);
        }
    }

    /** A value the caller shared: decoded once here, then shared with this member's workers. */
    boolean share(UUID sessionId, long id, byte[] bytes) {
        Session session = sessions.get(sessionId);
        if (session == null) {
            return false;
        }
        synchronized (session.shared) {
            if (session.shared.containsKey(id)) {
                return true;
            }
            Object value = Wire.read(bytes, session.loader);
            session.shared.put(id, session.pool.shareUnder(id, value));
            session.sharedReceived.incrementAndGet();
        }
        log.debug("procpool member {}: session {} received shared value {} ({} bytes)", name, sessionId,
                dev.procpool.internal.worker.SharedValues.name(id), bytes.length);
        return true;
    }

    void unshare(UUID sessionId, long id) {
        Session session = sessions.get(sessionId);
        if (session != null) {
            dev.procpool.Shared<Object> handle = session.shared.remove(id);
            if (handle != null) {
                handle.close();
            }
        }
    }

    void closeSession(UUID id, boolean terminate) {
        Session session = sessions.remove(id);
        if (session != null) {
            end(session, terminate);
        }
    }

    public void clientLeft(UUID client) {
        for (Session session : List.copyOf(sessions.values())) {
            if (session.client.equals(client) && sessions.remove(session.id, session)) {
                log.info("procpool member {}: client {} left, ending session {}", name, client, session.id);
                end(session, true);
            }
        }
    }

    private void end(Session session, boolean terminate) {
        Thread closer = new Thread(() -> {
            try {
                if (terminate) {
                    session.pool.terminate();
                } else {
                    session.pool.close();
                }
            } finally {
                try {
                    session.loader.close();
                } catch (IOException ignored) {
                    // nothing held open that matters
                }
            }
        }, "procpool-session-close");
        closer.setDaemon(true);
        closer.start();
    }

    long[] stats(UUID id) {
        Session session = sessions.get(id);
        if (session == null) {
            return new long[9];
        }
        PoolStats s = session.pool.stats();
        return new long[] {s.workers().size(), s.tasksSucceeded(), s.tasksFailed(), s.tasksRetried(), s.workerCrashes(),
                s.taskTimeouts(), s.workersStarted(), s.workersRecycled(), session.chunks.get()};
    }

    public void shutdown() {
        stopped = true;
        synchronized (sessions) {
            for (Session session : sessions.values()) {
                session.pool.terminate();
            }
            sessions.clear();
        }
    }

    private void checkRunning() {
        if (stopped) {
            throw new IllegalStateException("procpool member " + name + " is shutting down");
        }
    }

    // --------------------------------------------------------------------------------- chunks

    Tasks.ChunkReply runChunk(Tasks.Chunk chunk) {
        Session session = sessions.get(chunk.session);
        if (session == null) {
            return new Tasks.ChunkReply(null, "no session " + chunk.session + " on member " + name);
        }
        Thread thread = Thread.currentThread();
        ClassLoader previous = thread.getContextClassLoader();
        thread.setContextClassLoader(session.loader);
        try {
            byte[][] inputs = chunk.inputs;
            if (session.isCancelled(chunk.job)) { // its answer is not wanted: run nothing
                byte[][] skipped = new byte[inputs.length][];
                Arrays.fill(skipped, Wire.write(RemoteFailures.other("the call was cancelled"), session.loader));
                return new Tasks.ChunkReply(skipped, null);
            }
            ResultIterator<Object> results;
            try {
                results = session.pool.imap(function(session, chunk), Arrays.asList((Object[]) inputs), inputs.length);
            } catch (IllegalStateException e) { // the session was closed under us
                return new Tasks.ChunkReply(null, "session " + chunk.session + " closed on member " + name);
            }
            if (!session.register(chunk.job, results)) {
                ImapJob.cancelRunning(session.pool, results);
            }
            byte[][] elements = new byte[inputs.length][];
            try (results) {
                collect(chunk, results, elements, session.loader);
            } finally {
                session.unregister(chunk.job, results);
            }
            session.chunks.incrementAndGet();
            return new Tasks.ChunkReply(elements, null);
        } finally {
            thread.setContextClassLoader(previous);
        }
    }

    /** Each element's result bytes, or its failure; after a failure of the whole call, the rest fail with it. */
    private void collect(Tasks.Chunk chunk, ResultIterator<Object> results, byte[][] elements, ClassLoader loader) {
        String whole = null;
        for (int i = 0; i < elements.length; i++) {
            long index = chunk.indices[i];
            Object outcome;
            if (whole != null) {
                outcome = RemoteFailures.other(whole);
            } else {
                try {
                    outcome = results.next(); // the result's bytes, read by the client
                } catch (ProcessPoolException e) {
                    outcome = RemoteFailures.fromMember(e, index, name);
                    if (e.inputIndex() < 0) { // the local pool failed the whole call (broken, unsendable function)
                        whole = ((RemoteFailures.ElementFailure) outcome).text();
                    }
                } catch (NoSuchElementException e) { // cancelled
                    whole = "the call was cancelled on cluster member " + name;
                    outcome = RemoteFailures.other(whole);
                }
            }
            elements[i] = outcome instanceof byte[] bytes ? bytes : encode(outcome, index, loader);
        }
    }

    /** cancel(true) of a call: its running chunks stop (their workers are killed), its later chunks are skipped. */
    void cancelJob(UUID id, long job) {
        Session session = sessions.get(id);
        if (session == null) {
            return;
        }
        for (ResultIterator<?> running : session.cancel(job)) {
            ImapJob.cancelRunning(session.pool, running);
        }
    }

    private SerializableFunction<Object, Object> function(Session session, Tasks.Chunk chunk) {
        // One instance per call: the local pool then sends it to each worker once, and each worker reads it once.
        synchronized (session.functions) {
            return session.functions.computeIfAbsent(chunk.job, j -> new Wire.Opaque(chunk.function));
        }
    }

    private byte[] encode(Object outcome, long index, ClassLoader loader) {
        try {
            return Wire.write(outcome, loader);
        } catch (RuntimeException | StackOverflowError e) {
            return Wire.write(RemoteFailures.other("the result for input " + index
                    + " cannot be sent back from cluster member " + name + ": " + e), loader);
        }
    }

    // ---------------------------------------------------------------------------------- jars

    void upload(String sha256, UUID upload, long offset, byte[] bytes, boolean last) throws IOException {
        if (!sha256.matches("[0-9a-f]{64}")) {
            throw new IllegalArgumentException("not a SHA-256: " + sha256);
        }
        Path part = uploadDirectory.resolve(upload + ".part");
        try (FileChannel channel = FileChannel.open(part, StandardOpenOption.CREATE, StandardOpenOption.WRITE)) {
            channel.write(ByteBuffer.wrap(bytes), offset);
        }
        if (last) {
            String actual = Jars.sha256(Files.readAllBytes(part));
            if (!actual.equals(sha256)) {
                Files.deleteIfExists(part);
                throw new IOException("uploaded jar has SHA-256 " + actual + ", expected " + sha256);
            }
            Files.move(part, jarDirectory.resolve(sha256 + ".jar"), StandardCopyOption.REPLACE_EXISTING,
                    StandardCopyOption.ATOMIC_MOVE);
        }
    }

    private static Set<String> ownJarHashes() {
        Set<String> hashes = ConcurrentHashMap.newKeySet();
        for (String entry : System.getProperty("java.class.path", "").split(File.pathSeparator)) {
            Path path = Path.of(entry);
            if (!entry.isEmpty() && Files.isRegularFile(path)) {
                try {
                    hashes.add(Jars.sha256(path));
                } catch (IOException e) {
                    log.debug("cannot hash class path entry {}: {}", path, e.toString());
                }
            }
        }
        return hashes;
    }

}
