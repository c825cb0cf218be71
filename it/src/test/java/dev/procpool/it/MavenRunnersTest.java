package dev.procpool.it;

import static org.assertj.core.api.Assertions.assertThat;

import dev.procpool.anywhere.TestApps;
import dev.procpool.testing.NoProcessLeft;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Maven runs the application in its own JVM, in class realms of its own, with only plexus-classworlds on
 * {@code java.class.path}: {@code mvn exec:java}, and Surefire with {@code forkCount=0}. A tiny project
 * is generated here, depending on procpool's jars as built in this reactor (system scope: nothing is
 * installed into the local repository), and run with {@code mvn}.
 */
@NoProcessLeft
@Timeout(300)
class MavenRunnersTest {
    private static final String TEST = """
            package app;

            import static org.junit.jupiter.api.Assertions.assertEquals;

            import java.nio.file.Files;
            import java.nio.file.Path;
            import org.junit.jupiter.api.Test;

            class AppTest {
                @Test
                void poolRunsInTheBuildsJvm() throws Exception {
                    Files.write(Path.of("target", "out.txt"), Main.run("PROCESSES"));
                    assertEquals("mode=PROCESSES", Main.run("PROCESSES").get(0));
                }
            }
            """;

    @TempDir
    Path directory;

    @Test
    void mvnExecJava() throws Exception {
        Path project = project();
        TestApps.Run run = mvn(project, "compile", "exec:java");
        assertThat(run.exitCode()).as(run.output()).isZero();
        assertThat(run.lines()).as(run.output()).containsAll(ItApps.EXPECTED);
    }

    @Test
    void surefireWithForkCountZero() throws Exception {
        Path project = project();
        TestApps.Run run = mvn(project, "test", "-DforkCount=0");
        assertThat(run.exitCode()).as(run.output()).isZero();
        assertThat(Files.readAllLines(project.resolve("target/out.txt"))).as(run.output()).containsAll(ItApps.EXPECTED);
    }

    private TestApps.Run mvn(Path project, String... goals) throws Exception {
        String home = System.getProperty("procpool.it.mavenHome");
        Path mvn = home == null ? Path.of("mvn") : Path.of(home, "bin", "mvn");
        List<String> command = new ArrayList<>(List.of(mvn.toString(), "-B", "-q", "-Dstyle.color=never"));
        command.addAll(List.of(goals));
        ProcessBuilder builder = new ProcessBuilder(command).directory(project.toFile());
        builder.environment().put("MAVEN_OPTS", "-Dprocpool.jars.dir=" + directory.resolve("jars")
                + " -Dprocpool.cds.dir=" + directory.resolve("cds"));
        return TestApps.run(builder, 240);
    }

    private Path project() throws Exception {
        Path project = directory.resolve("app");
        Path main = project.resolve("src/main/java/app/Main.java");
        Files.createDirectories(main.getParent());
        Files.writeString(main, ItApps.MAIN);
        for (Map.Entry<String, String> resource : ItApps.RESOURCES.entrySet()) {
            Path file = project.resolve("src/main/resources").resolve(resource.getKey());
            Files.createDirectories(file.getParent());
            Files.writeString(file, resource.getValue());
        }
        Path test = project.resolve("src/test/java/app/AppTest.java");
        Files.createDirectories(test.getParent());
        Files.writeString(test, TEST);
        StringBuilder dependencies = new StringBuilder();
        for (Map.Entry<String, Path> jar : ItApps.procpoolJars(directory.resolve("lib")).entrySet()) {
            dependencies.append("""
                        <dependency>
                          <groupId>procpool.it</groupId>
                          <artifactId>%s</artifactId>
                          <version>1</version>
                          <scope>system</scope>
                          <systemPath>%s</systemPath>
                        </dependency>
                    """.formatted(jar.getKey(), jar.getValue().toAbsolutePath()));
        }
        Files.writeString(project.resolve("pom.xml"), """
                <project xmlns="http://maven.apache.org/POM/4.0.0">
                  <modelVersion>4.0.0</modelVersion>
                  <groupId>procpool.it</groupId>
                  <artifactId>app</artifactId>
                  <version>1</version>
                  <properties>
                    <maven.compiler.release>17</maven.compiler.release>
                    <project.build.sourceEncoding>UTF-8</project.build.sourceEncoding>
                  </properties>
                  <dependencies>
                %s
                    <dependency>
                      <groupId>org.junit.jupiter</groupId>
                      <artifactId>junit-jupiter</artifactId>
                      <version>5.14.1</version>
                      <scope>test</scope>
                    </dependency>
                  </dependencies>
                  <build>
                    <plugins>
                      <plugin>
                        <artifactId>maven-resources-plugin</artifactId>
                        <version>3.3.1</version>
                      </plugin>
                      <plugin>
                        <artifactId>maven-compiler-plugin</artifactId>
                        <version>3.13.0</version>
                      </plugin>
                      <plugin>
                        <artifactId>maven-surefire-plugin</artifactId>
                        <version>3.5.2</version>
                      </plugin>
                      <plugin>
                        <groupId>org.codehaus.mojo</groupId>
                        <artifactId>exec-maven-plugin</artifactId>
                        <version>3.5.0</version>
                        <configuration>
                          <mainClass>app.Main</mainClass>
                          <!-- system-scoped jars (procpool as built here) are in the compile scope only -->
                          <classpathScope>compile</classpathScope>
                        </configuration>
                      </plugin>
                    </plugins>
                  </build>
                </project>
                """.formatted(dependencies));
        return project;
    }
}
