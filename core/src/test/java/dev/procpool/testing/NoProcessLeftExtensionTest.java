package dev.procpool.testing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.procpool.testing.ProcessTree.Proc;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The check itself: it must fail on a leftover child and on an orphaned grandchild, and blame nothing else. */
@Timeout(30)
class NoProcessLeftExtensionTest {
    private static final Duration SHORT_GRACE = Duration.ofMillis(300);

    @Test
    void aChildLeftRunningFailsTheCheckAndIsKilled() throws Exception {
        NoProcessLeftExtension.Watch watch = new NoProcessLeftExtension.Watch("leaky test");
        Process sleeper = new ProcessBuilder("sleep", "60").start();
        assertThatThrownBy(() -> watch.verify(SHORT_GRACE)).isInstanceOf(AssertionError.class)
                .hasMessageContaining("leaky test").hasMessageContaining(Long.toString(sleeper.pid()));
        assertThat(sleeper.waitFor(5, TimeUnit.SECONDS)).as("the leftover was killed").isTrue();
    }

    @Test
    void anOrphanedGrandchildIsStillCaught() throws Exception {
        NoProcessLeftExtension.Watch watch = new NoProcessLeftExtension.Watch("orphaning test");
        // sh starts a grandchild, says its pid, and exits when its stdin closes: the grandchild is orphaned
        Process shell = new ProcessBuilder("sh", "-c", "sleep 60 & echo $!; read line").start();
        long grandchild = Long.parseLong(new BufferedReader(new InputStreamReader(shell.getInputStream(),
                StandardCharsets.UTF_8)).readLine().trim());
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (watch.seen.stream().noneMatch(p -> p.pid() == grandchild)) {
            assertThat(System.nanoTime() - deadline).as("the sampler saw the grandchild").isNegative();
            Thread.sleep(10);
        }
        shell.getOutputStream().close();
        assertThat(shell.waitFor(5, TimeUnit.SECONDS)).isTrue();
        assertThat(ProcessHandle.current().descendants().map(ProcessHandle::pid)).doesNotContain(grandchild);

        assertThatThrownBy(() -> watch.verify(SHORT_GRACE)).isInstanceOf(AssertionError.class)
                .hasMessageContaining(Long.toString(grandchild));
        assertThat(ProcessTree.awaitGone(List.of(new Proc(grandchild, -1)), Duration.ofSeconds(5)))
                .as("the orphan was killed").isEmpty();
    }

    @Test
    void processesThatEndWithinTheGracePass() throws Exception {
        NoProcessLeftExtension.Watch watch = new NoProcessLeftExtension.Watch("tidy test");
        Process quick = new ProcessBuilder("sh", "-c", "sleep 0.2").start();
        Process killed = new ProcessBuilder("sleep", "60").start();
        killed.toHandle().destroyForcibly(); // only the signal: it may be a zombie for a while, which counts as gone
        watch.verify(Duration.ofSeconds(5));
        assertThat(quick.waitFor(5, TimeUnit.SECONDS)).isTrue();
    }

    @Test
    void processesFromBeforeTheTestAreNotBlamed() throws Exception {
        Process older = new ProcessBuilder("sleep", "60").start();
        try {
            NoProcessLeftExtension.Watch watch = new NoProcessLeftExtension.Watch("later test");
            watch.verify(SHORT_GRACE);
            assertThat(older.isAlive()).isTrue();
        } finally {
            older.destroyForcibly();
            older.waitFor(5, TimeUnit.SECONDS);
        }
    }

    @Test
    void aZombieCountsAsGoneAndAReusedPidIsNotTheSameProcess() throws Exception {
        Process sleeper = new ProcessBuilder("sleep", "60").start();
        Proc proc = ProcessTree.proc(sleeper.pid()).orElseThrow();
        assertThat(proc.isGone()).isFalse();
        assertThat(new Proc(sleeper.pid(), proc.startTicks() + 1).isGone()).as("another start time").isTrue();
        sleeper.toHandle().destroyForcibly();
        assertThat(ProcessTree.awaitGone(Set.of(proc), Duration.ofSeconds(5))).isEmpty();
        sleeper.waitFor(5, TimeUnit.SECONDS);
    }
}
