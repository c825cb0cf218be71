package dev.procpool.internal.process;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The process-wide registry of spare worker JVMs: one {@link SpareShelf} per {@link JvmShape}, so that a
 * pool finds started JVMs of its own shape (and only of its shape) ready for its workers and for its
 * replacements, whichever pool of this JVM asked for them.
 *
 * <p>Ownership: a spare belongs to its shelf, not to any pool, until a pool takes it; it is in no pool's
 * worker set, and a pool's {@code close()} or {@code terminate()} never touches it. The shelf's keeper
 * thread ({@value #KEEPER}, a daemon, started with the first shelf) does the background work: launching
 * refills, killing spares past their idle time or silent too long, pinging quiet ones. Its process
 * events (exit, stderr, the channel) are watched by the threads every worker JVM has ({@link SpareJvm}).
 *
 * <p>Spares die with this JVM: at a normal exit a shutdown hook kills them (with their process group);
 * on {@code kill -9} each one sees its channel end and its parent change, as every worker does, and exits.
 *
 * <p>The map and the keeper's wake-up flag are guarded by this object's monitor; each shelf guards itself.
 */
public final class SpareWorkers {
    private static final Logger log = LoggerFactory.getLogger(SpareWorkers.class);
    static final String KEEPER = "procpool-spare-keeper";
    /** How often the keeper looks without being woken: pings and silence are measured in seconds. */
    private static final long TICK_NANOS = TimeUnit.SECONDS.toNanos(1);
    private static final SpareWorkers REGISTRY = new SpareWorkers();

    private final AtomicInteger numbers = new AtomicInteger();
    // Guarded by this.
    private final Map<JvmShape, SpareShelf> shelves = new HashMap<>();
    private boolean woken;
    private Thread keeper;

    private SpareWorkers() {}

    /** The shelf of this pool's shape, held open by the pool until it closes the lease. */
    static SpareShelf.Lease open(WorkerSettings settings) {
        return REGISTRY.lease(settings);
    }

    /** Pids of every spare this JVM keeps now (not taken by a pool): for tests and benchmarks. */
    public static Set<Long> pids() {
        Set<Long> pids = new HashSet<>();
        for (SpareShelf shelf : REGISTRY.shelves()) {
            pids.addAll(shelf.pids());
        }
        return pids;
    }

    /**
     * For tests and benchmarks: waits until no spare JVM is starting and none is about to (a spare starting
     * has its slot file and threads, which a check for leftovers would count); false at the timeout.
     */
    public static boolean awaitSettled(java.time.Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!REGISTRY.settled()) {
            if (System.nanoTime() - deadline > 0) {
                return false;
            }
            Thread.sleep(10);
        }
        return true;
    }

    private boolean settled() {
        synchronized (this) {
            if (woken) {
                return false;
            }
        }
        for (SpareShelf shelf : shelves()) {
            if (!shelf.isSettled()) {
                return false;
            }
        }
        return true;
    }

    private synchronized SpareShelf.Lease lease(WorkerSettings settings) {
        JvmShape shape = JvmShape.of(settings);
        SpareShelf shelf = shelves.computeIfAbsent(shape, s -> new SpareShelf(s, this));
        if (keeper == null) {
            keeper = WorkerJvm.daemon(this::keep, KEEPER);
            keeper.start();
            Runtime.getRuntime().addShutdownHook(new Thread(this::killAll, "procpool-spares-exit"));
        }
        return shelf.open(settings.spareWorkers(), settings.spareIdleTime());
    }

    int nextNumber() {
        return numbers.incrementAndGet();
    }

    /** Something changed (a spare taken, booted or dead, a pool opened or closed): the keeper looks now. */
    synchronized void wake() {
        woken = true;
        notifyAll();
    }

    private synchronized List<SpareShelf> shelves() {
        return new ArrayList<>(shelves.values());
    }

    private void keep() {
        while (true) {
            try {
                awaitWork();
            } catch (InterruptedException e) {
                return;
            }
            long now = System.nanoTime();
            for (SpareShelf shelf : shelves()) {
                SpareShelf.Chores chores = shelf.chores(now);
                chores.kill().forEach(SpareJvm::reap);
                chores.ping().forEach(SpareJvm::ping);
                if (chores.launch() != null) {
                    chores.launch().launch();
                }
            }
            synchronized (this) {
                shelves.values().removeIf(SpareShelf::isEmpty);
            }
        }
    }

    private synchronized void awaitWork() throws InterruptedException {
        while (!woken) {
            long now = System.nanoTime();
            long deadline = now + TICK_NANOS;
            for (SpareShelf shelf : shelves.values()) {
                deadline = shelf.nextDeadline(now, deadline);
            }
            long waitNanos = deadline - now;
            if (waitNanos <= 0) {
                break;
            }
            TimeUnit.NANOSECONDS.timedWait(this, waitNanos);
            if (System.nanoTime() - deadline >= 0) {
                break;
            }
        }
        woken = false;
    }

    private void killAll() {
        for (SpareShelf shelf : shelves()) {
            shelf.killAll();
        }
        log.debug("killed the spare worker JVMs at exit");
    }
}
