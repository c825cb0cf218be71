package dev.procpool.internal.process;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
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
        assertThat(ClassDataArchive.find(java, jar.toString()).exists()).isTrue();

        Files.setLastModifiedTime(jar, FileTime.fromMillis(Files.getLastModifiedTime(jar).toMillis() + 5_000));
        ClassDataArchive changed = ClassDataArchive.find(java, jar.toString());
        assertThat(changed.exists()).isFalse();
        assertThat(changed.useOptions()).noneMatch(o -> o.contains(before.getFileName().toString()));
        Files.deleteIfExists(before);
    }

    @Test
    void onlyAWorkerThatExitedNormallyPublishesItsRecording() throws Exception {
        Path jar = Files.writeString(dir.resolve("b.jar"), "jar-" + System.nanoTime());
        ClassDataArchive archive = ClassDataArchive.find(java, jar.toString());
        Path crashed = archive.recordingFile();
        Files.writeString(crashed, "partial");
        archive.recorded(crashed, 137);
        assertThat(archive.exists()).isFalse();
        assertThat(crashed).doesNotExist();

        Path published = recordAndPublish(archive);
        assertThat(archive.exists()).isTrue();
        Files.deleteIfExists(published);
    }

    private static Path recordAndPublish(ClassDataArchive archive) throws Exception {
        Path recording = archive.recordingFile();
        Files.writeString(recording, "archive");
        archive.recorded(recording, 0);
        String option = archive.useOptions().get(0);
        return Path.of(option.substring(option.indexOf('=') + 1));
    }
}
