package dev.procpool.it;

import dev.procpool.anywhere.TestApps;
import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** The consumer application every environment runs, and procpool's jars as a consumer gets them. */
final class ItApps {
    /** A lambda, a method reference, its own record, a resource, in worker JVMs; prints what it got. */
    static final String MAIN = """
            package app;

            import dev.procpool.PoolMode;
            import dev.procpool.ProcessPool;
            import java.io.InputStream;
            import java.nio.charset.StandardCharsets;
            import java.util.ArrayList;
            import java.util.List;

            public class Main {
                public record Point(int x, int y) {
                    Point moved() { return new Point(x + 1, y * 2); }
                }

                static int square(int x) { return x * x; }

                static String resource(int ignored) throws Exception {
                    try (InputStream in = Main.class.getResourceAsStream("/app/greeting.txt")) {
                        return new String(in.readAllBytes(), StandardCharsets.UTF_8).trim();
                    }
                }

                public static List<String> run(String mode) {
                    List<String> out = new ArrayList<>();
                    try (ProcessPool pool = ProcessPool.builder().workers(2).mode(PoolMode.valueOf(mode)).build()) {
                        int offset = 100;
                        out.add("mode=" + pool.mode());
                        out.add("fallback=" + pool.fallbackReason().orElse("none"));
                        out.add("lambda=" + pool.map((Integer x) -> x + offset, List.of(1, 2, 3)));
                        out.add("methodRef=" + pool.map(Main::square, List.of(1, 2, 3)));
                        out.add("records=" + pool.map(Point::moved, List.of(new Point(1, 2), new Point(3, 4))));
                        out.add("resource=" + pool.apply(Main::resource, 0));
                        out.add("elsewhere=" + (pool.apply((Integer x) -> ProcessHandle.current().pid(), 0)
                                != ProcessHandle.current().pid()));
                    }
                    return out;
                }

                public static void main(String[] args) {
                    run(args.length > 0 ? args[0] : "PROCESSES").forEach(System.out::println);
                }
            }
            """;

    static final Map<String, String> RESOURCES = Map.of("app/greeting.txt", "hello from the app");

    /** What each environment must print. */
    static final List<String> EXPECTED = List.of("mode=PROCESSES", "fallback=none", "lambda=[101, 102, 103]",
            "methodRef=[1, 4, 9]", "records=[Point[x=2, y=4], Point[x=4, y=8]]", "resource=hello from the app",
            "elsewhere=true");

    private ItApps() {}

    /**
     * procpool's jars and its dependencies, from this JVM's class path, as jar files named by artifact
     * (the reactor gives its modules as class folders: those are packed).
     */
    static Map<String, Path> procpoolJars(Path directory) throws IOException {
        Map<String, Path> jars = new LinkedHashMap<>();
        Files.createDirectories(directory);
        for (String entry : System.getProperty("java.class.path").split(File.pathSeparator)) {
            Path path = Path.of(entry);
            String name = path.getFileName().toString();
            if (Files.isDirectory(path) && path.endsWith(Path.of("worker-launcher", "target", "classes"))) {
                jars.put("procpool-worker-launcher", TestApps.jar(path, directory.resolve("procpool-worker-launcher.jar")));
            } else if (Files.isDirectory(path) && path.endsWith(Path.of("core", "target", "classes"))) {
                jars.put("procpool-core", TestApps.jar(path, directory.resolve("procpool-core.jar")));
            } else if (name.startsWith("procpool-worker-launcher-") || name.startsWith("procpool-core-") && !name.contains("tests")) {
                jars.put(name.startsWith("procpool-core") ? "procpool-core" : "procpool-worker-launcher", path);
            } else {
                for (String dependency : List.of("kryo5", "commons-exec", "slf4j-api", "slf4j-simple")) {
                    if (name.startsWith(dependency + "-") && name.endsWith(".jar")) {
                        jars.put(dependency, path);
                    }
                }
            }
        }
        if (!jars.keySet().containsAll(List.of("procpool-core", "procpool-worker-launcher", "kryo5", "commons-exec",
                "slf4j-api"))) {
            throw new IllegalStateException("procpool's jars are not all on the class path: " + jars);
        }
        return jars;
    }

    static Path java() {
        return Path.of(System.getProperty("java.home"), "bin", "java");
    }
}
