package dev.procpool.cluster;

import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

/**
 * Member JVMs for tests, on 127.0.0.1 with explicit ports. Their class path is this JVM's minus the
 * test classes: the tests' lambdas reach the members only by being shipped.
 */
final class MemberProcesses implements AutoCloseable {
    final List<Member> members = new ArrayList<>();
    final Path directory;

    static final class Member {
        final int port;
        final Process process;
        final Path cache;
        final Path log;
        final CountDownLatch ready = new CountDownLatch(1);
        final List<Long> seenPids = new ArrayList<>();

        Member(int port, Process process, Path cache, Path log) {
            this.port = port;
            this.process = process;
            this.cache = cache;
            this.log = log;
        }

        String address() {
            return "127.0.0.1:" + port;
        }

        long pid() {
            return process.pid();
        }

        /** The member and every process it started (its worker JVMs), remembered for the final check. */
        List<Long> family() {
            List<Long> pids = new ArrayList<>();
            pids.add(process.pid());
            process.toHandle().descendants().forEach(h -> pids.add(h.pid()));
            synchronized (seenPids) {
                for (Long pid : pids) {
                    if (!seenPids.contains(pid)) {
                        seenPids.add(pid);
                    }
                }
            }
            return pids;
        }

        void signal(String signal) throws Exception {
            Process kill = new ProcessBuilder("kill", "-" + signal, Long.toString(pid())).inheritIO().start();
            if (!kill.waitFor(5, TimeUnit.SECONDS) || kill.exitValue() != 0) {
                throw new IllegalStateException("kill -" + signal + " " + pid() + " failed");
            }
        }
    }

    MemberProcesses(Path directory) {
        this.directory = directory;
    }

    static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
            return socket.getLocalPort();
        }
    }

    /** Starts {@code count} members that join each other, each with {@code workers} worker JVMs by default. */
    void start(int count, int workers) throws Exception {
        List<Integer> ports = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            int port;
            do {
                port = freePort();
            } while (ports.contains(port));
            ports.add(port);
        }
        String join = ports.stream().map(p -> "127.0.0.1:" + p).collect(Collectors.joining(","));
        for (int port : ports) {
            Path cache = Files.createDirectories(directory.resolve("member-" + port));
            Path log = directory.resolve("member-" + port + ".log");
            List<String> command = new ArrayList<>(List.of(
                    Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-Xshare:auto",
                    "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn",
                    "-Dorg.slf4j.simpleLogger.log.dev.procpool=info",
                    "-Dhazelcast.wait.seconds.before.join=1",
                    "-cp", memberClassPath(),
                    ClusterMember.class.getName(),
                    "--host", "127.0.0.1", "--port", Integer.toString(port), "--join", join,
                    "--workers", Integer.toString(workers), "--cache-dir", cache.toString(),
                    "--member-heartbeat-seconds", "5"));
            Process process = new ProcessBuilder(command).redirectError(log.toFile()).start();
            Member member = new Member(port, process, cache, log);
            members.add(member);
            Thread reader = new Thread(() -> {
                try (BufferedReader out = new BufferedReader(new InputStreamReader(process.getInputStream(),
                        StandardCharsets.UTF_8))) {
                    for (String line; (line = out.readLine()) != null; ) {
                        if (line.startsWith("procpool member ready")) {
                            member.ready.countDown();
                        }
                    }
                } catch (IOException ignored) {
                    // the member is gone
                }
            }, "member-" + port + "-stdout");
            reader.setDaemon(true);
            reader.start();
        }
        for (Member member : members) {
            if (!member.ready.await(60, TimeUnit.SECONDS)) {
                throw new IllegalStateException("member " + member.address() + " did not start:\n"
                        + Files.readString(member.log));
            }
        }
    }

    String[] addresses() {
        return members.stream().map(Member::address).toArray(String[]::new);
    }

    static String memberClassPath() {
        return Arrays.stream(System.getProperty("java.class.path").split(File.pathSeparator))
                .filter(entry -> !entry.replace(File.separatorChar, '/').endsWith("cluster/target/test-classes"))
                .collect(Collectors.joining(File.pathSeparator));
    }

    /** Kills every member (a frozen one too) and waits until they and their workers are gone. */
    @Override
    public void close() throws Exception {
        List<Long> all = new ArrayList<>();
        for (Member member : members) {
            all.addAll(member.family());
            synchronized (member.seenPids) {
                all.addAll(member.seenPids);
            }
            member.process.toHandle().destroyForcibly();
        }
        for (Member member : members) {
            member.process.waitFor(10, TimeUnit.SECONDS);
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
        List<Long> alive = new ArrayList<>(all);
        while (!alive.isEmpty() && System.nanoTime() < deadline) {
            alive.removeIf(pid -> gone(pid));
            Thread.sleep(100);
        }
        if (!alive.isEmpty()) {
            for (Long pid : alive) {
                ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
            }
            throw new AssertionError("processes still alive after the members were killed: " + alive);
        }
    }

    /** Gone, or a zombie waiting for PID 1 to reap it. */
    static boolean gone(long pid) {
        try {
            String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
            String state = stat.substring(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
            return state.equals("Z") || state.equals("X");
        } catch (IOException e) {
            return true;
        }
    }
}
