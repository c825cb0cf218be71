package dev.procpool.internal.engine;

/** Some inputs of one job, sent to one worker together. {@code indices[i]} is the input index of {@code inputs[i]}. */
public record Chunk(Job job, long[] indices, Object[] inputs) {
    public int size() {
        return inputs.length;
    }

    /** The elements from {@code from} on, as a new chunk (for re-queueing what a worker did not finish). */
    public Chunk tail(int from) {
        int n = inputs.length - from;
        long[] i = new long[n];
        Object[] in = new Object[n];
        System.arraycopy(indices, from, i, 0, n);
        System.arraycopy(inputs, from, in, 0, n);
        return new Chunk(job, i, in);
    }

    public Chunk head(int count) {
        long[] i = new long[count];
        Object[] in = new Object[count];
        System.arraycopy(indices, 0, i, 0, count);
        System.arraycopy(inputs, 0, in, 0, count);
        return new Chunk(job, i, in);
    }
}
