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
}
