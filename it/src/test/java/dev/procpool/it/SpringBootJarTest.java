package dev.procpool.it;

import static org.assertj.core.api.Assertions.assertThat;

import dev.procpool.anywhere.TestApps;
import dev.procpool.testing.NoProcessLeft;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.springframework.boot.loader.tools.Library;
import org.springframework.boot.loader.tools.LibraryScope;
import org.springframework.boot.loader.tools.LoaderImplementation;
import org.springframework.boot.loader.tools.Repackager;

/**
 * A Spring Boot executable jar ({@code java -jar app.jar}), built here with Spring Boot's own
 * {@link Repackager}: the app's classes in {@code BOOT-INF/classes}, procpool and its dependencies as
 * nested jars in {@code BOOT-INF/lib}. Both loaders: the default one of Boot 3.2+ ({@code jar:nested:}
 * URLs) and the classic one of older versions ({@code jar:file:...!/BOOT-INF/lib/x.jar!/}).
 */
@NoProcessLeft
@Timeout(180)
class SpringBootJarTest {
    @TempDir
    Path directory;

    @ParameterizedTest
    @EnumSource(LoaderImplementation.class)
    void anExecutableJarRunsItsTasksOnWorkerJvms(LoaderImplementation loader) throws Exception {
        Path cache = directory.resolve("cache");
        Path app = bootJar(loader);
        TestApps.Run run = TestApps.run(new ProcessBuilder(ItApps.java().toString(), "-Dprocpool.jars.dir=" + cache,
                "-Dprocpool.cds.dir=" + directory.resolve("cds"), "-jar", app.toString()), 120);
        assertThat(run.exitCode()).as(run.output()).isZero();
        assertThat(run.lines()).as(run.output()).containsAll(ItApps.EXPECTED);
        try (Stream<Path> cached = Files.list(cache)) {
            assertThat(cached.map(p -> p.getFileName().toString()))
                    .as("the nested jars were extracted, content-addressed")
                    .isNotEmpty().allMatch(name -> name.matches("[0-9a-f]{64}\\.jar"));
        }
        assertThat(Files.getPosixFilePermissions(cache)).isEqualTo(java.nio.file.attribute.PosixFilePermissions.fromString("rwx------"));

        // a second run finds them in the cache: nothing new
        long before = Files.list(cache).count();
        TestApps.Run again = TestApps.run(new ProcessBuilder(ItApps.java().toString(), "-Dprocpool.jars.dir=" + cache,
                "-Dprocpool.cds.dir=" + directory.resolve("cds"), "-jar", app.toString()), 120);
        assertThat(again.lines()).as(again.output()).containsAll(ItApps.EXPECTED);
        assertThat(Files.list(cache).count()).isEqualTo(before);
    }

    private Path bootJar(LoaderImplementation loader) throws Exception {
        Path classes = TestApps.compile(directory.resolve("app"), Map.of("app/Main.java", ItApps.MAIN), ItApps.RESOURCES);
        Path plain = TestApps.jar(classes, directory.resolve("app-plain.jar"));
        Map<String, Path> libraries = ItApps.procpoolJars(directory.resolve("lib"));
        Path app = directory.resolve("app-" + loader.name().toLowerCase() + ".jar");
        Repackager repackager = new Repackager(plain.toFile());
        repackager.setMainClass("app.Main");
        repackager.setLoaderImplementation(loader);
        repackager.repackage(app.toFile(), callback -> {
            for (Path jar : libraries.values()) {
                callback.library(new Library(jar.toFile(), LibraryScope.COMPILE));
            }
        });
        return app;
    }
}
