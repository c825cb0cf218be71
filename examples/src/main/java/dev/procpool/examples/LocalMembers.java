package dev.procpool.examples;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/** Starts procpool cluster members as separate JVMs on 127.0.0.1, for the demo and the benchmark. */
final class LocalMembers implements AutoCloseable {
    private final List<Process> processes = new ArrayList<>();
    final List<String> addresses = new ArrayList<>();

    LocalMembers(int count, int workersEach) throws Exception {
        List<Integer> ports = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
                ports.add(socket.getLocalPort());
            }
        }
        ports.forEach(p -> addresses.add("127.0.0.1:" + p));
        CountDownLatch ready = new CountDownLatch(count);
        for (int port : ports) {
            Process process = new ProcessBuilder(
                    Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "-Xmx256m", "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn", "-Dhazelcast.logging.type=slf4j",
                    "-cp", System.getProperty("java.class.path"),
                    "dev.procpool.cluster.ClusterMember", "--host", "127.0.0.1", "--port", Integer.toString(port),
                    "--join", String.join(",", addresses), "--workers", Integer.toString(workersEach))
                    .redirectError(ProcessBuilder.Redirect.INHERIT).start();
            processes.add(process);
            Thread reader = new Thread(() -> {
                try (BufferedReader out = new BufferedReader(
                        new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                    for (String line; (line = out.readLine()) != null; ) {
                        if (line.startsWith("procpool member ready")) {
                            ready.countDown();
                        }
                    }
                } catch (IOException ignored) {
                    // the member is gone
                }
            });
            reader.setDaemon(true);
            reader.start();
        }
        if (!ready.await(60, TimeUnit.SECONDS)) {
            close();
            throw new IllegalStateException("the members did not start within 60 s");
        }
    }

    String[] addresses() {
        return addresses.toArray(String[]::new);
    }

    @Override
    public void close() throws InterruptedException {
        for (Process process : processes) {
            process.destroy(); // SIGTERM: the member ends its workers and leaves the cluster
        }
        for (Process process : processes) {
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor();
            }
        }
    }
}
