package dev.procpool;

import static dev.procpool.FaultTestSupport.isGone;
import static dev.procpool.FaultTestSupport.poll;
import static dev.procpool.FaultTestSupport.readPids;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import dev.procpool.testing.NoProcessLeft;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 5: the parent JVM is killed with SIGKILL; every worker must exit within 2 seconds (stdin EOF
 * and the parent watch). A child JVM ({@link ParentDeathChild}) plays the parent; the test kills it
 * and watches the worker pids through {@code /proc} (a zombie counts as gone).
 */
@Timeout(60)
@NoProcessLeft
class ParentDeathTest {
    private static final Duration WORKERS_GONE_WITHIN = Duration.ofSeconds(2);

    @TempDir
    Path tmp;

    private Process child;

    @AfterEach
    void cleanUp() {
        if (child != null) {
            child.destroyForcibly();
        }
    }

    @Test
    void busyWorkersExitWhenTheParentIsKilled() throws Exception {
        killParentAndWatchWorkers("busy");
    }

    @Test
    void idleWorkersExitWhenTheParentIsKilled() throws Exception {
        killParentAndWatchWorkers("idle");
    }

    /** Issue 13: the processes the tasks started go with their workers, orphans included. */
    @Test
    void tasksChildProcessesExitWhenTheParentIsKilled() throws Exception {
        killParentAndWatchWorkers("children");
    }

    /** Issue 15: the spare JVMs kept for later pools go too; they have no pool to tell them. */
    @Test
    void sparesExitWhenTheParentIsKilled() throws Exception {
        killParentAndWatchWorkers("spares");
    }

    private void killParentAndWatchWorkers(String mode) throws Exception {
        Path running = tmp.resolve("running");
        Path children = tmp.resolve("children");
        Path childErr = tmp.resolve("child-stderr.txt");
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        child = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"),
                "-Dorg.slf4j.simpleLogger.defaultLogLevel=info",
                ParentDeathChild.class.getName(), running.toString(), mode, children.toString())
                .redirectError(childErr.toFile())
                .redirectInput(ProcessBuilder.Redirect.PIPE)
                .start();
        BufferedReader out = new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8));
        CompletableFuture<String> line = CompletableFuture.supplyAsync(() -> {
            try {
                String l;
                while ((l = out.readLine()) != null) {
                    if (l.startsWith("WORKERS ")) {
                        return l;
                    }
                }
                return null;
            } catch (java.io.IOException e) {
                return null;
            }
        });
        String workersLine = line.get(40, TimeUnit.SECONDS);
        if (workersLine == null) {
            fail("the child JVM printed no WORKERS line; its stderr:\n" + Files.readString(childErr));
        }
        Set<Long> workers = Arrays.stream(workersLine.substring("WORKERS ".length()).trim().split(" "))
                .map(Long::parseLong).collect(Collectors.toSet());
        assertThat(workers).as("worker pids from the child").hasSize(2);
        Set<Long> watched = new HashSet<>(workers);
        if (mode.equals("children")) {
            List<Long> spawned = readPids(children);
            assertThat(spawned).as("children recorded before the workers were running").hasSizeGreaterThanOrEqualTo(4);
            watched.addAll(spawned);
        }
        if (!mode.equals("idle") && !mode.equals("spares")) {
            assertThat(new HashSet<>(readPids(running))).as("both workers are inside a task").containsAll(workers);
        }
        assertThat(workers).allSatisfy(pid -> assertThat(isGone(pid)).as("worker %d alive before the kill", pid).isFalse());
        Set<Long> childTree = ProcessHandle.of(child.pid()).orElseThrow().descendants().map(ProcessHandle::pid)
                .collect(Collectors.toSet());
        assertThat(childTree).as("the workers are the child's children").containsAll(workers);

        assertThat(child.toHandle().destroyForcibly()).isTrue(); // SIGKILL: no shutdown hook runs
        long killed = System.nanoTime();
        assertThat(child.waitFor(5, TimeUnit.SECONDS)).isTrue();
        boolean allGone = poll(WORKERS_GONE_WITHIN, () -> watched.stream().allMatch(FaultTestSupport::isGone));
        long tookMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - killed);
        if (!allGone) {
            List<Long> alive = watched.stream().filter(p -> !isGone(p)).collect(Collectors.toList());
            alive.forEach(p -> ProcessHandle.of(p).ifPresent(ProcessHandle::destroyForcibly)); // no orphans from us
            fail("workers or their children " + alive + " still alive " + WORKERS_GONE_WITHIN + " after the parent was killed");
        }
        System.out.println("ParentDeathTest(" + mode + "): workers gone " + tookMillis + " ms after the parent's SIGKILL");
        assertThat(tookMillis).isLessThanOrEqualTo(WORKERS_GONE_WITHIN.toMillis() + 100);
    }
}
