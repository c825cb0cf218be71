package dev.procpool.internal.engine;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class ChunkSizesTest {

    @Test
    void knownSizeFollowsPython() {
        assertThat(ChunkSizes.forKnownSize(1_000_000, 2)).isEqualTo(125_000);
        assertThat(ChunkSizes.forKnownSize(10, 2)).isEqualTo(2);
        assertThat(ChunkSizes.forKnownSize(9, 2)).isEqualTo(2);
        assertThat(ChunkSizes.forKnownSize(1, 4)).isEqualTo(1);
        assertThat(ChunkSizes.forKnownSize(0, 4)).isEqualTo(1);
        assertThat(ChunkSizes.forKnownSize(Integer.MAX_VALUE, 1)).isEqualTo(Integer.MAX_VALUE / 4 + 1);
    }

    /** Python's rule: the smallest size that cuts the inputs into at most four chunks per worker, at least 1. */
    @Test
    void theSizeIsTheSmallestThatGivesAtMostFourChunksPerWorker() {
        for (int workers = 1; workers <= 9; workers++) {
            for (int inputs = 0; inputs <= 3000; inputs++) {
                int size = ChunkSizes.forKnownSize(inputs, workers);
                long chunks = (inputs + size - 1) / size;
                assertThat(size).isPositive();
                assertThat(chunks).as("%d inputs, %d workers: size %d", inputs, workers, size)
                        .isLessThanOrEqualTo(4L * workers);
                if (size > 1) {
                    long withOneLess = (inputs + size - 2) / (size - 1);
                    assertThat(withOneLess).as("%d inputs, %d workers: size %d is the smallest", inputs, workers, size)
                            .isGreaterThan(4L * workers);
                }
            }
        }
    }

    @Test
    void hugeCountsDoNotOverflow() {
        assertThat(ChunkSizes.forKnownSize(Integer.MAX_VALUE, Integer.MAX_VALUE)).isEqualTo(1);
        assertThat(ChunkSizes.forKnownSize(Integer.MAX_VALUE, 3)).isEqualTo((int) ((Integer.MAX_VALUE + 11L) / 12));
    }
}
