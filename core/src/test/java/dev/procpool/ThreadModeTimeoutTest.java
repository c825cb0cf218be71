package dev.procpool;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(value = 60, unit = TimeUnit.SECONDS)
class ThreadModeTimeoutTest {

    @Test
    void aRunawayTaskFailsWithATimeoutAndTheRestOfItsChunkStillRuns() {
        List<Integer> inputs = IntStream.range(0, 20).boxed().collect(Collectors.toList());
        try (ProcessPool pool = ProcessPool.builder().mode(PoolMode.THREADS).workers(2)
                .taskTimeout(Duration.ofMillis(300)).build()) {
            List<Object> outcomes = new ArrayList<>();
            ResultIterator<Integer> results = pool.imap((Integer i) -> {
                if (i == 5) {
                    // ignores interrupts: only abandoning the thread helps (it ends by itself later)
                    long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(3);
                    while (System.nanoTime() < until) {
                        Thread.onSpinWait();
                    }
                    return -1;
                }
                return i * 2;
            }, inputs, 10);
            while (results.hasNext()) {
                try {
                    outcomes.add(results.next());
                } catch (TaskTimeoutException e) {
                    outcomes.add("timeout@" + e.inputIndex());
                }
            }
            List<Object> expected = new ArrayList<>();
            inputs.forEach(i -> expected.add(i == 5 ? "timeout@5" : i * 2));
            assertThat(outcomes).isEqualTo(expected);
            assertThat(pool.stats().taskTimeouts()).isEqualTo(1);
            assertThat(pool.stats().workers()).hasSize(2); // a fresh thread took the abandoned one's place
            assertThat(pool.map((Integer i) -> i + 1, List.of(1, 2, 3))).containsExactly(2, 3, 4);
        }
    }

    @Test
    void mapReportsTheTimeoutOfTheRightInput() {
        try (ProcessPool pool = ProcessPool.builder().mode(PoolMode.THREADS).workers(1)
                .taskTimeout(Duration.ofMillis(200)).build()) {
            assertThatThrownBy(() -> pool.map((Integer i) -> {
                if (i == 2) {
                    PoolTestSupport.pause(30_000);
                }
                return i;
            }, List.of(0, 1, 2, 3)))
                    .isInstanceOfSatisfying(TaskTimeoutException.class, e -> {
                        assertThat(e.inputIndex()).isEqualTo(2);
                        assertThat(e.timeout()).isEqualTo(Duration.ofMillis(200));
                    });
        }
    }
}
