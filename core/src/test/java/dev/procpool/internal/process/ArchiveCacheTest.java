package dev.procpool.internal.process;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.procpool.testing.NoProcessLeft;
import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.nio.file.attribute.UserPrincipal;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.jar.JarOutputStream;
import java.util.stream.Stream;
import java.util.zip.ZipEntry;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 13, items 5 and 6, tried from outside: a caller JVM ({@link ArchiveCacheChild}) whose class path
 * is jars only, so that its workers get a class-data archive, run against a cache folder this test
 * spoils in between: a truncated archive, an archive others may write, one owned by another user.
 * Every run must work; a bad archive is removed and recorded afresh, a foreign one is not used.
 */
@Timeout(120)
@NoProcessLeft
class ArchiveCacheTest {
    @TempDir
    static Path shared;
    private static String jarClassPath;

    @TempDir
    Path tmp;

    /** The test class path with every class folder packed into a jar: CDS archives classes from jars only. */
    @BeforeAll
    static void packClassFolders() throws IOException {
        jarClassPath = jarsOnlyClassPath(shared);
    }

    /** This JVM's class path with every class folder packed into a jar in {@code into}. */
    static String jarsOnlyClassPath(Path into) throws IOException {
        List<String> entries = new ArrayList<>();
        int n = 0;
        for (String entry : System.getProperty("java.class.path").split(File.pathSeparator)) {
            Path path = Path.of(entry);
            if (Files.isDirectory(path)) {
                Path jar = into.resolve("folder-" + n++ + ".jar");
                pack(path, jar);
                entries.add(jar.toString());
            } else if (Files.isRegularFile(path)) {
                entries.add(path.toString());
            }
        }
        return String.join(File.pathSeparator, entries);
    }

    private static void pack(Path folder, Path jar) throws IOException {
        try (JarOutputStream out = new JarOutputStream(Files.newOutputStream(jar)); Stream<Path> files = Files.walk(folder)) {
            for (Path file : (Iterable<Path>) files.filter(Files::isRegularFile).sorted()::iterator) {
                out.putNextEntry(new ZipEntry(folder.relativize(file).toString().replace(File.separatorChar, '/')));
                Files.copy(file, out);
                out.closeEntry();
            }
        }
    }

    /** Runs one caller JVM to its end; returns what it printed (stdout, then stderr). */
    private static String runCaller(Path cache) throws Exception {
        return runCaller(jarClassPath, cache);
    }

    /**
     * Runs one caller JVM ({@link ArchiveCacheChild}, on this JDK) on this class path to its end; returns
     * what it printed (stdout and stderr). {@code args}: the workers' java, then their JVM options.
     */
    static String runCaller(String classPath, Path cache, String... args) throws Exception {
        Path java = WorkerCommand.defaultJava();
        List<String> command = new ArrayList<>(List.of(java.toString(), "-Dprocpool.cds.dir=" + cache,
                "-Dorg.slf4j.simpleLogger.defaultLogLevel=info",
                "-Dorg.slf4j.simpleLogger.log.dev.procpool.internal.process.ClassDataArchive=debug", "-cp", classPath,
                ArchiveCacheChild.class.getName()));
        command.addAll(List.of(args));
        Process child = new ProcessBuilder(command).redirectErrorStream(true).start();
        child.getOutputStream().close();
        String output;
        try {
            output = new String(child.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertThat(child.waitFor(60, TimeUnit.SECONDS)).as("the caller JVM ends").isTrue();
        } finally {
            child.destroyForcibly();
        }
        assertThat(child.exitValue()).as("the caller's map works; it printed:\n" + output).isZero();
        return output;
    }

    private static List<Path> archives(Path cache) throws IOException {
        try (Stream<Path> files = Files.list(cache)) {
            return files.filter(f -> f.getFileName().toString().endsWith(".jsa")).toList();
        }
    }

    /** A first run that records the archive, and the archive it left. */
    private static Path recordOne(Path cache) throws Exception {
        String first = runCaller(cache);
        assertThat(first).contains("OK archive=false");
        List<Path> recorded = archives(cache);
        assertThat(recorded).as("the first pool records an archive; it printed:\n" + first).hasSize(1);
        return recorded.get(0);
    }

    @Test
    void aTruncatedArchiveIsRemovedTheWorkersStartWithoutItAndTheNextPoolRecordsAFreshOne() throws Exception {
        Path cache = tmp.resolve("cache");
        Path archive = recordOne(cache);
        assertThat(runCaller(cache)).contains("OK archive=true");

        byte[] whole = Files.readAllBytes(archive);
        Files.delete(archive);
        Files.write(archive, java.util.Arrays.copyOf(whole, whole.length / 2));
        Files.setPosixFilePermissions(archive, PosixFilePermissions.fromString("r--------"));

        String spoiled = runCaller(cache);
        assertThat(spoiled).contains("OK").contains("class-data archive");
        assertThat(Files.exists(archive) ? Files.size(archive) : 0L).as("the truncated archive is gone")
                .isNotEqualTo((long) whole.length / 2);

        runCaller(cache); // records afresh, if the spoiled run did not
        assertThat(runCaller(cache)).as("later pools start fast again").contains("OK archive=true");
        assertThat(Files.size(archive)).isGreaterThan(whole.length / 2);
    }

    @Test
    void theCacheFolderIsOwnerOnlyAndAnArchiveOthersMayWriteIsNotUsed() throws Exception {
        Path cache = tmp.resolve("cache");
        Path archive = recordOne(cache);
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(cache))).isEqualTo("rwx------");
        assertThat(Files.getPosixFilePermissions(archive).toString()).doesNotContain("WRITE");

        Files.setPosixFilePermissions(archive, PosixFilePermissions.fromString("rw-rw-rw-"));
        assertThat(runCaller(cache)).contains("OK archive=false");

        Files.setPosixFilePermissions(cache, PosixFilePermissions.fromString("rwxrwxrwx"));
        runCaller(cache);
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(cache)))
                .as("a folder of ours that others may write is made owner-only again").isEqualTo("rwx------");
    }

    @Test
    void anArchiveOwnedByAnotherUserIsNotUsed() throws Exception {
        UserPrincipal nobody;
        try {
            nobody = shared.getFileSystem().getUserPrincipalLookupService().lookupPrincipalByName("nobody");
        } catch (IOException e) {
            nobody = null;
        }
        assumeTrue(nobody != null && "root".equals(System.getProperty("user.name")),
                "giving a file away takes root and a user 'nobody'");
        Path cache = tmp.resolve("cache");
        Path archive = recordOne(cache);
        Files.setOwner(archive, nobody);
        assertThat(runCaller(cache)).contains("OK archive=false");
    }
}
