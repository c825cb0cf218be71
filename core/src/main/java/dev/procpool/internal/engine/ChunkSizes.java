package dev.procpool.internal.engine;

/** How many inputs go into one chunk when the caller does not say. */
public final class ChunkSizes {
    private ChunkSizes() {}

    /** Python's rule for a known number of inputs: about four chunks per worker, at least one input each. */
    public static int forKnownSize(int inputs, int workers) {
        long perChunk = ((long) inputs + 4L * workers - 1) / (4L * workers);
        return (int) Math.max(1, perChunk);
    }
}
