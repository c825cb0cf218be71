package dev.procpool.internal.process;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A class-data-sharing archive of the classes a worker loads, so later workers start faster. The
 * first worker of a pool that finds no archive records one when it exits normally
 * ({@code -XX:ArchiveClassesAtExit}); later workers map it ({@code -XX:SharedArchiveFile}).
 *
 * <p>The archive is keyed by a hash of the {@code java} executable and every class path entry (path,
 * size, modification time), so a changed jar or JDK gets a new archive, and the JVM checks the archive
 * against its class path again before using it. CDS archives classes from jars only: a class path
 * with class folders (as in an IDE or a Maven test run) gets no archive. Archives live in
 * {@code $XDG_CACHE_HOME/procpool/cds} (default {@code ~/.cache/procpool/cds}), or where the system
 * property {@code procpool.cds.dir} says. Disabled with the system property {@code procpool.cds=false}.
 */
public final class ClassDataArchive {
    private static final Logger log = LoggerFactory.getLogger(ClassDataArchive.class);

    private final Path archive;

    private ClassDataArchive(Path archive) {
        this.archive = archive;
    }

    /** The archive for workers with this java and class path, or null when none can be used. */
    static ClassDataArchive find(Path java, String classPath) {
        if ("false".equalsIgnoreCase(System.getProperty("procpool.cds"))) {
            return null;
        }
        try {
            MessageDigest digest = MessageDigest.getInstance("SHA-256");
            add(digest, java);
            for (String entry : classPath.split(File.pathSeparator)) {
                Path path = Path.of(entry);
                if (Files.isDirectory(path) || !Files.isRegularFile(path)) {
                    return null;
                }
                add(digest, path);
            }
            String key = HexFormat.of().formatHex(digest.digest()).substring(0, 24);
            return new ClassDataArchive(cacheDirectory().resolve("worker-" + key + ".jsa"));
        } catch (IOException | NoSuchAlgorithmException | RuntimeException e) {
            log.debug("no class-data archive for workers: {}", e.toString());
            return null;
        }
    }

    private static void add(MessageDigest digest, Path path) throws IOException {
        Path real = path.toRealPath();
        BasicFileAttributes attributes = Files.readAttributes(real, BasicFileAttributes.class);
        digest.update((real + "|" + attributes.size() + "|" + attributes.lastModifiedTime().toMillis() + "\n")
                .getBytes(StandardCharsets.UTF_8));
    }

    private static Path cacheDirectory() {
        String configured = System.getProperty("procpool.cds.dir");
        if (configured != null && !configured.isBlank()) {
            return Path.of(configured);
        }
        String xdg = System.getenv("XDG_CACHE_HOME");
        Path base = xdg != null && !xdg.isBlank() ? Path.of(xdg) : Path.of(System.getProperty("user.home"), ".cache");
        return base.resolve("procpool").resolve("cds");
    }

    boolean exists() {
        return Files.isRegularFile(archive);
    }

    /** JVM options for a worker that uses the archive. */
    List<String> useOptions() {
        return List.of("-XX:SharedArchiveFile=" + archive);
    }

    /** A fresh temporary file name for a worker that records the archive at exit; null if no directory. */
    Path recordingFile() {
        try {
            Files.createDirectories(archive.getParent());
            return archive.resolveSibling(archive.getFileName() + "." + ProcessHandle.current().pid() + "-"
                    + System.nanoTime() + ".tmp");
        } catch (IOException e) {
            log.debug("cannot create {}: {}", archive.getParent(), e.toString());
            return null;
        }
    }

    static List<String> recordOptions(Path recording) {
        // recording warns about every class it skips (JFR events, lambda forms): not the user's business
        return List.of("-XX:ArchiveClassesAtExit=" + recording, "-Xlog:cds*=error:stderr");
    }

    /** After the recording worker exited: publish its archive if it wrote a complete one. */
    void recorded(Path recording, int exitCode) {
        try {
            if (exitCode == 0 && Files.isRegularFile(recording) && Files.size(recording) > 0) {
                Files.move(recording, archive, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
                log.debug("workers will start from the class-data archive {}", archive);
            }
        } catch (IOException e) {
            log.debug("could not publish {}: {}", archive, e.toString());
        } finally {
            try {
                Files.deleteIfExists(recording);
            } catch (IOException ignored) {
                // a stale temporary file in a cache directory
            }
        }
    }
}
