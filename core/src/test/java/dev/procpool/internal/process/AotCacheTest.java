package dev.procpool.internal.process;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.procpool.testing.NoProcessLeft;
import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 15, part 4, tried from outside: a caller JVM on this JDK ({@link ArchiveCacheChild}, class path of
 * jars only) whose workers run JDK 25 or newer, against a cache folder of its own. Workers record an AOT
 * cache once and then start from it (seen in the workers' own class loading log, not only in their command
 * line); a jar whose contents change gets another cache; a truncated cache is removed and the pool works.
 * Skipped without a JDK 25+: set {@code PROCPOOL_AOT_JAVA} to its {@code java}, or have one in {@code /usr/lib/jvm}.
 */
@Timeout(180)
@NoProcessLeft
class AotCacheTest {
    @TempDir
    static Path shared;
    private static String jarClassPath;
    private static Path java;

    @TempDir
    Path tmp;

    @BeforeAll
    static void findJdkAndPackClassFolders() throws IOException {
        java = newerJava();
        if (java != null) {
            jarClassPath = ArchiveCacheTest.jarsOnlyClassPath(shared);
        }
    }

    /** A java of JDK 25 or newer: {@code PROCPOOL_AOT_JAVA}, else the first under {@code /usr/lib/jvm}; or null. */
    static Path newerJava() throws IOException {
        String configured = System.getenv("PROCPOOL_AOT_JAVA");
        if (configured != null && !configured.isBlank()) {
            return Path.of(configured);
        }
        Path jvms = Path.of("/usr/lib/jvm");
        if (!Files.isDirectory(jvms)) {
            return null;
        }
        try (Stream<Path> homes = Files.list(jvms)) {
            return homes.sorted().map(home -> home.resolve("bin").resolve("java")).filter(Files::isExecutable)
                    .filter(j -> JavaRelease.featureVersion(j) >= ArchiveFormat.FIRST_AOT_CACHE_JDK).findFirst().orElse(null);
        }
    }

    private static void assumeNewerJdk() {
        assumeTrue(java != null, "no JDK " + ArchiveFormat.FIRST_AOT_CACHE_JDK + "+ (PROCPOOL_AOT_JAVA, /usr/lib/jvm)");
    }

    private static List<Path> caches(Path cache) throws IOException {
        try (Stream<Path> files = Files.list(cache)) {
            return files.filter(f -> f.getFileName().toString().endsWith(".aot")).sorted().toList();
        }
    }

    /** The workers' class loading log, one file per worker JVM: where each class came from. */
    private static String classLoadLog(Path logs) {
        return "-Xlog:class+load=info:file=" + logs.resolve("class-load-%p.log");
    }

    /**
     * How many of the caller's workers (their pids as it printed them) loaded procpool's worker main class from
     * the AOT cache. Other JVMs log there too: the one a recording worker starts at exit to assemble the cache.
     */
    private static long workersStartedFromTheCache(Path logs, String callerOutput) throws IOException {
        String workers = callerOutput.lines().filter(l -> l.startsWith("WORKERS ")).findFirst().orElseThrow();
        long fromCache = 0;
        for (String pid : workers.substring("WORKERS ".length()).trim().split(" ")) {
            Path log = logs.resolve("class-load-" + pid + ".log");
            if (Files.readAllLines(log).stream()
                    .anyMatch(l -> l.contains("dev.procpool.internal.worker.WorkerMain source: shared objects file"))) {
                fromCache++;
            }
        }
        return fromCache;
    }

    private static void clear(Path folder) throws IOException {
        try (Stream<Path> files = Files.list(folder)) {
            for (Path file : files.toList()) {
                Files.delete(file);
            }
        }
    }

    @Test
    void theCacheIsRecordedOnceAndThenWorkersStartFromIt() throws Exception {
        assumeNewerJdk();
        Path cache = tmp.resolve("cache");
        Path logs = Files.createDirectory(tmp.resolve("logs"));
        String first = ArchiveCacheTest.runCaller(jarClassPath, cache, java.toString(), classLoadLog(logs));
        assertThat(first).contains("OK archive=false");
        assertThat(workersStartedFromTheCache(logs, first)).isZero();
        List<Path> recorded = caches(cache);
        assertThat(recorded).as("the first pool records one AOT cache; it printed:\n" + first).hasSize(1);
        Object fileKey = Files.readAttributes(recorded.get(0), BasicFileAttributes.class).fileKey();
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(recorded.get(0)))).isEqualTo("r--------");

        for (int run = 0; run < 2; run++) {
            clear(logs);
            String later = ArchiveCacheTest.runCaller(jarClassPath, cache, java.toString(), classLoadLog(logs));
            assertThat(later).contains("OK archive=true");
            assertThat(workersStartedFromTheCache(logs, later)).as("both workers mapped the cache; it printed:\n" + later)
                    .isEqualTo(2);
        }
        assertThat(caches(cache)).as("recorded once: no pool records again").containsExactlyElementsOf(recorded);
        assertThat(Files.readAttributes(recorded.get(0), BasicFileAttributes.class).fileKey()).isEqualTo(fileKey);
    }

    @Test
    void aJarWhoseContentsChangeGetsAnotherCacheEvenWithItsSizeAndTimeKept() throws Exception {
        assumeNewerJdk();
        Path cache = tmp.resolve("cache");
        Path logs = Files.createDirectory(tmp.resolve("logs"));
        Path extra = tmp.resolve("extra.jar");
        Files.write(extra, jarBytes('a'));
        FileTime time = Files.getLastModifiedTime(extra);
        String classPath = jarClassPath + File.pathSeparator + extra;
        ArchiveCacheTest.runCaller(classPath, cache, java.toString(), classLoadLog(logs));
        List<Path> before = caches(cache);
        assertThat(before).hasSize(1);

        Files.write(extra, jarBytes('b')); // same size, same time: only the contents tell
        Files.setLastModifiedTime(extra, time);
        clear(logs);
        String changed = ArchiveCacheTest.runCaller(classPath, cache, java.toString(), classLoadLog(logs));
        assertThat(changed).as("the old cache is not used").contains("OK archive=false");
        assertThat(workersStartedFromTheCache(logs, changed)).isZero();
        assertThat(caches(cache)).as("a cache of its own is recorded").hasSize(2).containsAll(before);
    }

    /** A jar-sized file whose bytes differ by {@code fill} only: the JVM never reads it (no class is looked up there). */
    private static byte[] jarBytes(char fill) {
        byte[] bytes = new byte[4096];
        Arrays.fill(bytes, (byte) fill);
        return bytes;
    }

    @Test
    void aTruncatedCacheIsRemovedTheWorkersStartWithoutItAndTheNextPoolRecordsAFreshOne() throws Exception {
        assumeNewerJdk();
        Path cache = tmp.resolve("cache");
        String first = ArchiveCacheTest.runCaller(jarClassPath, cache, java.toString());
        assertThat(first).contains("OK archive=false");
        Path aot = caches(cache).get(0);
        byte[] whole = Files.readAllBytes(aot);
        Files.delete(aot);
        Files.write(aot, Arrays.copyOf(whole, whole.length / 2));
        Files.setPosixFilePermissions(aot, PosixFilePermissions.fromString("r--------"));

        String spoiled = ArchiveCacheTest.runCaller(jarClassPath, cache, java.toString());
        assertThat(spoiled).contains("OK").contains("died at start with the class-data archive");
        assertThat(Files.exists(aot) ? Files.size(aot) : 0L).as("the truncated cache is gone")
                .isNotEqualTo((long) whole.length / 2);

        ArchiveCacheTest.runCaller(jarClassPath, cache, java.toString()); // records afresh, if the spoiled run did not
        assertThat(ArchiveCacheTest.runCaller(jarClassPath, cache, java.toString()))
                .as("later pools start from the cache again").contains("OK archive=true");
        assertThat(Files.size(aot)).isGreaterThan(whole.length / 2);
    }
}
