package dev.procpool.internal.worker;

import java.io.IOException;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * A few bytes of shared memory (a mapped file) in which the worker records the sequence number of the
 * task it is about to run. It costs one memory store per task, and it survives the worker's death, so
 * the parent knows exactly which task was running when a worker crashed or ran past its time limit,
 * without the worker flushing the pipe before every task.
 */
public final class RunningTaskSlot {
    /** Value before the first task starts. */
    public static final long NONE = -1;
    static final int SIZE = 8;
    private static final VarHandle LONG_VIEW = MethodHandles.byteBufferViewVarHandle(long[].class, ByteOrder.nativeOrder());

    private final MappedByteBuffer buffer;

    private RunningTaskSlot(MappedByteBuffer buffer) {
        this.buffer = buffer;
    }

    /**
     * Maps the slot file, which must exist (the parent creates it before the launch). The mapping stays
     * valid after the file is deleted. Never created here: a worker JVM that starts after its parent died
     * (an orphaned spare, slow to boot) would re-create a file the next pool's sweep had already deleted,
     * and nothing would delete it again; without the file it fails at once instead.
     */
    public static RunningTaskSlot map(Path file) throws IOException {
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            MappedByteBuffer buffer = channel.map(FileChannel.MapMode.READ_WRITE, 0, SIZE);
            return new RunningTaskSlot(buffer);
        }
    }

    /** Maps a new, empty slot file (created by the caller) and puts {@link #NONE} in it. */
    public static RunningTaskSlot create(Path file) throws IOException {
        RunningTaskSlot slot = map(file);
        slot.set(NONE);
        return slot;
    }

    public void set(long sequence) {
        LONG_VIEW.setRelease(buffer, 0, sequence);
    }

    public long get() {
        return (long) LONG_VIEW.getAcquire(buffer, 0);
    }
}
