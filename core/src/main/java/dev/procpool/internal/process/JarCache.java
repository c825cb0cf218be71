package dev.procpool.internal.process;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFileAttributes;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.nio.file.attribute.UserPrincipal;
import java.security.DigestOutputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Enumeration;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.jar.JarOutputStream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A content-addressed cache of jars that exist only inside other jars (Spring Boot's
 * {@code BOOT-INF/lib/*.jar}, {@code BOOT-INF/classes/}): a worker JVM needs real files on its class
 * path. Each jar is stored once as {@code <sha256>.jar}, written to a temporary file in the same folder
 * and moved into place atomically (two JVMs filling the cache at once both end with the same complete
 * file), and its hash is checked against its name before it is used. The folder is the owner's only
 * ({@code rwx------}; a folder that others can write to is refused). Files not used for an hour are
 * pruned, oldest first, while the cache is larger than its cap.
 *
 * <p>Where: {@code $XDG_CACHE_HOME/procpool/jars} (default {@code ~/.cache/procpool/jars}), or the
 * system property {@code procpool.jars.dir}; cap: {@code procpool.jars.maxBytes} (default 1 GiB).
 */
final class JarCache {
    private static final Logger log = LoggerFactory.getLogger(JarCache.class);
    private static final long DEFAULT_MAX_BYTES = 1L << 30;
    /** A file used this recently may be about to start a worker in another JVM: never pruned. */
    private static final long KEEP_RECENT_MILLIS = 3_600_000;
    private static final long FIXED_TIME = 315532800000L; // 1980-01-01, the earliest a zip entry can say

    /** Nested entries already in the cache, for this JVM's life: (outer jar, its size and time, entry) to file. */
    private static final Map<String, Path> KNOWN = new ConcurrentHashMap<>();

    private JarCache() {}

    static Path directory() {
        String configured = System.getProperty("procpool.jars.dir");
        if (configured != null && !configured.isBlank()) {
            return Path.of(configured).toAbsolutePath();
        }
        String xdg = System.getenv("XDG_CACHE_HOME");
        Path base = xdg != null && !xdg.isBlank() ? Path.of(xdg) : Path.of(System.getProperty("user.home"), ".cache");
        return base.resolve("procpool").resolve("jars").toAbsolutePath();
    }

    /**
     * A real file with the content of {@code entry} of the jar {@code outer}: the entry itself when it is
     * a jar, or a jar of the files under it when it is a folder ({@code BOOT-INF/classes/}).
     */
    static Path extract(Path outer, String entry) throws IOException {
        String key = outer + "|" + Files.size(outer) + "|" + Files.getLastModifiedTime(outer).toMillis() + "|" + entry;
        Path known = KNOWN.get(key);
        if (known != null && Files.isRegularFile(known)) {
            return known;
        }
        Path directory = ownedDirectory(directory());
        Path file;
        try (ZipFile zip = new ZipFile(outer.toFile())) {
            ZipEntry found = entry.endsWith("/") ? null : zip.getEntry(entry);
            if (found != null && !found.isDirectory()) {
                file = store(directory, out -> {
                    try (InputStream in = zip.getInputStream(found)) {
                        in.transferTo(out);
                    }
                });
            } else {
                file = store(directory, out -> packFolder(zip, entry.endsWith("/") ? entry : entry + "/", out));
            }
        }
        KNOWN.put(key, file);
        prune(directory);
        return file;
    }

    private interface Content {
        void writeTo(OutputStream out) throws IOException;
    }

    /** Writes the content to a temporary file while hashing it, then moves it to its content's name. */
    private static Path store(Path directory, Content content) throws IOException {
        Path temp = Files.createTempFile(directory, "extract-", ".tmp");
        try {
            MessageDigest digest = sha256();
            try (OutputStream out = new DigestOutputStream(Files.newOutputStream(temp), digest)) {
                content.writeTo(out);
            }
            String hash = HexFormat.of().formatHex(digest.digest());
            Path target = directory.resolve(hash + ".jar");
            if (Files.isRegularFile(target) && hash.equals(hashOf(target))) {
                touch(target);
                return target;
            }
            try {
                Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(temp, target, StandardCopyOption.REPLACE_EXISTING);
            }
            log.debug("extracted {} into the cache", target.getFileName());
            return target;
        } finally {
            Files.deleteIfExists(temp);
        }
    }

    /** The files under {@code prefix} as a jar whose bytes depend only on their names and contents. */
    private static void packFolder(ZipFile zip, String prefix, OutputStream out) throws IOException {
        List<ZipEntry> entries = new ArrayList<>();
        for (Enumeration<? extends ZipEntry> all = zip.entries(); all.hasMoreElements(); ) {
            ZipEntry e = all.nextElement();
            if (!e.isDirectory() && e.getName().startsWith(prefix) && e.getName().length() > prefix.length()) {
                entries.add(e);
            }
        }
        if (entries.isEmpty()) {
            throw new IOException(zip.getName() + " has no entry " + prefix);
        }
        entries.sort(Comparator.comparing(ZipEntry::getName));
        try (JarOutputStream jar = new JarOutputStream(new NonClosing(out))) {
            for (ZipEntry e : entries) {
                ZipEntry copy = new ZipEntry(e.getName().substring(prefix.length()));
                copy.setTime(FIXED_TIME);
                jar.putNextEntry(copy);
                try (InputStream in = zip.getInputStream(e)) {
                    in.transferTo(jar);
                }
                jar.closeEntry();
            }
        }
    }

    /** The folder, made owner-only if new; refused when it belongs to someone else or others may write to it. */
    static Path ownedDirectory(Path directory) throws IOException {
        if (!Files.isDirectory(directory)) {
            Path parent = directory.getParent();
            if (parent != null) {
                Files.createDirectories(parent);
            }
            try {
                Files.createDirectory(directory, PosixFilePermissions.asFileAttribute(
                        PosixFilePermissions.fromString("rwx------")));
            } catch (UnsupportedOperationException e) {
                Files.createDirectories(directory);
            } catch (java.nio.file.FileAlreadyExistsException e) {
                // another JVM made it just now: checked below
            }
        }
        PosixFileAttributeView posix = Files.getFileAttributeView(directory, PosixFileAttributeView.class);
        if (posix != null) {
            PosixFileAttributes attributes = posix.readAttributes();
            Path probe = Files.createTempFile(directory, "owner-", ".tmp");
            UserPrincipal me;
            try {
                me = Files.getOwner(probe);
            } finally {
                Files.deleteIfExists(probe);
            }
            Set<PosixFilePermission> permissions = attributes.permissions();
            if (!attributes.owner().equals(me) || permissions.contains(PosixFilePermission.GROUP_WRITE)
                    || permissions.contains(PosixFilePermission.OTHERS_WRITE)) {
                throw new IOException("the jar cache " + directory + " belongs to " + attributes.owner()
                        + " or others can write to it (" + PosixFilePermissions.toString(permissions)
                        + "); remove it or point procpool.jars.dir elsewhere");
            }
        }
        return directory;
    }

    /** Drops files unused for an hour, oldest first, while the cache is above its cap; and stale temporary files. */
    static void prune(Path directory) {
        long max = Long.getLong("procpool.jars.maxBytes", DEFAULT_MAX_BYTES);
        long now = System.currentTimeMillis();
        record Entry(Path path, long size, long modified) {}
        List<Entry> jars = new ArrayList<>();
        long total = 0;
        try (DirectoryStream<Path> files = Files.newDirectoryStream(directory)) {
            for (Path file : files) {
                long modified = Files.getLastModifiedTime(file).toMillis();
                String name = file.getFileName().toString();
                if (name.endsWith(".tmp")) {
                    if (now - modified > KEEP_RECENT_MILLIS) {
                        Files.deleteIfExists(file);
                    }
                } else if (name.endsWith(".jar")) {
                    long size = Files.size(file);
                    jars.add(new Entry(file, size, modified));
                    total += size;
                }
            }
            if (total <= max) {
                return;
            }
            jars.sort(Comparator.comparingLong(Entry::modified));
            for (Entry jar : jars) {
                if (total <= max) {
                    break;
                }
                if (now - jar.modified() > KEEP_RECENT_MILLIS && !KNOWN.containsValue(jar.path())) {
                    Files.deleteIfExists(jar.path());
                    total -= jar.size();
                }
            }
        } catch (IOException e) {
            log.debug("could not prune {}: {}", directory, e.toString());
        }
    }

    private static void touch(Path file) {
        try {
            Files.setLastModifiedTime(file, FileTime.fromMillis(System.currentTimeMillis()));
        } catch (IOException e) {
            // read-only cache: pruning may then drop it earlier, which is harmless
        }
    }

    static String hashOf(Path file) throws IOException {
        MessageDigest digest = sha256();
        try (InputStream in = Files.newInputStream(file)) {
            byte[] buffer = new byte[64 * 1024];
            for (int n; (n = in.read(buffer)) > 0; ) {
                digest.update(buffer, 0, n);
            }
        }
        return HexFormat.of().formatHex(digest.digest());
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new UncheckedIOException(new IOException(e));
        }
    }

    /** Lets a {@link JarOutputStream} finish its jar without closing the stream under it. */
    private static final class NonClosing extends java.io.FilterOutputStream {
        NonClosing(OutputStream out) {
            super(out);
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            out.write(b, off, len);
        }

        @Override
        public void close() throws IOException {
            flush();
        }
    }
}
