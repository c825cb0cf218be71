package dev.procpool.internal.process;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The feature version (17, 21, 25...) of the JDK a worker's {@code java} belongs to, read from the
 * {@code release} file of its home ({@code JAVA_VERSION="25.0.3"}), without starting it: starting a JVM
 * to ask would cost as much as the start-up the answer is meant to speed up. The worker's java, not the
 * caller's: a pool may start workers on another JDK ({@code Builder.javaExecutable}). Unknown (a
 * wrapper script, a JDK image without {@code release}) is 0, and callers then do what works on every JDK.
 */
final class JavaRelease {
    private static final Pattern JAVA_VERSION = Pattern.compile("(?m)^JAVA_VERSION=\"?(?:1\\.)?(\\d+)");
    /** Real path of a java executable to its feature version; a JDK does not change under a running JVM. */
    private static final Map<Path, Integer> KNOWN = new ConcurrentHashMap<>();

    private JavaRelease() {}

    /** The JDK feature version of this java executable, or 0 when it cannot be told. */
    static int featureVersion(Path javaExecutable) {
        Path real;
        try {
            real = javaExecutable.toRealPath(); // /usr/bin/java is a chain of links into the JDK
        } catch (IOException | RuntimeException e) {
            return 0;
        }
        return KNOWN.computeIfAbsent(real, JavaRelease::read);
    }

    private static int read(Path realJava) {
        Path bin = realJava.getParent();
        Path home = bin == null ? null : bin.getParent();
        if (home == null) {
            return 0;
        }
        try {
            Matcher version = JAVA_VERSION.matcher(Files.readString(home.resolve("release"), StandardCharsets.UTF_8));
            return version.find() ? Integer.parseInt(version.group(1)) : 0;
        } catch (IOException | RuntimeException e) {
            return 0;
        }
    }
}
