package dev.procpool.internal.process;

import static dev.procpool.internal.process.CrashTriage.Fate.CRASHED;
import static dev.procpool.internal.process.CrashTriage.Fate.REQUEUE;
import static dev.procpool.internal.process.CrashTriage.Fate.RETRY;
import static dev.procpool.internal.process.CrashTriage.Fate.TIMED_OUT;
import static org.assertj.core.api.Assertions.assertThat;

import dev.procpool.internal.process.CrashTriage.Death;
import dev.procpool.internal.process.CrashTriage.Held;
import dev.procpool.internal.process.CrashTriage.Verdict;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The blame rules of the failure contract, without a worker JVM. */
class CrashTriageTest {
    private static final long NONE = -1;
    private static final CrashTriage.PriorCrashes NEVER = (chunk, position) -> 0;

    /** Two chunks of 4: tasks 10-13 (first two answered) and 14-17. */
    private static final List<Held> TWO_CHUNKS = List.of(new Held(10, 4, 2, false), new Held(14, 4, 0, false));

    private static List<Verdict> triage(List<Held> held, Death death, int retries, CrashTriage.PriorCrashes crashes) {
        return CrashTriage.triage(held, death, retries, crashes);
    }

    @Test
    void onlyTheTaskRunningWhenTheWorkerBrokeIsBlamedTheOthersAreRequeued() {
        List<Verdict> verdicts = triage(TWO_CHUNKS, new Death(15, NONE, false), 0, NEVER);

        assertThat(verdicts).containsExactly(
                new Verdict(0, 2, REQUEUE), new Verdict(0, 3, REQUEUE),
                new Verdict(1, 0, REQUEUE), new Verdict(1, 1, CRASHED),
                new Verdict(1, 2, REQUEUE), new Verdict(1, 3, REQUEUE));
    }

    @Test
    void answeredTasksGetNoVerdict() {
        assertThat(triage(TWO_CHUNKS, new Death(12, NONE, false), 0, NEVER))
                .allMatch(v -> v.chunk() == 1 || v.position() >= 2)
                .first().isEqualTo(new Verdict(0, 2, CRASHED));
    }

    @Test
    void withRetriesTheBlamedTaskRunsAgainUpToNTimesThenFails() {
        Death death = new Death(11, NONE, false);
        List<Held> held = List.of(new Held(10, 3, 1, false));
        for (int prior = 0; prior < 2; prior++) {
            int crashes = prior;
            assertThat(triage(held, death, 2, (c, p) -> p == 1 ? crashes : 99))
                    .containsExactly(new Verdict(0, 1, RETRY), new Verdict(0, 2, REQUEUE));
        }
        assertThat(triage(held, death, 2, (c, p) -> 2))
                .containsExactly(new Verdict(0, 1, CRASHED), new Verdict(0, 2, REQUEUE));
    }

    @Test
    void theTaskThatRanPastItsLimitTimesOutTheOthersAreRequeued() {
        assertThat(triage(TWO_CHUNKS, new Death(14, 14, false), 3, NEVER)).containsExactly(
                new Verdict(0, 2, REQUEUE), new Verdict(0, 3, REQUEUE),
                new Verdict(1, 0, TIMED_OUT), new Verdict(1, 1, REQUEUE),
                new Verdict(1, 2, REQUEUE), new Verdict(1, 3, REQUEUE));
    }

    @Test
    void aTimeoutWhoseTaskEndedJustBeforeTheKillBlamesNobody() {
        // the watch killed the worker for task 14, but 15 was already running
        assertThat(triage(TWO_CHUNKS, new Death(15, 14, false), 0, NEVER)).extracting(Verdict::fate)
                .containsOnly(REQUEUE).hasSize(6);
    }

    @Test
    void aWorkerKilledToCancelBlamesNoInnocentTask() {
        // the cancelled call's running task is dropped (its call is over); the other call's tasks all run again
        List<Held> held = List.of(new Held(10, 2, 0, true), new Held(12, 3, 0, false));
        assertThat(triage(held, new Death(11, NONE, true), 0, NEVER)).containsExactly(
                new Verdict(1, 0, REQUEUE), new Verdict(1, 1, REQUEUE), new Verdict(1, 2, REQUEUE));
        // even when the slot names a task of another call (it started just before the kill landed)
        assertThat(triage(held, new Death(12, NONE, true), 0, NEVER)).extracting(Verdict::fate).containsOnly(REQUEUE);
    }

    @Test
    void aWorkerThatDiedBetweenTasksBlamesTheNextOne() {
        // the slot still names task 11, already answered: the worker died reading task 12's input
        List<Held> held = List.of(new Held(10, 4, 2, false));
        assertThat(triage(held, new Death(11, NONE, false), 0, NEVER))
                .containsExactly(new Verdict(0, 2, CRASHED), new Verdict(0, 3, REQUEUE));
        // before its first task, too
        assertThat(triage(List.of(new Held(0, 2, 0, false)), new Death(NONE, NONE, false), 0, NEVER))
                .containsExactly(new Verdict(0, 0, CRASHED), new Verdict(0, 1, REQUEUE));
    }

    @Test
    void tasksOfCallsAlreadyOverAreDroppedAndTheirBlameGoesNowhere() {
        List<Held> held = List.of(new Held(10, 2, 0, true), new Held(12, 2, 0, false));
        assertThat(triage(held, new Death(10, NONE, false), 0, NEVER))
                .containsExactly(new Verdict(1, 0, REQUEUE), new Verdict(1, 1, REQUEUE));
        // died between tasks with the next one's call over: nobody else inherits the blame
        assertThat(triage(held, new Death(9, NONE, false), 0, NEVER)).extracting(Verdict::fate).containsOnly(REQUEUE);
    }

    @Test
    void priorCrashesAreAskedOnlyForTheBlamedTask() {
        StringBuilder asked = new StringBuilder();
        triage(TWO_CHUNKS, new Death(16, NONE, false), 1, (c, p) -> {
            asked.append(c).append(':').append(p);
            return 0;
        });
        assertThat(asked).hasToString("1:2");
    }

    @Test
    void nothingHeldNothingDecided() {
        assertThat(triage(List.of(), new Death(3, NONE, false), 0, NEVER)).isEmpty();
    }

    @Test
    void anUnresponsiveWorkerBetweenTasksBlamesNoneOfItsQueuedTasks() {
        // the slot names task 11, already answered: the frozen worker never started the queued ones
        assertThat(triage(TWO_CHUNKS, new Death(11, NONE, false, true), 0, NEVER)).extracting(Verdict::fate)
                .containsOnly(REQUEUE);
    }

    @Test
    void anUnresponsiveWorkerInsideATaskBlamesThatTask() {
        assertThat(triage(TWO_CHUNKS, new Death(15, NONE, false, true), 0, NEVER)).containsExactly(
                new Verdict(0, 2, REQUEUE), new Verdict(0, 3, REQUEUE),
                new Verdict(1, 0, REQUEUE), new Verdict(1, 1, CRASHED),
                new Verdict(1, 2, REQUEUE), new Verdict(1, 3, REQUEUE));
    }

}
