package dev.procpool.cluster;

import java.io.IOException;
import java.lang.instrument.Instrumentation;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.jar.JarFile;

/**
 * Runs in a member's worker JVMs before {@code WorkerMain}: appends the jars a client shipped to the
 * system class path, so the worker sees them exactly as if they were on {@code -cp}. The agent's
 * argument is a file with one jar path per line. (A core option for extra worker class path entries
 * would make this unnecessary; ProcessPool's builder has none, and a {@code -cp} in its JVM options
 * is overridden by the one it adds itself.)
 */
public final class ClassPathAgent {
    private ClassPathAgent() {}

    public static void premain(String arguments, Instrumentation instrumentation) throws IOException {
        for (String line : Files.readAllLines(Path.of(arguments), StandardCharsets.UTF_8)) {
            if (!line.isBlank()) {
                instrumentation.appendToSystemClassLoaderSearch(new JarFile(line.strip()));
            }
        }
    }
}
