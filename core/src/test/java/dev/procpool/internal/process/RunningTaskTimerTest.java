package dev.procpool.internal.process;

import static org.assertj.core.api.Assertions.assertThat;

import dev.procpool.internal.worker.RunningTaskSlot;
import org.junit.jupiter.api.Test;

class RunningTaskTimerTest {
    private final RunningTaskTimer timer = new RunningTaskTimer(1_000);

    @Test
    void theClockStartsWhenTheWatchFirstSeesTheTask() {
        assertThat(timer.expired(5, true, 0)).isFalse();
        assertThat(timer.expired(5, true, 999)).isFalse();
        assertThat(timer.expired(5, true, 1_000)).isTrue();
        assertThat(timer.expiredSequence()).isEqualTo(5);
    }

    @Test
    void aTaskExpiresOnce() {
        timer.expired(5, true, 0);
        assertThat(timer.expired(5, true, 2_000)).isTrue();
        assertThat(timer.expired(5, true, 3_000)).isFalse();
    }

    @Test
    void theNextTaskGetsItsOwnFullTime() {
        timer.expired(5, true, 0);
        assertThat(timer.expired(6, true, 900)).isFalse();
        assertThat(timer.expired(6, true, 1_800)).isFalse();
        assertThat(timer.expired(6, true, 1_900)).isTrue();
    }

    @Test
    void anAnsweredTaskStopsTheClock() {
        timer.expired(5, true, 0);
        assertThat(timer.expired(5, false, 5_000)).isFalse();
        assertThat(timer.expired(5, true, 6_000)).as("seen afresh").isFalse();
        assertThat(timer.expiredSequence()).isEqualTo(RunningTaskSlot.NONE);
    }
}
