package dev.procpool.internal.process;

import dev.procpool.internal.worker.BootedMessage;
import dev.procpool.internal.worker.FrameChannel;
import dev.procpool.internal.worker.HeartbeatMessage;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A worker JVM from its launch until a pool binds it to one of its {@link WorkerProcess}es, and the relay
 * between the two after. Every worker JVM starts this way: one a pool launches for itself is bound at
 * once; a spare ({@link SpareShelf}) waits unbound, booted but with no pool's state, until a pool takes it.
 *
 * <p>Why a relay: while no pool owns the JVM its end, its stderr and its liveness must still be watched
 * (for the shelf), and a pool that takes it must see the very events a JVM it launched would give it, in
 * order and each once. So the process's events ({@link WorkerJvm.Events}) come here: before binding they
 * are recorded and an end is told to the shelf; binding replays those that happened to the worker; after
 * it they are forwarded. A JVM that ended unbound is never bound ({@link #bind} says false).
 *
 * <p>The channel has one reader thread for the JVM's life. Before the pool's handshake it takes BOOTED
 * (the JVM is up: its slot file can go) and PONG (a spare's answer to {@link #ping}) itself; the first
 * other frame, or the channel's end, belongs to the bound worker, and the thread goes on as that worker's
 * {@link ResultReader}. An unbound JVM that sends anything else, or whose channel ends, is killed.
 *
 * <p>Threads: commons-exec's (process events), the reader, the spare keeper ({@link #ping}, kills) and the
 * pool's thread that binds. State below is guarded by this object's monitor; events are forwarded
 * outside it, except during {@link #bind}'s replay, which holds it so that no event overtakes the replay.
 */
final class SpareJvm implements WorkerJvm.Events {
    private static final Logger log = LoggerFactory.getLogger(SpareJvm.class);

    /** Who hears about an unbound JVM: its shelf. */
    interface Owner {
        void booted(SpareJvm spare);

        /** It ended (exited, or could not launch) while unbound. */
        void ended(SpareJvm spare);
    }

    /** Its number among the spares of this JVM; {@link #name} is "spare-" and it. */
    final int number;
    final String name;
    final WorkerJvm jvm;
    /** The class-data archive it was started with, or null. */
    final ClassDataArchive.Use archiveUse;
    private final Owner owner;
    private volatile Thread reader;
    /** When the reader last took a frame: an unbound spare's liveness. */
    private volatile long lastHeardNanos = System.nanoTime();

    // Guarded by this.
    private WorkerProcess worker;
    private WorkerJvm.Events bound;
    private boolean started;
    private boolean open;
    private boolean booted;
    private boolean ended;
    private boolean reaped;

    /**
     * @param owner told about the JVM while it is unbound; null for a JVM bound at once
     */
    SpareJvm(int number, String name, WorkerJvm jvm, ClassDataArchive.Use archiveUse, Owner owner) {
        this.number = number;
        this.name = name;
        this.jvm = jvm;
        this.archiveUse = archiveUse;
        this.owner = owner;
    }

    void launch() {
        jvm.launch(this);
    }

    /**
     * Makes {@code worker} the JVM's owner and replays to {@code events} what already happened; false when
     * the JVM has ended (or was killed as a spare), and then nothing happened.
     */
    boolean bind(WorkerProcess worker, WorkerJvm.Events events) {
        synchronized (this) {
            if (ended || reaped) {
                return false;
            }
            this.worker = worker;
            this.bound = events;
            jvm.stderr().retag("worker-" + worker.id);
            if (started) {
                events.processStarted();
            }
            if (open) {
                events.pipesOpen();
            }
        }
        Thread r = reader;
        if (r != null) {
            r.setName("procpool-worker-" + worker.id + "-read");
        }
        return true;
    }

    /** The reader thread, once the pipes are open. */
    Thread reader() {
        return reader;
    }

    synchronized boolean isBooted() {
        return booted;
    }

    synchronized boolean wasReaped() {
        return reaped;
    }

    long pid() {
        return jvm.pid();
    }

    long silentNanos(long nowNanos) {
        return nowNanos - lastHeardNanos;
    }

    /** Asks an unbound, booted spare for a PONG; false when it is not one (any more) or the write failed. */
    synchronized boolean ping() {
        if (worker != null || ended || !booted) {
            return false;
        }
        try {
            OutputStream in = jvm.stdin();
            HeartbeatMessage.write(in, HeartbeatMessage.PING);
            in.flush();
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    /** Kills it unless a pool took it first: the shelf no longer wants it. */
    void reap() {
        synchronized (this) {
            if (worker != null) {
                return;
            }
            reaped = true;
        }
        jvm.kill();
    }

    // ------------------------------------------------------------------ the process's events

    @Override
    public void processStarted() {
        WorkerJvm.Events target;
        synchronized (this) {
            started = true;
            target = bound;
        }
        if (target != null) {
            target.processStarted();
        }
    }

    @Override
    public void pipesOpen() {
        Thread r = WorkerJvm.daemon(this::read, "procpool-" + name + "-read");
        reader = r;
        r.start();
        WorkerJvm.Events target;
        synchronized (this) {
            open = true;
            target = bound;
        }
        if (target != null) {
            target.pipesOpen();
        }
    }

    @Override
    public void exited() {
        WorkerJvm.Events target;
        synchronized (this) {
            target = bound;
            ended |= target == null;
        }
        if (target != null) {
            target.exited();
            return;
        }
        jvm.killLeftovers();
        jvm.deleteSlotFile(); // deleted at BOOTED otherwise: one that died before would leave it
        if (owner != null) {
            owner.ended(this);
        }
    }

    @Override
    public void launchFailed(Exception e) {
        WorkerJvm.Events target;
        synchronized (this) {
            target = bound;
            ended |= target == null;
        }
        if (target != null) {
            target.launchFailed(e);
            return;
        }
        log.debug("{} could not launch: {}", name, e.toString());
        jvm.deleteSlotFile();
        if (owner != null) {
            owner.ended(this);
        }
    }

    // ------------------------------------------------------------------ the channel

    /** The reader thread: BOOTED and PONGs here, the rest for the bound worker's {@link ResultReader}. */
    private void read() {
        InputStream stdout = jvm.stdout();
        FrameChannel.Frame first = null;
        String failure = null;
        try {
            while (true) {
                FrameChannel.Frame frame = FrameChannel.read(stdout);
                lastHeardNanos = System.nanoTime();
                if (frame != null && frame.type() == BootedMessage.TYPE) {
                    booted();
                } else if (frame == null || frame.type() != HeartbeatMessage.PONG) {
                    first = frame;
                    break;
                }
            }
        } catch (FrameChannel.CorruptFrameException e) {
            failure = "corrupt channel: " + e.getMessage();
        } catch (IOException | RuntimeException e) {
            failure = "channel failed: " + e;
        }
        WorkerProcess owned;
        synchronized (this) {
            owned = worker;
            ended |= owned == null;
        }
        if (owned != null) {
            owned.readChannel(first, failure);
            return;
        }
        if (first != null || failure != null) {
            log.debug("{} (pid {}): {} before a pool took it; killing it", name, pid(),
                    failure != null ? failure : "frame type " + first.type());
        }
        jvm.kill(); // its channel is gone or broken: no pool can use it
    }

    private void booted() {
        Owner tell;
        synchronized (this) {
            booted = true;
            tell = worker == null ? owner : null;
        }
        jvm.deleteSlotFile(); // mapped by both sides now: nothing is left behind if either dies
        if (tell != null) {
            tell.booted(this);
        }
    }
}
