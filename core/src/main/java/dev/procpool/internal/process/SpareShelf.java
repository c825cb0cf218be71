package dev.procpool.internal.process;

import dev.procpool.PoolStats;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The spare worker JVMs of one {@link JvmShape}: started, booted, never bound to a pool, shared by every
 * pool of that shape in this JVM. Pools hold a {@link Lease} while open; the shelf keeps as many spares as
 * the largest open lease wants, refilled one at a time (one booting JVM at most per shape, so a refill
 * never takes two cores from the pools' own starts), only once some lease's pool had all its workers
 * ready, and only when no spare taken by a lease is still on its way to READY (a booting JVM would slow
 * exactly that step). After the last lease closes the spares stay for that lease's idle time, then are killed; a pool
 * of the same shape opened meanwhile takes them.
 *
 * <p>A spare that dies before it booted counts as a failed start; after three in a row the shelf stops
 * refilling (the pools' own starts then report why). One that died with the class-data archive makes the
 * shelf drop the archive, as a pool does. One that dies while waiting is replaced; one that answers no
 * heartbeat for {@link #SILENT_LIMIT} is killed and replaced. The shelf records its archive use but never
 * records an archive itself: a recording JVM writes at its exit, which a lingering spare would delay.
 *
 * <p>Everything here is guarded by this object's monitor; the JVMs are launched, pinged and killed outside
 * it, by {@link SpareWorkers}' keeper thread.
 */
final class SpareShelf implements SpareJvm.Owner {
    private static final Logger log = LoggerFactory.getLogger(SpareShelf.class);
    static final int MAX_START_FAILURES_IN_A_ROW = 3;
    /** An idle spare is pinged after this much silence... */
    static final long PING_AFTER = TimeUnit.SECONDS.toNanos(5);
    /** ...and killed (then replaced) after this much. */
    static final long SILENT_LIMIT = TimeUnit.SECONDS.toNanos(30);

    final JvmShape shape;
    private final WorkerSettings launchSettings;
    private final ClassDataArchive archive;
    private final SpareWorkers registry;

    // Guarded by this.
    /** Unbound, not known dead: booting or booted, oldest first. */
    private final ArrayDeque<SpareJvm> spares = new ArrayDeque<>();
    private final Set<Lease> leases = new HashSet<>();
    private long lastClosedNanos = System.nanoTime();
    private Duration idleTime = Duration.ZERO;
    private int startFailuresInARow;
    private boolean gaveUp;
    private boolean archiveSuspect;

    SpareShelf(JvmShape shape, SpareWorkers registry) {
        this.shape = shape;
        this.registry = registry;
        this.launchSettings = shape.launchSettings();
        // the same archive as the pools of this shape use (same options, same JVM shape)
        this.archive = ClassDataArchive.forWorkers(launchSettings);
    }

    synchronized Lease open(int wanted, Duration idle) {
        Lease lease = new Lease(wanted, idle);
        leases.add(lease);
        return lease;
    }

    // ------------------------------------------------------------------ for the keeper thread

    /** What the keeper should do now for this shelf, decided under the lock and done outside it. */
    record Chores(List<SpareJvm> kill, List<SpareJvm> ping, SpareJvm launch) {}

    synchronized Chores chores(long nowNanos) {
        List<SpareJvm> kill = new ArrayList<>();
        List<SpareJvm> ping = new ArrayList<>();
        if (leases.isEmpty() && nowNanos - lastClosedNanos >= idleTime.toNanos()) {
            kill.addAll(spares);
            spares.clear();
            return new Chores(kill, ping, null);
        }
        boolean booting = false;
        for (SpareJvm spare : spares) {
            if (!spare.isBooted()) {
                booting = true;
                continue;
            }
            long silent = spare.silentNanos(nowNanos);
            if (silent >= SILENT_LIMIT) {
                kill.add(spare);
            } else if (silent >= PING_AFTER) {
                ping.add(spare);
            }
        }
        if (!kill.isEmpty()) {
            spares.removeAll(kill);
            log.info("procpool: killing {} spare worker JVM(s) silent for {} s", kill.size(),
                    TimeUnit.NANOSECONDS.toSeconds(SILENT_LIMIT));
        }
        SpareJvm launch = null;
        if (!booting && !gaveUp && refillAllowed() && spares.size() < wanted()) {
            launch = newSpare();
        }
        return new Chores(kill, ping, launch);
    }

    /** When the keeper must look again at the latest (an idle time running out). */
    synchronized long nextDeadline(long nowNanos, long latest) {
        if (leases.isEmpty() && !spares.isEmpty()) {
            return Math.min(latest, lastClosedNanos + idleTime.toNanos());
        }
        return latest;
    }

    /** No spare booting, and none the keeper would start now. */
    synchronized boolean isSettled() {
        for (SpareJvm spare : spares) {
            if (!spare.isBooted()) {
                return false;
            }
        }
        return !(refillAllowed() && !gaveUp && spares.size() < wanted());
    }

    /** Nothing left to keep: the registry forgets the shelf. */
    synchronized boolean isEmpty() {
        return leases.isEmpty() && spares.isEmpty();
    }

    /**
     * Some lease's pool had all its first workers ready, and no spare taken by any lease is still on its way
     * to READY: a refill is a JVM booting, which would take the CPU a taken spare needs for its CONFIG →
     * READY step (on 2 cores under load it doubled that step). A taken spare that never gets ready (a slow
     * initializer) delays the refill until it is ready or dead.
     */
    private boolean refillAllowed() {
        boolean refill = false;
        for (Lease lease : leases) {
            if (lease.takenNotReady > 0) {
                return false;
            }
            refill |= lease.refill;
        }
        return refill;
    }

    private int wanted() {
        int wanted = 0;
        for (Lease lease : leases) {
            wanted = Math.max(wanted, lease.wanted);
        }
        return wanted;
    }

    /** A new spare, on the shelf and not yet launched; null when it cannot even be prepared. */
    private SpareJvm newSpare() {
        ClassDataArchive.Use use = archive != null && !archiveSuspect ? archive.use() : null;
        int number = registry.nextNumber();
        String name = "spare-" + number;
        try {
            WorkerJvm jvm = new WorkerJvm(name, number, launchSettings, use == null ? List.of() : use.options(),
                    WorkerJvm.slotDirectory());
            jvm.stderr().hold(); // a spare's lines go out once a pool takes it (at DEBUG before)
            SpareJvm spare = new SpareJvm(number, name, jvm, use, this);
            spares.addLast(spare);
            return spare;
        } catch (IOException e) {
            log.debug("cannot prepare a spare worker JVM: {}", e.toString());
            gaveUp = ++startFailuresInARow >= MAX_START_FAILURES_IN_A_ROW;
            return null;
        }
    }

    // ------------------------------------------------------------------ from the spares

    @Override
    public void booted(SpareJvm spare) {
        synchronized (this) {
            startFailuresInARow = 0;
        }
        log.debug("{} (pid {}) booted: {} ms", spare.name, spare.pid(),
                TimeUnit.NANOSECONDS.toMillis(spare.jvm.uptimeNanos()));
        registry.wake();
    }

    @Override
    public void ended(SpareJvm spare) {
        boolean booted = spare.isBooted();
        boolean reaped = spare.wasReaped();
        boolean discardArchive = false;
        synchronized (this) {
            spares.remove(spare);
            if (!booted && !reaped) {
                if (spare.archiveUse != null && !archiveSuspect) {
                    archiveSuspect = true;
                    discardArchive = true;
                } else if (++startFailuresInARow >= MAX_START_FAILURES_IN_A_ROW) {
                    gaveUp = true;
                }
            }
        }
        if (discardArchive) {
            archive.discard(spare.archiveUse);
        }
        if (reaped) {
            log.debug("{} (pid {}) stopped: no longer wanted", spare.name, spare.pid());
        } else {
            int exitCode = spare.jvm.awaitExitCode();
            spare.jvm.awaitStderrDrained();
            List<String> lines = spare.jvm.lastStderrLines();
            String what = booted ? "died while waiting for a pool" : "died before it was up";
            log.info("procpool: spare worker JVM {} (pid {}) {}: {}{}", spare.name, spare.pid(), what,
                    WorkerExitReport.describe(exitCode, null, false),
                    lines.isEmpty() ? "" : "; its last stderr lines:\n  " + String.join("\n  ", lines));
        }
        registry.wake();
    }

    // ------------------------------------------------------------------ for the pools

    /** One open pool's hold on the shelf. */
    final class Lease {
        private final int wanted;
        private final Duration idle;
        /** Guarded by the shelf. */
        private boolean refill;
        /** Spares this lease took that are not ready or gone yet: no refill meanwhile. Guarded by the shelf. */
        private int takenNotReady;
        private boolean closed;

        private Lease(int wanted, Duration idle) {
            this.wanted = wanted;
            this.idle = idle;
        }

        /**
         * A spare for the pool to bind, booted ones first (the oldest), else one still booting; null when
         * there is none. It is off the shelf: bind it, or it is lost (a JVM that ended is simply skipped).
         * The pool tells {@link #takenReadyOrGone} once it is ready or gone; no refill starts before.
         */
        SpareJvm take() {
            SpareJvm taken = null;
            synchronized (SpareShelf.this) {
                if (closed) {
                    return null;
                }
                for (SpareJvm spare : spares) {
                    if (spare.isBooted()) {
                        taken = spare;
                        break;
                    }
                }
                if (taken == null) {
                    taken = spares.peekFirst();
                }
                if (taken != null) {
                    spares.remove(taken);
                    takenNotReady++;
                }
            }
            return taken; // the refill waits for takenReadyOrGone
        }

        /** A spare {@link #take}n is ready in its pool, or gone (each taken one is told once): refill after the last. */
        void takenReadyOrGone() {
            boolean wake;
            synchronized (SpareShelf.this) {
                wake = --takenNotReady == 0;
            }
            if (wake) {
                registry.wake();
            }
        }

        /** The pool's own workers are all ready: spares may start in the background now. */
        void allowRefill() {
            synchronized (SpareShelf.this) {
                refill = !closed;
            }
            registry.wake();
        }

        /** The pool closed: the spares stay for the idle time unless another pool holds the shelf. Idempotent. */
        void close() {
            synchronized (SpareShelf.this) {
                if (closed) {
                    return;
                }
                closed = true;
                refill = false;
                leases.remove(this);
                if (leases.isEmpty()) {
                    lastClosedNanos = System.nanoTime();
                    idleTime = idle;
                }
            }
            registry.wake();
        }

        /** The booted spares waiting on the shelf now. */
        List<PoolStats.Worker> waiting() {
            List<PoolStats.Worker> list = new ArrayList<>();
            synchronized (SpareShelf.this) {
                for (SpareJvm spare : spares) {
                    if (spare.isBooted()) {
                        list.add(new PoolStats.Worker(spare.number, spare.pid(), Duration.ofNanos(spare.jvm.uptimeNanos())));
                    }
                }
            }
            return list;
        }
    }

    /** Pids of the spares on the shelf. */
    synchronized List<Long> pids() {
        List<Long> pids = new ArrayList<>();
        for (SpareJvm spare : spares) {
            pids.add(spare.pid());
        }
        return pids;
    }

    /** Kills every spare on the shelf now: this JVM is exiting. */
    void killAll() {
        List<SpareJvm> all;
        synchronized (this) {
            all = new ArrayList<>(spares);
            spares.clear();
        }
        all.forEach(SpareJvm::reap);
    }
}
