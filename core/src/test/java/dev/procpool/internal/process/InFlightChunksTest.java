package dev.procpool.internal.process;

import static org.assertj.core.api.Assertions.assertThat;

import dev.procpool.internal.engine.Chunk;
import org.junit.jupiter.api.Test;

/** The bookkeeping that maps the worker's task numbers to chunks; no call needed, so none is made. */
class InFlightChunksTest {
    private final InFlightChunks inFlight = new InFlightChunks();

    private static Chunk chunkOf(int size) {
        return new Chunk(null, new long[size], new Object[size]);
    }

    @Test
    void answersGoToTheOldestChunkAndCompleteIt() {
        inFlight.add(chunkOf(3), 0, java.util.List.of());
        inFlight.add(chunkOf(2), 3, java.util.List.of());
        assertThat(inFlight.unansweredTasks()).isEqualTo(5);

        InFlightChunks.Sent oldest = inFlight.oldest();
        assertThat(inFlight.answer(oldest, 2)).isFalse();
        assertThat(inFlight.answer(oldest, 1)).isTrue();
        assertThat(inFlight.oldest().firstSequence).isEqualTo(3);
        assertThat(inFlight.chunkCount()).isEqualTo(1);
        assertThat(inFlight.unansweredTasks()).isEqualTo(2);
        assertThat(inFlight.tasksSent()).isEqualTo(5);
    }

    @Test
    void aSequenceIsUnansweredFromTheFirstUnansweredTaskOn() {
        inFlight.add(chunkOf(3), 10, java.util.List.of());
        inFlight.answer(inFlight.oldest(), 1);
        assertThat(inFlight.isUnanswered(10)).isFalse();
        assertThat(inFlight.isUnanswered(11)).isTrue();
        assertThat(inFlight.isUnanswered(50)).isTrue();
    }

    @Test
    void takeAllLeavesItEmptyButKeepsTheBudgetCount() {
        inFlight.add(chunkOf(4), 0, java.util.List.of());
        inFlight.answer(inFlight.oldest(), 1);
        assertThat(inFlight.takeAll()).singleElement().satisfies(sent -> assertThat(sent.answered).isEqualTo(1));
        assertThat(inFlight.isEmpty()).isTrue();
        assertThat(inFlight.unansweredTasks()).isZero();
        assertThat(inFlight.tasksSent()).isEqualTo(4);
        assertThat(inFlight.isUnanswered(2)).isFalse();
    }
}
