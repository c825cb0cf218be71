package dev.procpool.internal.process;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.nio.file.attribute.UserPrincipal;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An archive of the classes a worker loads, so later workers start faster: the AOT cache on JDK 25 and
 * newer, the dynamic class-data-sharing archive before ({@link ArchiveFormat}, chosen by the worker's
 * {@code java}, not the caller's). The first worker of a pool that finds no archive records one when it
 * exits normally ({@code -XX:AOTCacheOutput}, {@code -XX:ArchiveClassesAtExit}); later workers map it
 * ({@code -XX:AOTCache}, {@code -XX:SharedArchiveFile}).
 *
 * <p>The class-data archive is keyed by a fingerprint of the {@code java} executable and every class path
 * entry (path, size, modification time), and the JVM checks it against its class path again before using
 * it. The AOT cache is keyed by the {@code java} executable, the contents of the class path jars ({@link
 * ClassPathDigest}) and the worker's start options, because JDK 25 does not check its class path
 * (JDK-8377932). Both archive classes from jars only: a class path with class folders (as in an IDE or a
 * Maven test run) gets no archive. Archives live in {@code $XDG_CACHE_HOME/procpool/cds} (default {@code
 * ~/.cache/procpool/cds}), or where the system property {@code procpool.cds.dir} says. Disabled with the
 * system property {@code procpool.cds=false}; {@code procpool.aot=false} keeps the class-data archive on JDK 25.
 *
 * <p>A JVM maps an archive into every worker, so whoever can write it controls every pool: the folder
 * is created owner-only, and a folder or archive that another user owns, or that group or others may
 * write, is not used. Recordings go to a file of their own and are moved into place in one step, so
 * JVMs filling the cache at once never see half an archive. The folder is kept under a total size
 * ({@code procpool.cds.maxBytes}, default {@value #DEFAULT_MAX_TOTAL_BYTES} bytes) by removing the
 * archives used least recently.
 */
public final class ClassDataArchive {
    private static final Logger log = LoggerFactory.getLogger(ClassDataArchive.class);
    static final long DEFAULT_MAX_TOTAL_BYTES = 256L * 1024 * 1024;
    /** A recording this old was left by a JVM that died while recording. */
    static final Duration STALE_RECORDING = Duration.ofHours(1);
    private static final Set<PosixFilePermission> OWNER_ONLY_FOLDER = PosixFilePermissions.fromString("rwx------");
    private static final Set<PosixFilePermission> OWNER_READ_ONLY = PosixFilePermissions.fromString("r--------");

    /** The archive as a worker was started with it: which file, so that only that one is ever removed. */
    record Use(List<String> options, Object fileKey) {}

    /** Where the AOT cache's class path digests are remembered across JVMs ({@link ClassPathDigest}). */
    static final String DIGEST_MEMO = "class-path-digests";

    private final Path archive;
    private final ArchiveFormat format;
    private volatile boolean touched;

    private ClassDataArchive(Path archive, ArchiveFormat format) {
        this.archive = archive;
        this.format = format;
    }

    /**
     * The archive for the workers of a pool with these settings, or null when none can be used: also when the
     * pool's JVM options choose class sharing themselves ({@code -Xshare:off}, an archive or cache of their
     * own), which ours would contradict.
     */
    static ClassDataArchive forWorkers(WorkerSettings settings) {
        for (String option : settings.jvmOptions()) {
            if (option.startsWith("-Xshare:") || option.startsWith("-XX:SharedArchiveFile") || option.startsWith("-XX:AOT")
                    || option.startsWith("-XX:ArchiveClassesAtExit") || option.contains("AutoCreateSharedArchive")) {
                return null;
            }
        }
        List<String> startOptions = new ArrayList<>(settings.jvmOptions());
        String toolOptions = settings.environment().getOrDefault("JAVA_TOOL_OPTIONS", System.getenv("JAVA_TOOL_OPTIONS"));
        if (toolOptions != null) {
            startOptions.add("JAVA_TOOL_OPTIONS=" + toolOptions);
        }
        return find(settings.javaExecutable(), WorkerCommand.classPath(settings.classPath()), startOptions);
    }

    /** The archive for workers with this java and class path, or null when none can be used. */
    static ClassDataArchive find(Path java, String classPath) {
        return find(java, classPath, List.of());
    }

    /**
     * The archive for workers with this java, class path and start options (JVM options, {@code
     * JAVA_TOOL_OPTIONS}), or null when none can be used. The AOT cache's name includes the options (a
     * cache made with one collector or agent is refused by a JVM started with another) and the class path
     * jars' contents; the class-data archive's, as before, the jars' paths, sizes and times.
     */
    static ClassDataArchive find(Path java, String classPath, List<String> startOptions) {
        if ("false".equalsIgnoreCase(System.getProperty("procpool.cds"))) {
            return null;
        }
        try {
            List<Path> jars = new ArrayList<>();
            for (String entry : classPath.split(File.pathSeparator)) {
                Path path = Path.of(entry);
                if (Files.isDirectory(path) || !Files.isRegularFile(path)) {
                    return null; // both formats archive classes from jars only: the JVM refuses a class folder
                }
                jars.add(path);
            }
            Path directory = cacheDirectory();
            if (!ownerOnlyFolder(directory)) {
                return null;
            }
            ArchiveFormat format = ArchiveFormat.forJava(java);
            Fingerprint key = new Fingerprint();
            add(key, java);
            if (format == ArchiveFormat.AOT_CACHE) {
                key.add("aot");
                key.add(ClassPathDigest.of(jars, directory.resolve(DIGEST_MEMO)));
                for (String option : startOptions) {
                    key.add(option);
                }
            } else {
                for (Path jar : jars) {
                    add(key, jar);
                }
            }
            return new ClassDataArchive(directory.resolve("worker-" + key.hex() + format.suffix), format);
        } catch (IOException | RuntimeException e) {
            log.debug("no class-data archive for workers: {}", e.toString());
            return null;
        }
    }

    private static void add(Fingerprint key, Path path) throws IOException {
        Path real = path.toRealPath();
        BasicFileAttributes attributes = Files.readAttributes(real, BasicFileAttributes.class);
        key.add(real.toString());
        key.add(attributes.size());
        key.add(attributes.lastModifiedTime().toMillis());
    }

    /**
     * A 128-bit name for a class path (two FNV-1a hashes): the archive's name in the cache, not its
     * guard (the folder is owner-only and the JVM checks the archive against its class path). Not a
     * {@code MessageDigest}: loading the first security provider cost ~20 ms of a cold caller's
     * {@code build()}, before any worker could start.
     */
    static final class Fingerprint {
        private long low = 0xcbf29ce484222325L;
        private long high = 0x84222325cbf29ce4L;

        void add(String text) {
            for (int i = 0; i < text.length(); i++) {
                mix(text.charAt(i));
            }
            mix(0x1_0000); // no char: ends the string, so "ab","c" and "a","bc" differ
        }

        void add(long number) {
            for (int shift = 0; shift < 64; shift += 16) {
                mix((int) (number >>> shift) & 0xffff);
            }
        }

        private void mix(int value) {
            low = (low ^ value) * 0x100000001b3L;
            high = (high ^ (value + 0x9e37)) * 0x100000001b3L;
            high ^= high >>> 29;
        }

        String hex() {
            return HexFormat.of().toHexDigits(high) + HexFormat.of().toHexDigits(low);
        }
    }

    static Path cacheDirectory() {
        String configured = System.getProperty("procpool.cds.dir");
        if (configured != null && !configured.isBlank()) {
            return Path.of(configured);
        }
        String xdg = System.getenv("XDG_CACHE_HOME");
        Path base = xdg != null && !xdg.isBlank() ? Path.of(xdg) : Path.of(System.getProperty("user.home"), ".cache");
        return base.resolve("procpool").resolve("cds");
    }

    /**
     * Creates the folder owner-only, whatever the umask, or checks the one there: ours, and (tightened if
     * it is not) writable by us alone. False when it cannot be made so: then there is no cache.
     */
    private static boolean ownerOnlyFolder(Path directory) throws IOException {
        boolean posix = directory.getFileSystem().supportedFileAttributeViews().contains("posix");
        if (!Files.exists(directory, LinkOption.NOFOLLOW_LINKS)) {
            if (posix) {
                Files.createDirectories(directory, PosixFilePermissions.asFileAttribute(OWNER_ONLY_FOLDER));
            } else {
                Files.createDirectories(directory);
            }
        }
        if (!Files.isDirectory(directory, LinkOption.NOFOLLOW_LINKS) || !ownedByUs(directory)) {
            log.warn("procpool: not using the class-data cache {}: it is not a folder of this user's", directory);
            return false;
        }
        if (posix && !Files.getPosixFilePermissions(directory, LinkOption.NOFOLLOW_LINKS).equals(OWNER_ONLY_FOLDER)) {
            Files.setPosixFilePermissions(directory, OWNER_ONLY_FOLDER); // what another user put there is vetted file by file
        }
        return true;
    }

    private static boolean ownedByUs(Path path) throws IOException {
        return Files.getOwner(path, LinkOption.NOFOLLOW_LINKS).equals(CurrentUser.PRINCIPAL);
    }

    /** A regular file (not a link) of ours that no one else may write. */
    static boolean trusted(Path file) {
        try {
            if (!Files.isRegularFile(file, LinkOption.NOFOLLOW_LINKS) || !ownedByUs(file)) {
                return false;
            }
            if (!file.getFileSystem().supportedFileAttributeViews().contains("posix")) {
                return true;
            }
            Set<PosixFilePermission> permissions = Files.getPosixFilePermissions(file, LinkOption.NOFOLLOW_LINKS);
            return !permissions.contains(PosixFilePermission.GROUP_WRITE)
                    && !permissions.contains(PosixFilePermission.OTHERS_WRITE);
        } catch (IOException | RuntimeException e) {
            return false;
        }
    }

    /** The archive for a worker to start with, or null when there is none that may be used. */
    Use use() {
        if (!Files.exists(archive, LinkOption.NOFOLLOW_LINKS)) {
            return null;
        }
        if (!trusted(archive)) {
            log.debug("not using {}: not this user's, or others may write it", archive);
            return null;
        }
        try {
            Object fileKey = Files.readAttributes(archive, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS).fileKey();
            if (!touched) { // pruning keeps the archives used last
                touched = true;
                Files.setLastModifiedTime(archive, FileTime.from(Instant.now()));
            }
            return new Use(format.useOptions(archive), fileKey);
        } catch (IOException e) {
            return null;
        }
    }

    /**
     * A worker started with this archive died before it was ready: the archive is the first suspect
     * (a truncated one kills every JVM that maps it). Removes it unless it was replaced meanwhile.
     */
    void discard(Use used) {
        try {
            Object now = Files.readAttributes(archive, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS).fileKey();
            if (now != null && now.equals(used.fileKey())) {
                Files.delete(archive);
            }
        } catch (NoSuchFileException gone) {
            // another pool removed it first
        } catch (IOException e) {
            log.debug("could not remove {}: {}", archive, e.toString());
        }
    }

    Path path() {
        return archive;
    }

    /** A fresh temporary file name for a worker that records the archive at exit. */
    Path recordingFile() {
        return archive.resolveSibling(archive.getFileName() + "." + ProcessHandle.current().pid() + "-"
                + System.nanoTime() + ".tmp");
    }

    List<String> recordOptions(Path recording) {
        return format.recordOptions(recording);
    }

    ArchiveFormat format() {
        return format;
    }

    /** After the recording worker exited: publish its archive if it wrote a complete one, then prune. */
    void recorded(Path recording, int exitCode) {
        try {
            if (exitCode == 0 && trusted(recording) && Files.size(recording) > 0) {
                if (recording.getFileSystem().supportedFileAttributeViews().contains("posix")) {
                    Files.setPosixFilePermissions(recording, OWNER_READ_ONLY);
                }
                Files.move(recording, archive, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
                log.debug("workers will start from the class-data archive {}", archive);
                prune(archive.getParent(), maxTotalBytes(), archive);
            }
        } catch (IOException e) {
            log.debug("could not publish {}: {}", archive, e.toString());
        } finally {
            try {
                Files.deleteIfExists(recording);
                Files.deleteIfExists(recording.resolveSibling(recording.getFileName() + ".config")); // an AOT recording's first step
            } catch (IOException ignored) {
                // a stale temporary file in a cache directory
            }
        }
    }

    private static long maxTotalBytes() {
        try {
            return Long.parseLong(System.getProperty("procpool.cds.maxBytes", Long.toString(DEFAULT_MAX_TOTAL_BYTES)));
        } catch (NumberFormatException e) {
            return DEFAULT_MAX_TOTAL_BYTES;
        }
    }

    /**
     * Removes archives used least recently until the folder's archives fit in {@code maxBytes} ({@code keep}
     * stays whatever its size), and recordings abandoned by JVMs that died while recording.
     */
    static void prune(Path directory, long maxBytes, Path keep) {
        record Entry(Path path, long size, long modified) {}
        List<Entry> archives = new ArrayList<>();
        long now = System.currentTimeMillis();
        try (DirectoryStream<Path> files = Files.newDirectoryStream(directory, "worker-*")) {
            for (Path file : files) {
                BasicFileAttributes attributes;
                try {
                    attributes = Files.readAttributes(file, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
                } catch (IOException gone) {
                    continue;
                }
                long modified = attributes.lastModifiedTime().toMillis();
                String name = file.getFileName().toString();
                if (name.endsWith(".tmp") || name.endsWith(".tmp.config")) { // .config: an AOT recording's first step
                    if (now - modified > STALE_RECORDING.toMillis()) {
                        Files.deleteIfExists(file);
                    }
                } else if (name.endsWith(ArchiveFormat.DYNAMIC_CDS.suffix) || name.endsWith(ArchiveFormat.AOT_CACHE.suffix)) {
                    archives.add(new Entry(file, attributes.size(), modified));
                }
            }
            archives.sort(Comparator.comparingLong(Entry::modified).reversed());
            long total = archives.stream().filter(e -> e.path().equals(keep)).mapToLong(Entry::size).sum();
            for (Entry entry : archives) {
                if (entry.path().equals(keep)) {
                    continue;
                }
                if (total + entry.size() <= maxBytes) {
                    total += entry.size();
                } else {
                    Files.deleteIfExists(entry.path());
                    log.debug("removed the class-data archive {} to keep the cache under {} bytes", entry.path(), maxBytes);
                }
            }
        } catch (IOException | RuntimeException e) {
            log.debug("could not prune {}: {}", directory, e.toString());
        }
    }

    /** Who this JVM runs as: the owner of its own {@code /proc} entry where there is one, else by name. */
    private static final class CurrentUser {
        static final UserPrincipal PRINCIPAL = find();

        private static UserPrincipal find() {
            try {
                Path self = Path.of("/proc/self");
                if (Files.exists(self)) {
                    return Files.getOwner(self);
                }
                return FileSystems.getDefault().getUserPrincipalLookupService()
                        .lookupPrincipalByName(System.getProperty("user.name"));
            } catch (IOException | RuntimeException e) {
                return null; // nothing is ours: no cache
            }
        }
    }
}
