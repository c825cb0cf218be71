package dev.procpool.anywhere;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.File;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.jar.JarOutputStream;
import java.util.stream.Stream;
import java.util.zip.ZipEntry;
import javax.tools.JavaCompiler;
import javax.tools.ToolProvider;

/** Small applications made at test time: compiled against this JVM's class path, packed, launched. */
public final class TestApps {
    private TestApps() {}

    /** Compiles the sources (path to text) into {@code <directory>/classes} and copies the resources there. */
    public static Path compile(Path directory, Map<String, String> sources, Map<String, String> resources)
            throws IOException {
        Path src = directory.resolve("src");
        Path classes = directory.resolve("classes");
        Files.createDirectories(classes);
        List<String> args = new ArrayList<>(List.of("-d", classes.toString(), "-cp", System.getProperty("java.class.path")));
        for (Map.Entry<String, String> source : sources.entrySet()) {
            Path file = src.resolve(source.getKey());
            Files.createDirectories(file.getParent());
            Files.writeString(file, source.getValue());
            args.add(file.toString());
        }
        JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
        assertThat(javac.run(null, null, null, args.toArray(String[]::new))).as("compiles").isZero();
        for (Map.Entry<String, String> resource : resources.entrySet()) {
            Path file = classes.resolve(resource.getKey());
            Files.createDirectories(file.getParent());
            Files.writeString(file, resource.getValue());
        }
        return classes;
    }

    /** Packs a class folder into a jar. */
    public static Path jar(Path classes, Path jar) throws IOException {
        try (OutputStream file = Files.newOutputStream(jar); JarOutputStream out = new JarOutputStream(file);
                Stream<Path> walk = Files.walk(classes)) {
            for (Path path : walk.filter(Files::isRegularFile).sorted().toList()) {
                out.putNextEntry(new ZipEntry(classes.relativize(path).toString().replace(File.separatorChar, '/')));
                Files.copy(path, out);
                out.closeEntry();
            }
        }
        return jar;
    }

    /** What a finished process printed (stdout and stderr together) and its exit code. */
    public record Run(int exitCode, String output) {
        /** The lines, without terminal colour codes (Maven writes some even in batch mode). */
        public List<String> lines() {
            return output.replaceAll("\u001B\\[[;\\d]*m", "").lines().toList();
        }
    }

    /** Runs a command to its end (bounded), killing its whole tree if it overruns. */
    public static Run run(ProcessBuilder command, long timeoutSeconds) throws Exception {
        command.redirectErrorStream(true);
        command.environment().remove("CLASSPATH"); // Surefire passes the tests' class path this way
        Process process = command.start();
        process.getOutputStream().close();
        try {
            byte[][] output = new byte[1][];
            Thread reader = new Thread(() -> {
                try {
                    output[0] = process.getInputStream().readAllBytes();
                } catch (IOException e) {
                    output[0] = ("(reading failed: " + e + ")").getBytes(StandardCharsets.UTF_8);
                }
            });
            reader.start();
            boolean ended = process.waitFor(timeoutSeconds, TimeUnit.SECONDS);
            if (!ended) {
                process.toHandle().descendants().forEach(ProcessHandle::destroyForcibly);
                process.destroyForcibly();
            }
            reader.join(10_000);
            String text = output[0] == null ? "" : new String(output[0], StandardCharsets.UTF_8);
            assertThat(ended).as("ended within %d s; output:%n%s", timeoutSeconds, text).isTrue();
            return new Run(process.exitValue(), text);
        } finally {
            process.toHandle().descendants().forEach(ProcessHandle::destroyForcibly);
            process.destroyForcibly();
        }
    }
}
