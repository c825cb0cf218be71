package dev.procpool.internal.process;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * SHA-256 of the contents of a worker's class path jars, for naming the AOT cache made from them. On JDK
 * 25 the JVM does not check an AOT cache's application class path against the jars it runs with
 * (JDK-8377932): a jar rebuilt at the same path would run the classes the cache holds. Naming the cache by
 * what the jars contain means changed jars never meet an old cache.
 *
 * <p>Hashing costs: ~190 ms for 25 MB in a fresh JVM (the bench class path), which would land on every
 * pool's start. So each jar's digest is remembered, in this JVM and in a file of the cache folder, under
 * its path, size, modification time, inode and change time ({@code ctime}). The kernel sets ctime on every
 * write and no tool can set it back (unlike mtime: {@code cp -p}, {@code rsync -t}, {@code touch -r}), so a
 * jar whose contents changed is hashed again; one only touched hashes to the same digest and keeps its
 * cache. Where the file system has no ctime (no {@code unix} attribute view) every jar is hashed every time.
 */
final class ClassPathDigest {
    /** What was hashed, as {@code size|mtime|ctime|inode|path}, to the hex digest of its contents; for this JVM's life. */
    private static final Map<String, String> KNOWN = new ConcurrentHashMap<>();
    /** Keys this JVM hashed or looked up: written first, so a full memo keeps what is in use. */
    private static final Set<String> USED = ConcurrentHashMap.newKeySet();
    /** Memo files already read into {@link #KNOWN}. */
    private static final Map<Path, Boolean> LOADED = new ConcurrentHashMap<>();
    /** Lines kept in the memo file at most (a line is ~150 bytes). */
    static final int MAX_REMEMBERED = 4_096;

    private ClassPathDigest() {}

    /**
     * One digest of the contents of these jars, in this order.
     *
     * @param memo the file remembering digests across JVMs (in an owner-only folder); null for none
     */
    static String of(List<Path> jars, Path memo) throws IOException {
        if (memo != null && LOADED.putIfAbsent(memo, Boolean.TRUE) == null) {
            load(memo);
        }
        MessageDigest all = sha256();
        boolean learned = false;
        for (Path jar : jars) {
            Path real = jar.toRealPath();
            String key = key(real);
            String digest = key == null ? null : KNOWN.get(key);
            if (key != null && USED.add(key) && digest != null && KNOWN.size() >= MAX_REMEMBERED) {
                learned = true; // a full memo is rewritten with what is in use first
            }
            if (digest == null) {
                digest = hash(real);
                if (key != null) {
                    KNOWN.put(key, digest);
                    learned = true;
                }
            }
            all.update((digest + "\n").getBytes(StandardCharsets.US_ASCII));
        }
        if (learned && memo != null) {
            save(memo);
        }
        return HexFormat.of().formatHex(all.digest());
    }

    /** The jar's identity as the kernel keeps it, or null when there is no ctime to trust. */
    private static String key(Path real) {
        try {
            Map<String, Object> a = Files.readAttributes(real, "unix:size,lastModifiedTime,ctime,ino");
            return a.get("size") + "|" + a.get("lastModifiedTime") + "|" + a.get("ctime") + "|" + a.get("ino") + "|" + real;
        } catch (IOException | UnsupportedOperationException | IllegalArgumentException e) {
            return null;
        }
    }

    static String hash(Path file) throws IOException {
        MessageDigest digest = sha256();
        byte[] buffer = new byte[1 << 16];
        try (InputStream in = Files.newInputStream(file)) {
            for (int n; (n = in.read(buffer)) > 0; ) {
                digest.update(buffer, 0, n);
            }
        }
        return HexFormat.of().formatHex(digest.digest());
    }

    private static void load(Path memo) {
        if (!ClassDataArchive.trusted(memo)) {
            return; // absent, or written by someone else: hash afresh
        }
        try {
            for (String line : Files.readAllLines(memo, StandardCharsets.UTF_8)) {
                int space = line.indexOf(' ');
                if (space == 64 && line.length() > 65) {
                    KNOWN.putIfAbsent(line.substring(space + 1), line.substring(0, space));
                }
            }
        } catch (IOException | RuntimeException e) {
            // a damaged memo costs hashing, nothing else
        }
    }

    /** Writes what this JVM knows to a file of its own and moves it into place; the last writer wins. */
    private static void save(Path memo) {
        Set<String> keys = new LinkedHashSet<>(USED);
        keys.addAll(KNOWN.keySet());
        List<String> lines = new ArrayList<>();
        for (String key : keys) {
            String digest = KNOWN.get(key);
            if (lines.size() >= MAX_REMEMBERED) {
                break;
            }
            if (digest != null) {
                lines.add(digest + " " + key);
            }
        }
        Path temporary = memo.resolveSibling(memo.getFileName() + "." + ProcessHandle.current().pid() + "-" + System.nanoTime() + ".tmp");
        try {
            if (memo.getFileSystem().supportedFileAttributeViews().contains("posix")) {
                Files.createFile(temporary, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
            }
            Files.write(temporary, lines, StandardCharsets.UTF_8);
            try {
                Files.move(temporary, memo, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(temporary, memo, StandardCopyOption.REPLACE_EXISTING);
            }
        } catch (IOException | RuntimeException e) {
            try {
                Files.deleteIfExists(temporary);
            } catch (IOException ignored) {
                // a stray temporary file, pruned with the recordings
            }
        }
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is required of every JDK", e);
        }
    }
}
