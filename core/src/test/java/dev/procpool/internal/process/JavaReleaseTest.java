package dev.procpool.internal.process;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class JavaReleaseTest {
    @TempDir
    Path dir;

    /** A JDK home with a {@code bin/java} that is never run, and a {@code release} file saying {@code javaVersion}. */
    static Path fakeJdk(Path home, String javaVersion) throws Exception {
        Path java = Files.createDirectories(home.resolve("bin")).resolve("java");
        Files.writeString(java, "#!/bin/sh\nexit 1\n");
        if (javaVersion != null) {
            Files.writeString(home.resolve("release"), "IMPLEMENTOR=\"Someone\"\nJAVA_VERSION=\"" + javaVersion + "\"\nOS_NAME=\"Linux\"\n");
        }
        return java;
    }

    @Test
    void theVersionComesFromTheReleaseFileOfTheWorkersJdkNotFromThisJvm() throws Exception {
        assertThat(JavaRelease.featureVersion(fakeJdk(dir.resolve("a"), "25.0.3"))).isEqualTo(25);
        assertThat(JavaRelease.featureVersion(fakeJdk(dir.resolve("b"), "26"))).isEqualTo(26);
        assertThat(JavaRelease.featureVersion(fakeJdk(dir.resolve("c"), "1.8.0_392"))).isEqualTo(8);
        assertThat(JavaRelease.featureVersion(WorkerCommand.defaultJava())).isEqualTo(Runtime.version().feature());
    }

    @Test
    void aLinkToTheJavaExecutableIsFollowedToItsJdk() throws Exception {
        Path java = fakeJdk(dir.resolve("jdk"), "25.0.1");
        Path link = Files.createSymbolicLink(dir.resolve("java"), java);
        assertThat(JavaRelease.featureVersion(link)).isEqualTo(25);
    }

    @Test
    void unknownIsZero() throws Exception {
        assertThat(JavaRelease.featureVersion(fakeJdk(dir.resolve("none"), null))).isZero();
        assertThat(JavaRelease.featureVersion(dir.resolve("no-such-java"))).isZero();
        Path garbled = fakeJdk(dir.resolve("garbled"), null);
        Files.writeString(dir.resolve("garbled").resolve("release"), "JAVA_VERSION=\"soon\"\n");
        assertThat(JavaRelease.featureVersion(garbled)).isZero();
    }
}
