package dev.procpool.internal.worker;

import java.io.IOException;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.lang.reflect.Field;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Shared-memory segments for large values: a file in {@code /dev/shm} (the temp folder where there is
 * none) that the sender writes and the receiver maps, with only a reference on the pipe.
 *
 * <p>Ownership, the whole of it:
 * <ul>
 *   <li>The <b>sender creates</b> a segment, named {@code procpool-<its pid>-<n>.value}, owner-only, and
 *       writes the value with {@code write(2)} (a full tmpfs is then an {@link IOException}, never a
 *       SIGBUS in a mapping); only then does the reference go on the pipe.</li>
 *   <li>The <b>receiver unlinks</b> it as soon as it has opened it (the open file, and then its mapping,
 *       stay readable after the unlink), before copying, also when it skips the value or cannot rebuild it.</li>
 *   <li>Nobody else unlinks a segment while its receiver may still open it: the parent deletes the input
 *       segments of a chunk once every task of the chunk is answered (the worker read them all) or the
 *       worker is dead, and sweeps a dead worker's own segments ({@link #sweepPid}) once the worker's
 *       process is gone.</li>
 *   <li>What a {@code kill -9} leaves behind (a sender that died between writing and the receiver's open)
 *       carries a dead pid in its name: every pool sweeps, when it starts, the {@code procpool-<pid>-*} files
 *       of this user whose pid is dead ({@link #sweepDead}), running-task slot files included.</li>
 * </ul>
 */
public final class SharedSegments {
    /**
     * Values whose bytes reach this travel in a segment. Measured here (2 busy cores): a one-off tmpfs
     * segment costs ~0.5 ms/MiB to write (the kernel allocates and zeroes its pages) and ~0.5 ms/MiB to map
     * and read, plus ~150 µs of system calls; round trips of identity(byte[]) through one worker went
     * 64 KiB: pipe 4-5x faster; 1 MiB: pipe 1.4x faster; 4 MiB: segment 1.2x; 16 MiB: segment 1.4x;
     * 300 MiB: segment ~3x (and no 512 MiB frame limit). Override with
     * {@code -Dprocpool.sharedMemoryThreshold=<bytes>} (in the caller for inputs, in {@code jvmOptions} for results).
     */
    public static final int DEFAULT_THRESHOLD = 2 * 1024 * 1024;
    static final String PREFIX = "procpool-";
    static final String SUFFIX = ".value";
    private static final Pattern NAME = Pattern.compile("procpool-(\\d+)-[0-9a-zA-Z]+\\.(value|slot)");
    /** Bytes copied through one write or one mapping at a time. */
    static final int STAGE_BYTES = 1 << 20;

    private static final SharedSegments DEFAULT = new SharedSegments(directory(),
            Integer.getInteger("procpool.sharedMemoryThreshold", DEFAULT_THRESHOLD));

    private final Path directory;
    private final int threshold;
    private final String prefix = PREFIX + ProcessHandle.current().pid() + "-";
    private final AtomicLong next = new AtomicLong(ThreadLocalRandom.current().nextLong() >>> 1);

    SharedSegments(Path directory, int threshold) {
        this.directory = directory;
        this.threshold = Math.max(threshold, 0);
    }

    /** The segments of this JVM, in {@link #directory()}, with the threshold of its system property. */
    public static SharedSegments get() {
        return DEFAULT;
    }

    /** As {@link #get()} with another threshold (tests). */
    public static SharedSegments withThreshold(int threshold) {
        return new SharedSegments(DEFAULT.directory, threshold);
    }

    /** tmpfs where there is one: a segment is shared memory and should never touch a disk. */
    public static Path directory() {
        Path shm = Path.of("/dev/shm");
        if (Files.isDirectory(shm) && Files.isWritable(shm)) {
            return shm;
        }
        return Path.of(System.getProperty("java.io.tmpdir"));
    }

    /** As this, with every value large: shared values always take a segment. */
    SharedSegments withoutThreshold() {
        return new SharedSegments(directory, 0);
    }

    /** Where this JVM's segments go. */
    Path folder() {
        return directory;
    }

    public int threshold() {
        return threshold;
    }

    /** True when a value of {@code bytes} bytes travels in a segment. */
    public boolean isLarge(long bytes) {
        return bytes >= threshold;
    }

    /** A value shared with {@code Pool.share}: its segment, and the reference workers read it by. */
    public record SharedFile(Path path, byte[] reference) {}

    /**
     * Writes a value given to {@code Pool.share} into a segment of its own (whatever its size), for any
     * number of workers to read with {@link SharedValues}; the segment is the caller's to delete. Throws
     * when it cannot be written (a full tmpfs: IOException) or the value cannot be serialized.
     */
    public SharedFile share(com.esotericsoftware.kryo.kryo5.Kryo kryo, Object value) throws IOException {
        return LargeValues.writeShared(kryo, value, this);
    }

    /** A new, empty, owner-only segment file of this JVM, open for writing. */
    Segment create() throws IOException {
        while (true) {
            Path path = directory.resolve(prefix + Long.toString(next.getAndIncrement(), 36) + SUFFIX);
            try {
                Files.createFile(path, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
            } catch (FileAlreadyExistsException taken) { // a dead JVM of the same pid left it
                continue;
            } catch (UnsupportedOperationException notPosix) {
                Files.createFile(path);
            }
            try {
                return new Segment(path, FileChannel.open(path, StandardOpenOption.WRITE));
            } catch (IOException | RuntimeException e) {
                delete(path);
                throw e;
            }
        }
    }

    /** A segment being written: its file and a channel; {@link #close()} it, {@link #abandon()} it on failure. */
    static final class Segment implements AutoCloseable {
        final Path path;
        final FileChannel channel;
        private ByteBuffer stage;

        Segment(Path path, FileChannel channel) {
            this.path = path;
            this.channel = channel;
        }

        void write(byte[] bytes, int offset, int length) throws IOException {
            while (length > 0) {
                int n = Math.min(length, STAGE_BYTES);
                ByteBuffer src = ByteBuffer.wrap(bytes, offset, n);
                while (src.hasRemaining()) {
                    channel.write(src);
                }
                offset += n;
                length -= n;
            }
        }

        /**
         * A direct staging buffer in native order of up to {@link #STAGE_BYTES} (no more than {@code needed}),
         * cleared; the caller fills it and calls {@link #writeStage()}.
         */
        ByteBuffer stage(long needed) {
            if (stage == null) {
                stage = ByteBuffer.allocateDirect((int) Math.min(STAGE_BYTES, Math.max(needed, 8)))
                        .order(ByteOrder.nativeOrder());
            }
            return stage.clear();
        }

        void writeStage() throws IOException {
            stage.flip();
            while (stage.hasRemaining()) {
                channel.write(stage);
            }
        }

        void write(ByteBuffer buffer) throws IOException {
            ByteBuffer src = buffer.duplicate();
            if (src.isDirect()) {
                while (src.hasRemaining()) {
                    channel.write(src);
                }
                return;
            }
            while (src.hasRemaining()) { // a heap buffer goes through the JDK's temporary direct buffer: keep it small
                ByteBuffer piece = src.slice();
                piece.limit(Math.min(piece.remaining(), STAGE_BYTES));
                while (piece.hasRemaining()) {
                    channel.write(piece);
                }
                src.position(src.position() + piece.position());
            }
        }

        @Override
        public void close() throws IOException {
            channel.close();
            unmap(stage);
            stage = null;
        }

        /** Writing failed: closes and deletes it. */
        void abandon() {
            try {
                close();
            } catch (IOException ignored) {
                // deleting is what matters
            }
            delete(path);
        }
    }

    /**
     * The receiver's side: opens the segment {@code file} names and unlinks it at once (the open channel
     * keeps it readable). Refuses names that are not a procpool segment.
     */
    static FileChannel openAndUnlink(String file) throws IOException {
        Path path = Path.of(file);
        Path name = path.getFileName();
        if (name == null || !NAME.matcher(name.toString()).matches() || !name.toString().endsWith(SUFFIX)) {
            throw new IOException("not a procpool shared-memory segment: " + file);
        }
        FileChannel channel = FileChannel.open(path, StandardOpenOption.READ, LinkOption.NOFOLLOW_LINKS);
        delete(path);
        return channel;
    }

    /**
     * A reader of a shared value's segment ({@code Pool.share}): opens it without unlinking it, since other
     * workers read it too; its creator, the parent, deletes it when the value is closed. Refuses names that
     * are not a procpool segment.
     */
    static FileChannel openShared(String file) throws IOException {
        Path path = Path.of(file);
        Path name = path.getFileName();
        if (name == null || !NAME.matcher(name.toString()).matches() || !name.toString().endsWith(SUFFIX)) {
            throw new IOException("not a procpool shared-memory segment: " + file);
        }
        return FileChannel.open(path, StandardOpenOption.READ, LinkOption.NOFOLLOW_LINKS);
    }

    /** Deletes the segment {@code file} names, if it still exists (a value nobody will read). */
    static void unlink(String file) {
        Path path = Path.of(file);
        Path name = path.getFileName();
        if (name != null && NAME.matcher(name.toString()).matches()) {
            delete(path);
        }
    }

    public static void delete(Path path) {
        try {
            Files.deleteIfExists(path);
        } catch (IOException e) {
            // gone or not ours; the sweep takes what is left
        }
    }

    /** Deletes all of {@code paths} that still exist. */
    public static void deleteAll(List<Path> paths) {
        for (Path p : paths) {
            delete(p);
        }
    }

    /** Maps {@code length} bytes at {@code position}, read-only. */
    static MappedByteBuffer map(FileChannel channel, long position, long length) throws IOException {
        return channel.map(FileChannel.MapMode.READ_ONLY, position, length);
    }

    private static final MethodHandle INVOKE_CLEANER = invokeCleaner();

    private static MethodHandle invokeCleaner() {
        try {
            Class<?> unsafeClass = Class.forName("sun.misc.Unsafe");
            Field field = unsafeClass.getDeclaredField("theUnsafe");
            field.setAccessible(true);
            Object unsafe = field.get(null);
            return MethodHandles.lookup().findVirtual(unsafeClass, "invokeCleaner",
                    MethodType.methodType(void.class, ByteBuffer.class)).bindTo(unsafe);
        } catch (ReflectiveOperationException | RuntimeException e) {
            return null; // mappings then go when the collector frees them
        }
    }

    /**
     * Unmaps a mapping (or frees a direct buffer) now instead of when the collector finds it: a mapped
     * segment keeps its memory until then, unlinked or not. Only for buffers nobody else holds.
     */
    static void unmap(ByteBuffer buffer) {
        if (buffer == null || !buffer.isDirect() || INVOKE_CLEANER == null) {
            return;
        }
        try {
            INVOKE_CLEANER.invokeExact(buffer);
        } catch (Throwable e) {
            // a slice or duplicate: left to the collector
        }
    }

    // ------------------------------------------------------------------------------------------- sweeping

    /**
     * Deletes the segments and slot files in {@code directory} that a JVM now dead left behind: named
     * {@code procpool-<pid>-...} with a pid that is not running, and owned by this user. Returns what it deleted.
     */
    public static List<Path> sweepDead(Path directory) {
        return sweep(directory, -1);
    }

    /** Deletes this user's segments created by {@code pid} (a worker known to be dead); returns what it deleted. */
    public static List<Path> sweepPid(Path directory, long pid) {
        return sweep(directory, pid);
    }

    private static List<Path> sweep(Path directory, long onlyPid) {
        List<Path> deleted = new ArrayList<>();
        Object me = ownerOf(Path.of("/proc/self"));
        long self = ProcessHandle.current().pid();
        try (DirectoryStream<Path> files = Files.newDirectoryStream(directory, PREFIX + "*")) {
            for (Path file : files) {
                Matcher m = NAME.matcher(file.getFileName().toString());
                if (!m.matches()) {
                    continue;
                }
                long pid;
                try {
                    pid = Long.parseLong(m.group(1));
                } catch (NumberFormatException e) {
                    continue;
                }
                if (onlyPid >= 0 ? pid != onlyPid || !m.group(2).equals("value") : pid == self || isAlive(pid)) {
                    continue;
                }
                Object owner = ownerOf(file);
                if (owner == null || !owner.equals(me)) {
                    continue;
                }
                try {
                    BasicFileAttributes a = Files.readAttributes(file, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
                    if (a.isRegularFile() && Files.deleteIfExists(file)) {
                        deleted.add(file);
                    }
                } catch (NoSuchFileException gone) {
                    // its receiver took it meanwhile
                } catch (IOException e) {
                    // not ours to delete after all
                }
            }
        } catch (IOException e) {
            // no directory, nothing to sweep
        }
        return deleted;
    }

    private static Object ownerOf(Path path) {
        try {
            return Files.getAttribute(path, "unix:uid", LinkOption.NOFOLLOW_LINKS);
        } catch (IOException | UnsupportedOperationException | IllegalArgumentException e) {
            try {
                return Files.getOwner(path, LinkOption.NOFOLLOW_LINKS);
            } catch (IOException | UnsupportedOperationException e2) {
                return null;
            }
        }
    }

    /** A pid is alive when it runs and is not a zombie (ProcessHandle says a zombie is alive). */
    static boolean isAlive(long pid) {
        Path stat = Path.of("/proc", Long.toString(pid), "stat");
        if (Files.isDirectory(Path.of("/proc/self"))) {
            try {
                String s = Files.readString(stat);
                int close = s.lastIndexOf(')');
                return close < 0 || close + 2 >= s.length() || s.charAt(close + 2) != 'Z';
            } catch (IOException e) {
                return false;
            }
        }
        return ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false);
    }
}
