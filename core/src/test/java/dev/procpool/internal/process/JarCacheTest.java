package dev.procpool.internal.process;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.jar.JarFile;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

@Timeout(60)
class JarCacheTest {
    @TempDir
    Path directory;
    private Path cache;

    @BeforeEach
    void pointTheCacheHere() {
        cache = directory.resolve("cache");
        System.setProperty("procpool.jars.dir", cache.toString());
    }

    @AfterEach
    void restore() {
        System.clearProperty("procpool.jars.dir");
        System.clearProperty("procpool.jars.maxBytes");
    }

    @Test
    void aNestedJarIsExtractedOnceUnderItsHashIntoAnOwnerOnlyFolder() throws Exception {
        Path outer = fatJar(directory.resolve("app.jar"));
        Path extracted = JarCache.extract(outer, "BOOT-INF/lib/inner.jar");
        assertThat(extracted.getParent()).isEqualTo(cache);
        assertThat(extracted.getFileName().toString()).isEqualTo(JarCache.hashOf(extracted) + ".jar");
        assertThat(Files.readAllBytes(extracted)).isEqualTo(innerJar());
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(cache))).isEqualTo("rwx------");
        assertThat(JarCache.extract(outer, "BOOT-INF/lib/inner.jar")).isEqualTo(extracted);
    }

    @Test
    void aClassFolderBecomesAJarOfItsFiles() throws Exception {
        Path outer = fatJar(directory.resolve("app.jar"));
        Path extracted = JarCache.extract(outer, "BOOT-INF/classes/");
        try (JarFile jar = new JarFile(extracted.toFile())) {
            assertThat(jar.getEntry("app/Main.class")).isNotNull();
            assertThat(jar.getEntry("app/greeting.txt")).isNotNull();
        }
        // same content, same name: a second fat jar with the same classes shares the file
        Path copy = Files.copy(outer, directory.resolve("copy.jar"));
        assertThat(JarCache.extract(copy, "BOOT-INF/classes/")).isEqualTo(extracted);
    }

    @Test
    void jvmsFillingTheCacheAtOnceAllGetTheSameCompleteFile() throws Exception {
        List<Path> outers = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
            outers.add(fatJar(directory.resolve("app" + i + ".jar"))); // separate jars: no memo shared
        }
        ExecutorService threads = Executors.newFixedThreadPool(8);
        try {
            List<Future<Path>> results = new ArrayList<>();
            for (Path outer : outers) {
                results.add(threads.submit((Callable<Path>) () -> JarCache.extract(outer, "BOOT-INF/lib/inner.jar")));
            }
            Set<Path> files = new HashSet<>();
            for (Future<Path> result : results) {
                files.add(result.get());
            }
            assertThat(files).hasSize(1);
            assertThat(Files.readAllBytes(files.iterator().next())).isEqualTo(innerJar());
            try (var left = Files.list(cache)) {
                assertThat(left.map(p -> p.getFileName().toString())).as("no temporary file left").hasSize(1);
            }
        } finally {
            threads.shutdownNow();
        }
    }

    @Test
    void aFolderOthersCanWriteToIsRefused() throws Exception {
        Files.createDirectories(cache);
        Files.setPosixFilePermissions(cache, PosixFilePermissions.fromString("rwxrwxrwx"));
        assertThatThrownBy(() -> JarCache.extract(fatJar(directory.resolve("app.jar")), "BOOT-INF/lib/inner.jar"))
                .isInstanceOf(IOException.class).hasMessageContaining("others can write");
    }

    @Test
    void pruningDropsFilesUnusedForAnHourOldestFirstWhileAboveTheCap() throws Exception {
        JarCache.ownedDirectory(cache);
        long hour = 3_600_000;
        long now = System.currentTimeMillis();
        Path oldest = old(cache.resolve("a".repeat(64) + ".jar"), now - 5 * hour);
        Path older = old(cache.resolve("b".repeat(64) + ".jar"), now - 3 * hour);
        Path recent = old(cache.resolve("c".repeat(64) + ".jar"), now - 60_000);
        Path staleTemp = old(cache.resolve("extract-1.tmp"), now - 2 * hour);
        System.setProperty("procpool.jars.maxBytes", "2500");
        JarCache.prune(cache);
        assertThat(oldest).doesNotExist();
        assertThat(older).exists();
        assertThat(recent).exists();
        assertThat(staleTemp).doesNotExist();
    }

    @Test
    void nestedUrlsOfBothSpringBootLoadersAreFoundAsFiles() throws Exception {
        Path outer = fatJar(directory.resolve("my app.jar"));
        String expected = JarCache.extract(outer, "BOOT-INF/lib/inner.jar").toString();
        String path = outer.toUri().getRawPath();
        assertThat(WorkerClassPath.realFile("jar:nested:" + path + "/!BOOT-INF/lib/inner.jar!/")).isEqualTo(expected);
        assertThat(WorkerClassPath.realFile(new URL("jar:file:" + path + "!/BOOT-INF/lib/inner.jar!/"))).isEqualTo(expected);
        assertThat(WorkerClassPath.realFile(new URL("jar:file:" + path + "!/BOOT-INF/classes!/"))).endsWith(".jar");
        assertThat(WorkerClassPath.realFile(outer.toUri().toURL())).isEqualTo(outer.toString());
        assertThat(WorkerClassPath.realFile(new URL("http://example.com/x.jar"))).isNull();
    }

    private static Path old(Path file, long modified) throws IOException {
        Files.write(file, new byte[1000]);
        Files.setLastModifiedTime(file, FileTime.fromMillis(modified));
        return file;
    }

    private static byte[] innerJar() throws IOException {
        return zip(Map.of("lib/Thing.class", "not really a class"));
    }

    private static Path fatJar(Path file) throws IOException {
        try (OutputStream out = Files.newOutputStream(file); ZipOutputStream zip = new ZipOutputStream(out)) {
            put(zip, "BOOT-INF/classes/app/Main.class", "main".getBytes());
            put(zip, "BOOT-INF/classes/app/greeting.txt", "hello".getBytes());
            ZipEntry stored = new ZipEntry("BOOT-INF/lib/inner.jar");
            byte[] inner = innerJar();
            stored.setMethod(ZipEntry.STORED);
            stored.setSize(inner.length);
            java.util.zip.CRC32 crc = new java.util.zip.CRC32();
            crc.update(inner);
            stored.setCrc(crc.getValue());
            zip.putNextEntry(stored);
            zip.write(inner);
            zip.closeEntry();
        }
        return file;
    }

    private static void put(ZipOutputStream zip, String name, byte[] content) throws IOException {
        zip.putNextEntry(new ZipEntry(name));
        zip.write(content);
        zip.closeEntry();
    }

    private static byte[] zip(Map<String, String> entries) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ZipOutputStream zip = new ZipOutputStream(bytes)) {
            for (Map.Entry<String, String> e : entries.entrySet()) {
                ZipEntry entry = new ZipEntry(e.getKey());
                entry.setTime(0);
                zip.putNextEntry(entry);
                zip.write(e.getValue().getBytes());
                zip.closeEntry();
            }
        }
        return bytes.toByteArray();
    }
}
