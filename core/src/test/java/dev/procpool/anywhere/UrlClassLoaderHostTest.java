package dev.procpool.anywhere;

import static org.assertj.core.api.Assertions.assertThat;

import dev.procpool.testing.NoProcessLeft;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A plugin host: the plugin's classes are compiled now into a jar (or a folder) that is not on this
 * JVM's class path and loaded through a {@link URLClassLoader} of their own. The plugin builds a
 * PROCESSES pool and runs a lambda, a method reference and its own record type, and reads its own
 * resource in the worker: the workers get the plugin's jar from the loader that defined its classes.
 */
@NoProcessLeft
@Timeout(120)
class UrlClassLoaderHostTest {
    static final String PLUGIN = """
            package plugin;

            import dev.procpool.PoolMode;
            import dev.procpool.ProcessPool;
            import java.io.InputStream;
            import java.nio.charset.StandardCharsets;
            import java.util.ArrayList;
            import java.util.List;
            import java.util.Map;
            import java.util.TreeMap;
            import java.util.concurrent.Callable;

            public class Plugin implements Callable<Map<String, Object>> {
                public record Point(int x, int y) {
                    Point moved() { return new Point(x + 1, y * 2); }
                }

                static int square(int x) { return x * x; }

                static String resource(int ignored) throws Exception {
                    try (InputStream in = Plugin.class.getResourceAsStream("/plugin/greeting.txt")) {
                        return new String(in.readAllBytes(), StandardCharsets.UTF_8).trim();
                    }
                }

                private final PoolMode mode;

                public Plugin(String mode) { this.mode = PoolMode.valueOf(mode); }

                @Override
                public Map<String, Object> call() throws Exception {
                    Map<String, Object> out = new TreeMap<>();
                    try (ProcessPool pool = ProcessPool.builder().workers(2).mode(mode).build()) {
                        int offset = 100;
                        out.put("mode", pool.mode().toString());
                        out.put("fallback", pool.fallbackReason().orElse(""));
                        out.put("lambda", pool.map((Integer x) -> x + offset, List.of(1, 2, 3)));
                        out.put("methodRef", pool.map(Plugin::square, List.of(1, 2, 3)));
                        out.put("records", new ArrayList<>(pool.map(Point::moved, List.of(new Point(1, 2), new Point(3, 4)))));
                        out.put("resource", pool.apply(Plugin::resource, 0));
                        out.put("elsewhere", pool.apply((Integer x) -> ProcessHandle.current().pid(), 0) != ProcessHandle.current().pid());
                    }
                    return out;
                }
            }
            """;

    @TempDir
    Path directory;

    @Test
    void pluginInAJarRunsOnWorkerJvms() throws Exception {
        Path jar = TestApps.jar(TestApps.compile(directory, Map.of("plugin/Plugin.java", PLUGIN),
                Map.of("plugin/greeting.txt", "hello from the plugin jar")), directory.resolve("plugin.jar"));
        Map<String, Object> out = runPlugin(jar, "PROCESSES");
        assertPluginRan(out, "PROCESSES");
        assertThat(out.get("elsewhere")).isEqualTo(true);
    }

    @Test
    void pluginInAClassFolderRunsOnWorkerJvmsAndAutoModeKeepsProcesses() throws Exception {
        Path classes = TestApps.compile(directory, Map.of("plugin/Plugin.java", PLUGIN),
                Map.of("plugin/greeting.txt", "hello from the plugin jar"));
        Map<String, Object> out = runPlugin(classes, "AUTO");
        assertPluginRan(out, "PROCESSES");
        assertThat(out.get("fallback")).isEqualTo("");
    }

    private static void assertPluginRan(Map<String, Object> out, String mode) {
        assertThat(out.get("mode")).isEqualTo(mode);
        assertThat(out.get("lambda")).isEqualTo(List.of(101, 102, 103));
        assertThat(out.get("methodRef")).isEqualTo(List.of(1, 4, 9));
        assertThat(out.get("records").toString()).isEqualTo("[Point[x=2, y=4], Point[x=4, y=8]]");
        assertThat(out.get("resource")).isEqualTo("hello from the plugin jar");
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> runPlugin(Path location, String mode) throws Exception {
        assertThat(System.getProperty("java.class.path")).doesNotContain(location.toString());
        try (URLClassLoader loader = new URLClassLoader(new URL[] {location.toUri().toURL()},
                UrlClassLoaderHostTest.class.getClassLoader())) {
            Class<?> plugin = Class.forName("plugin.Plugin", true, loader);
            assertThat(plugin.getClassLoader()).isSameAs(loader);
            Callable<Map<String, Object>> call =
                    (Callable<Map<String, Object>>) plugin.getConstructor(String.class).newInstance(mode);
            return call.call(); // the host's context class loader stays its own, as in most plugin hosts
        }
    }
}
