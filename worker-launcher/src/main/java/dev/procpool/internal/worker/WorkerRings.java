package dev.procpool.internal.worker;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * A worker's two {@link Ring}s, parent to worker and worker to parent, in the worker's slot file after
 * its {@link RunningTaskSlot} page: the parent sizes and maps the file before launching the worker, the
 * worker maps it at start (the file's name is already on its command line), and the parent unlinks the
 * file once the worker is READY. From then on the memory is reachable only through the two mappings: no
 * {@code kill -9} of either side can leave it behind, and before READY the sweep of dead pids' slot files
 * covers it. Nothing in it depends on a pool or a call, so a worker started ahead of need has its rings.
 *
 * <p>Layout from {@link #AT} (a page): a control page (magic, capacity, each direction's {@code released}
 * counter on a line of its own), then the parent-to-worker area, then the worker-to-parent area, each
 * {@code capacity} bytes. The pages of the areas are allocated as they are first written: a pool that
 * moves no medium-sized values pays only the mapping.
 */
public final class WorkerRings {
    /** Where the rings start in the slot file: the page after the running-task slot. */
    static final int AT = 4096;
    private static final int CONTROL_BYTES = 4096;
    private static final int MAGIC = 0x50505247; // "PPRG"
    private static final int MAGIC_AT = 0;
    private static final int CAPACITY_AT = 4;
    private static final int TO_WORKER_RELEASED_AT = 64;
    private static final int TO_PARENT_RELEASED_AT = 128;

    /**
     * Bytes of each direction's area. Measured here (identity map through 2 workers, chunks of 1, pools
     * alternating in one JVM): warm, 4, 8 and 16 MiB rings moved 1 MiB items alike (2.5-2.7x the pipe), and
     * 64 KiB items 1.2x, 1.6x and 2.0x the pipe (fast tasks keep up to 64 in flight, 4 MiB); cold (a new
     * pool's first maps), every page of the ring faults in on its first lap, so a bigger ring costs more
     * before it pays: 16 MiB was slower than the pipe for the first three maps of 6 MiB. Override with
     * {@code -Dprocpool.ringBytes=<bytes>} in the caller (0: no rings, every value takes the pipe or a
     * one-off segment as before).
     */
    public static final int DEFAULT_CAPACITY = 8 << 20;
    /**
     * Values from this many bytes go into the ring when it has room. Measured here (2 busy cores, identity
     * map of byte[] through 2 workers, pools with and without rings alternating in one JVM, 15 runs each):
     * the ring moved 4 KiB items 2.0x faster than the pipe in chunks of 1 and 2.0x in chunks of 500, 16 KiB
     * 1.2-1.5x, 64 KiB 1.9-2.3x, 1 MiB 1.9x (medians); below a few KiB a value costs less than the task
     * around it either way. Override with {@code -Dprocpool.ringThreshold=<bytes>} (in the caller for
     * inputs, in {@code jvmOptions} for results).
     */
    public static final int DEFAULT_THRESHOLD = 4 << 10;

    private final MappedByteBuffer mapping;
    private final Ring toWorker;
    private final Ring toParent;

    private WorkerRings(MappedByteBuffer mapping, int capacity, int threshold) {
        this.mapping = mapping;
        ByteBuffer control = mapping.slice(0, CONTROL_BYTES).order(ByteOrder.nativeOrder());
        this.toWorker = new Ring(mapping.slice(CONTROL_BYTES, capacity), control, TO_WORKER_RELEASED_AT, threshold);
        this.toParent = new Ring(mapping.slice(CONTROL_BYTES + capacity, capacity), control, TO_PARENT_RELEASED_AT,
                threshold);
    }

    /** The capacity the caller's system property asks for. */
    public static int configuredCapacity() {
        return Math.max(0, Integer.getInteger("procpool.ringBytes", DEFAULT_CAPACITY));
    }

    private static int configuredThreshold() {
        return Math.max(1, Integer.getInteger("procpool.ringThreshold", DEFAULT_THRESHOLD));
    }

    /**
     * The parent's side: grows the slot {@code file} by the rings and maps them; null when {@code capacity}
     * is 0 (no rings).
     */
    public static WorkerRings create(Path file, int capacity) throws IOException {
        return create(file, capacity, configuredThreshold());
    }

    /** As {@link #create(Path, int)} with another threshold (tests). */
    public static WorkerRings create(Path file, int capacity, int threshold) throws IOException {
        if (capacity <= 0) {
            return null;
        }
        if (capacity > (Integer.MAX_VALUE - CONTROL_BYTES) / 2) {
            throw new IllegalArgumentException("ring capacity " + capacity + " too large");
        }
        long size = (long) CONTROL_BYTES + 2L * capacity;
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            // grows the file (sparse: pages are allocated when first written)
            MappedByteBuffer mapping = channel.map(FileChannel.MapMode.READ_WRITE, AT, size);
            mapping.order(ByteOrder.nativeOrder());
            mapping.putInt(CAPACITY_AT, capacity);
            mapping.putInt(MAGIC_AT, MAGIC);
            return new WorkerRings(mapping, capacity, threshold);
        }
    }

    /** The worker's side: maps the rings the parent made in {@code file}; null when it made none. */
    public static WorkerRings map(Path file) throws IOException {
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            long size = channel.size() - AT;
            if (size < CONTROL_BYTES) {
                return null;
            }
            MappedByteBuffer mapping = channel.map(FileChannel.MapMode.READ_WRITE, AT, size);
            mapping.order(ByteOrder.nativeOrder());
            int capacity = mapping.getInt(CAPACITY_AT);
            if (mapping.getInt(MAGIC_AT) != MAGIC || capacity <= 0 || CONTROL_BYTES + 2L * capacity != size) {
                SharedSegments.unmap(mapping);
                throw new IOException("slot file " + file + " holds no rings this worker understands");
            }
            return new WorkerRings(mapping, capacity, configuredThreshold());
        }
    }

    /** Parent to worker: the parent writes, the worker reads. */
    public Ring toWorker() {
        return toWorker;
    }

    /** Worker to parent: the worker writes, the parent reads. */
    public Ring toParent() {
        return toParent;
    }

    /**
     * Faults every page of both rings into this process by reading it, which makes tmpfs allocate (and zero)
     * the pages that were never written: with {@code -Dprocpool.ringPretouch=true} in its {@code jvmOptions}
     * a worker does this on a thread of its own after READY, so that neither side's hot path pays the first
     * lap's page allocation. Reading writes nothing, so it is safe while the caller already writes values.
     * Off by default: it keeps both rings' memory allocated whether medium values ever travel or not, costs
     * CPU just after the start, and a new pool's first maps measured here were within the noise with it
     * and without it (NOTES-ring.md).
     */
    public void pretouch() {
        mapping.load();
    }

    /** Whether this worker pre-touches its rings ({@link #pretouch}). */
    public static boolean pretouchWanted() {
        return Boolean.getBoolean("procpool.ringPretouch");
    }

    /**
     * Unmaps both rings now instead of when the collector finds them (the file is unlinked already, so
     * this frees the memory). Only once no thread can touch either ring again: a later access would crash.
     */
    public void unmap() {
        SharedSegments.unmap(mapping);
    }
}
