package dev.procpool.testing;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** procpool's own code as built in this reactor, with its dependencies, and nothing of the tests. */
public final class ProcpoolJars {
    private ProcpoolJars() {}

    /**
     * As a class path or module path: the module folders of this build (they have a
     * {@code module-info.class}) and the jars of Kryo, commons-exec, slf4j-api and the worker launcher.
     *
     * @return the entries joined with the path separator
     */
    public static String path() {
        List<String> entries = new ArrayList<>();
        for (String entry : System.getProperty("java.class.path").split(File.pathSeparator)) {
            Path path = Path.of(entry);
            String name = path.getFileName().toString();
            boolean ours = Files.isDirectory(path) && Files.exists(path.resolve("module-info.class"));
            boolean dependency = name.startsWith("kryo5-") || name.startsWith("commons-exec-")
                    || name.startsWith("slf4j-api-") || name.startsWith("procpool-worker-launcher-");
            if (ours || dependency) {
                entries.add(path.toString());
            }
        }
        return String.join(File.pathSeparator, entries);
    }
}
