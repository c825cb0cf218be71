package dev.procpool.internal.process;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class WorkerEndTest {
    @Test
    void aWorkerThePoolAskedToStopEndsStoppedWhateverElseHappened() {
        assertThat(WorkerEnd.classify(true, false, true, true, true)).isEqualTo(WorkerEnd.STOPPED);
    }

    @Test
    void aDrainedWorkerIsRecycledUnlessItsChannelBroke() {
        assertThat(WorkerEnd.classify(false, true, false, false, false)).isEqualTo(WorkerEnd.RECYCLED);
        assertThat(WorkerEnd.classify(false, true, true, false, false)).isEqualTo(WorkerEnd.CRASHED);
    }

    @Test
    void killsByThePool() {
        assertThat(WorkerEnd.classify(false, false, false, true, false)).isEqualTo(WorkerEnd.CANCELLED);
        assertThat(WorkerEnd.classify(false, false, false, false, true)).isEqualTo(WorkerEnd.TIMED_OUT);
        assertThat(WorkerEnd.classify(false, false, false, false, false)).isEqualTo(WorkerEnd.CRASHED);
    }

    @Test
    void timeoutsAndCrashesAreUnexpectedTheRestIsNot() {
        assertThat(WorkerEnd.values()).filteredOn(WorkerEnd::unexpected)
                .containsExactly(WorkerEnd.TIMED_OUT, WorkerEnd.UNRESPONSIVE, WorkerEnd.CRASHED);
    }
}
