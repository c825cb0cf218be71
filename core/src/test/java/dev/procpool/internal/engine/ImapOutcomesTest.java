package dev.procpool.internal.engine;

import static org.assertj.core.api.Assertions.assertThat;

import dev.procpool.ProcessPoolException;
import dev.procpool.internal.worker.ValueRuns;
import org.junit.jupiter.api.Test;

/** The ring of an ordered lazy call: answers in any order, duplicates, packed runs, growth past its size. */
class ImapOutcomesTest {
    @Test
    void orderedOutcomesComeOutInIndexOrderWhateverOrderTheyArriveIn() {
        ImapOutcomes outcomes = ImapOutcomes.of(true);
        int n = 5000; // past the ring's first size: it grows with what is read and not yet taken
        outcomes.expect(0, 3000);
        outcomes.expect(3000, n - 3000);
        long[] indices = new long[n];
        long[] bits = new long[n];
        for (int i = 0; i < n; i++) {
            indices[i] = i;
            bits[i] = 10L * i;
        }
        assertThat(outcomes.poll(0)).as("nothing arrived yet").isNull();
        for (int i = n - 1; i >= 2000; i--) { // the later half first, one by one
            assertThat(outcomes.arrive(i, i % 2 == 0 ? (Object) ("v" + i) : null,
                    i == 4321 ? new ProcessPoolException("bad", null, i) : null)).isTrue();
        }
        assertThat(outcomes.arriveRun(indices, 0, ValueRuns.LONGS, bits, 2000)).isEqualTo(2000);
        assertThat(outcomes.arriveRun(indices, 0, ValueRuns.LONGS, bits, 10)).as("second answers are dropped").isZero();
        assertThat(outcomes.arrive(5, "again", null)).isFalse();
        for (int i = 0; i < n; i++) {
            ImapOutcomes.Outcome outcome = outcomes.poll(i);
            assertThat(outcome.index()).isEqualTo(i);
            if (i < 2000) {
                assertThat(outcome.value()).isEqualTo(10L * i);
            } else if (i == 4321) {
                assertThat(outcome.failure()).hasMessage("bad");
            } else {
                assertThat(outcome.value()).isEqualTo(i % 2 == 0 ? "v" + i : null);
            }
        }
        assertThat(outcomes.poll(n)).isNull();
        outcomes.expect(n, 1);
        assertThat(outcomes.arrive(n, "last", null)).isTrue();
        assertThat(outcomes.poll(n).value()).isEqualTo("last");
    }

    @Test
    void forgottenInputsTakeNoAnswerButWhatArrivedStaysToBeTaken() {
        ImapOutcomes outcomes = ImapOutcomes.of(true);
        outcomes.expect(0, 4);
        outcomes.arrive(0, "a", null);
        outcomes.arrive(2, "c", null);
        outcomes.forgetAwaited();
        assertThat(outcomes.arrive(1, "b", null)).isFalse();
        assertThat(outcomes.poll(0).value()).isEqualTo("a");
        assertThat(outcomes.poll(1)).isNull();
        outcomes.clear();
        assertThat(outcomes.poll(1)).isNull();
    }

    @Test
    void unorderedOutcomesComeOutInArrivalOrder() {
        ImapOutcomes outcomes = ImapOutcomes.of(false);
        outcomes.expect(0, 3);
        outcomes.arrive(2, "c", null);
        assertThat(outcomes.arriveRun(new long[] {0, 1}, 0, ValueRuns.INTS, new long[] {-1, 7}, 2)).isEqualTo(2);
        assertThat(outcomes.arrive(2, "again", null)).isFalse();
        assertThat(outcomes.poll(0).value()).isEqualTo("c");
        assertThat(outcomes.poll(1).value()).isEqualTo(-1);
        assertThat(outcomes.poll(2).value()).isEqualTo(7);
        assertThat(outcomes.poll(3)).isNull();
    }
}
