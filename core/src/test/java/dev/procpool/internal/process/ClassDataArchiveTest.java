package dev.procpool.internal.process;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ClassDataArchiveTest {
    @TempDir
    Path dir;

    private final Path java = WorkerCommand.defaultJava();

    @org.junit.jupiter.api.BeforeEach
    void keepArchivesInTheTestFolder() {
        System.setProperty("procpool.cds.dir", dir.resolve("cache").toString());
    }

    @org.junit.jupiter.api.AfterEach
    void restore() {
        System.clearProperty("procpool.cds.dir");
    }

    @Test
    void aClassFolderOnTheClassPathMeansNoArchive() throws Exception {
        Path jar = Files.writeString(dir.resolve("a.jar"), "jar");
        Path folder = Files.createDirectory(dir.resolve("classes"));
        assertThat(ClassDataArchive.find(java, jar.toString())).isNotNull();
        assertThat(ClassDataArchive.find(java, jar + File.pathSeparator + folder)).isNull();
    }

    @Test
    void aChangedJarGetsANewArchive() throws Exception {
        Path jar = Files.writeString(dir.resolve("a.jar"), "jar");
        Path before = recordAndPublish(ClassDataArchive.find(java, jar.toString()));
        assertThat(ClassDataArchive.find(java, jar.toString()).use()).isNotNull();

        Files.setLastModifiedTime(jar, FileTime.fromMillis(Files.getLastModifiedTime(jar).toMillis() + 5_000));
        ClassDataArchive changed = ClassDataArchive.find(java, jar.toString());
        assertThat(changed.use()).isNull();
        assertThat(changed.path()).isNotEqualTo(before);
        Files.deleteIfExists(before);
    }

    @Test
    void anotherSizeOrOrderOfTheJarsGetsAnotherArchiveAndTheSameClassPathTheSameOne() throws Exception {
        Path a = Files.writeString(dir.resolve("a.jar"), "jar");
        Path b = Files.writeString(dir.resolve("b.jar"), "jar");
        FileTime time = Files.getLastModifiedTime(a);
        Files.setLastModifiedTime(b, time);
        Path ab = ClassDataArchive.find(java, a + File.pathSeparator + b).path();
        assertThat(ClassDataArchive.find(java, a + File.pathSeparator + b).path()).isEqualTo(ab);
        assertThat(ClassDataArchive.find(java, b + File.pathSeparator + a).path()).isNotEqualTo(ab);
        Files.writeString(a, "jar!");
        Files.setLastModifiedTime(a, time); // same time, another size
        assertThat(ClassDataArchive.find(java, a + File.pathSeparator + b).path()).isNotEqualTo(ab);
        assertThat(ab.getFileName().toString()).matches("worker-[0-9a-f]{32}\\.jsa");
    }

    @Test
    void onlyAWorkerThatExitedNormallyPublishesItsRecording() throws Exception {
        Path jar = Files.writeString(dir.resolve("b.jar"), "jar-" + System.nanoTime());
        ClassDataArchive archive = ClassDataArchive.find(java, jar.toString());
        Path crashed = archive.recordingFile();
        Files.writeString(crashed, "partial");
        archive.recorded(crashed, 137);
        assertThat(archive.use()).isNull();
        assertThat(crashed).doesNotExist();

        Path published = recordAndPublish(archive);
        assertThat(archive.use()).isNotNull();
        Files.deleteIfExists(published);
    }

    @Test
    void pruningKeepsTheArchivesUsedLastWithinTheCapAndDropsAbandonedRecordings() throws Exception {
        Path cache = Files.createDirectories(dir.resolve("prune"));
        long now = System.currentTimeMillis();
        List<Path> archives = new ArrayList<>();
        for (int i = 0; i < 5; i++) { // worker-0 used longest ago, worker-4 last
            Path archive = Files.write(cache.resolve("worker-" + i + ".jsa"), new byte[1000]);
            Files.setLastModifiedTime(archive, FileTime.fromMillis(now - (5 - i) * 60_000L));
            archives.add(archive);
        }
        Path abandoned = Files.writeString(cache.resolve("worker-9.jsa.1-2.tmp"), "partial");
        Files.setLastModifiedTime(abandoned, FileTime.fromMillis(now - ClassDataArchive.STALE_RECORDING.toMillis() - 1));
        Path recording = Files.writeString(cache.resolve("worker-8.jsa.3-4.tmp"), "in progress elsewhere");

        ClassDataArchive.prune(cache, 3_000, archives.get(0));

        assertThat(archives.get(0)).as("the one just published stays").exists();
        assertThat(archives.get(4)).exists();
        assertThat(archives.get(3)).exists();
        assertThat(archives.get(2)).doesNotExist();
        assertThat(archives.get(1)).doesNotExist();
        assertThat(abandoned).doesNotExist();
        assertThat(recording).as("a young recording belongs to a JVM still running").exists();
    }

    @Test
    void thePublishedArchiveIsReadableByItsOwnerOnly() throws Exception {
        Path jar = Files.writeString(dir.resolve("c.jar"), "jar-" + System.nanoTime());
        Path published = recordAndPublish(ClassDataArchive.find(java, jar.toString()));
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(published))).isEqualTo("r--------");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(published.getParent())))
                .isEqualTo("rwx------");
    }

    @Test
    void aSymbolicLinkOrAFileOthersMayWriteIsNotUsed() throws Exception {
        Path jar = Files.writeString(dir.resolve("d.jar"), "jar-" + System.nanoTime());
        ClassDataArchive archive = ClassDataArchive.find(java, jar.toString());
        Path elsewhere = Files.writeString(dir.resolve("planted.jsa"), "not ours to trust");
        Files.createSymbolicLink(archive.path(), elsewhere);
        assertThat(archive.use()).isNull();
        Files.delete(archive.path());

        Files.writeString(archive.path(), "archive");
        Files.setPosixFilePermissions(archive.path(), PosixFilePermissions.fromString("rw--w----"));
        assertThat(archive.use()).isNull();
        Files.setPosixFilePermissions(archive.path(), PosixFilePermissions.fromString("rw-r--r--"));
        assertThat(archive.use()).isNotNull();
    }

    @Test
    void poolsRecordingAtOnceLeaveOneCompleteArchiveAndNoTemporaryFile() throws Exception {
        Path jar = Files.writeString(dir.resolve("e.jar"), "jar-" + System.nanoTime());
        int writers = 4;
        byte[][] contents = new byte[writers][];
        for (int i = 0; i < writers; i++) {
            contents[i] = new byte[256 * 1024];
            Arrays.fill(contents[i], (byte) (i + 1));
        }
        for (int round = 0; round < 20; round++) {
            CyclicBarrier start = new CyclicBarrier(writers);
            List<CompletableFuture<Void>> all = new ArrayList<>();
            for (int i = 0; i < writers; i++) {
                byte[] content = contents[i];
                all.add(CompletableFuture.runAsync(() -> {
                    try {
                        ClassDataArchive archive = ClassDataArchive.find(java, jar.toString()); // a pool of its own
                        Path recording = archive.recordingFile();
                        Files.write(recording, content);
                        start.await();
                        archive.recorded(recording, 0);
                    } catch (Exception e) {
                        throw new IllegalStateException(e);
                    }
                }));
            }
            CompletableFuture.allOf(all.toArray(CompletableFuture[]::new)).get(30, TimeUnit.SECONDS);
            Path published = ClassDataArchive.find(java, jar.toString()).path();
            byte[] bytes = Files.readAllBytes(published);
            assertThat(bytes).hasSize(256 * 1024);
            assertThat(bytes[0]).isBetween((byte) 1, (byte) writers);
            assertThat(bytes).isEqualTo(contents[bytes[0] - 1]);
            try (Stream<Path> files = Files.list(published.getParent())) {
                assertThat(files.map(Path::toString)).noneMatch(f -> f.endsWith(".tmp"));
            }
        }
    }

    @Test
    void workersOnJdk25GetAnAotCacheAndOnJdk17TheClassDataArchiveAsBefore() throws Exception {
        Path jar = Files.writeString(dir.resolve("f.jar"), "jar");
        ClassDataArchive aot = ClassDataArchive.find(JavaReleaseTest.fakeJdk(dir.resolve("jdk25"), "25.0.3"), jar.toString());
        assertThat(aot.format()).isEqualTo(ArchiveFormat.AOT_CACHE);
        assertThat(aot.path().getFileName().toString()).endsWith(".aot");
        assertThat(aot.recordOptions(aot.recordingFile())).anyMatch(o -> o.startsWith("-XX:AOTCacheOutput="));

        ClassDataArchive jsa = ClassDataArchive.find(java, jar.toString());
        assertThat(jsa.format()).isEqualTo(ArchiveFormat.DYNAMIC_CDS);
        assertThat(jsa.path().getFileName().toString()).endsWith(".jsa");
        assertThat(ClassDataArchive.find(java, jar.toString(), List.of("-Xmx64m")).path())
                .as("the class-data archive's name is what it was: start options are not part of it").isEqualTo(jsa.path());
        assertThat(ClassDataArchive.find(JavaReleaseTest.fakeJdk(dir.resolve("jdk24"), "24.0.2"), jar.toString()).format())
                .as("JDK 24 has no one-step recording").isEqualTo(ArchiveFormat.DYNAMIC_CDS);
        assertThat(ClassDataArchive.find(JavaReleaseTest.fakeJdk(dir.resolve("unknown"), null), jar.toString()).format())
                .isEqualTo(ArchiveFormat.DYNAMIC_CDS);
    }

    @Test
    void theAotCacheIsNamedByTheJarsContentsAndTheStartOptions() throws Exception {
        Path java25 = JavaReleaseTest.fakeJdk(dir.resolve("jdk25"), "25.0.3");
        Path jar = Files.writeString(dir.resolve("g.jar"), "contents 1");
        FileTime time = Files.getLastModifiedTime(jar);
        Path first = ClassDataArchive.find(java25, jar.toString()).path();
        Path firstCds = ClassDataArchive.find(java, jar.toString()).path();

        Files.writeString(jar, "contents 2"); // same size
        Files.setLastModifiedTime(jar, time); // same time
        assertThat(ClassDataArchive.find(java25, jar.toString()).path()).as("new contents, new cache").isNotEqualTo(first);
        assertThat(ClassDataArchive.find(java, jar.toString()).path())
                .as("what the class-data archive cannot see (the JVM checks that one itself)").isEqualTo(firstCds);

        Files.writeString(jar, "contents 1");
        Files.setLastModifiedTime(jar, FileTime.fromMillis(time.toMillis() + 60_000));
        assertThat(ClassDataArchive.find(java25, jar.toString()).path()).as("a touched jar keeps its cache").isEqualTo(first);

        assertThat(ClassDataArchive.find(java25, jar.toString(), List.of("-XX:+UseSerialGC")).path())
                .as("a JVM started with other options refuses a cache made with these").isNotEqualTo(first);
    }

    @Test
    void pruningCountsAotCachesAndDropsAbandonedAotRecordings() throws Exception {
        Path cache = Files.createDirectories(dir.resolve("prune-aot"));
        long now = System.currentTimeMillis();
        Path old = Files.write(cache.resolve("worker-1.aot"), new byte[2000]);
        Files.setLastModifiedTime(old, FileTime.fromMillis(now - 120_000));
        Path recent = Files.write(cache.resolve("worker-2.aot"), new byte[2000]);
        Path abandoned = Files.writeString(cache.resolve("worker-3.aot.1-2.tmp.config"), "");
        Files.setLastModifiedTime(abandoned, FileTime.fromMillis(now - ClassDataArchive.STALE_RECORDING.toMillis() - 1));

        ClassDataArchive.prune(cache, 3_000, recent);

        assertThat(recent).exists();
        assertThat(old).doesNotExist();
        assertThat(abandoned).doesNotExist();
    }

    @Test
    void aPoolWhoseJvmOptionsChooseClassSharingThemselvesGetsNoArchive() throws Exception {
        Path jar = Files.writeString(dir.resolve("h.jar"), "jar");
        Path java25 = JavaReleaseTest.fakeJdk(dir.resolve("jdk25"), "25.0.3");
        for (Path workersJava : List.of(java, java25)) {
            assertThat(ClassDataArchive.forWorkers(settings(workersJava, jar, "-Xmx64m"))).isNotNull();
            for (String option : List.of("-Xshare:off", "-XX:SharedArchiveFile=/x.jsa", "-XX:AOTCache=/x.aot",
                    "-XX:AOTMode=off", "-XX:ArchiveClassesAtExit=/y.jsa", "-XX:+AutoCreateSharedArchive")) {
                assertThat(ClassDataArchive.forWorkers(settings(workersJava, jar, option))).as(option).isNull();
            }
        }
    }

    private static WorkerSettings settings(Path java, Path jar, String option) {
        return new WorkerSettings(2, java, List.of(jar), List.of(option), Map.of(), null, null, 0, null, null, 0, null, 0, null);
    }

    private static Path recordAndPublish(ClassDataArchive archive) throws Exception {
        Path recording = archive.recordingFile();
        Files.writeString(recording, "archive");
        archive.recorded(recording, 0);
        return archive.path();
    }
}
