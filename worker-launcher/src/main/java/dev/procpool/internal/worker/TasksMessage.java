package dev.procpool.internal.worker;

import com.esotericsoftware.kryo.kryo5.Kryo;
import com.esotericsoftware.kryo.kryo5.io.Input;
import com.esotericsoftware.kryo.kryo5.io.Output;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * TASKS, parent to worker: a chunk of inputs for a function sent before. The worker numbers its tasks
 * with one sequence across all chunks; {@code firstSequence} is the number of the chunk's first task,
 * which lets both sides agree on which task the {@link RunningTaskSlot} names.
 *
 * @param inputs the inputs; one the worker could not rebuild is an {@link Unreadable}
 */
public record TasksMessage(long functionId, long firstSequence, Object[] inputs) {
    public static final byte TYPE = FrameType.TASKS;

    /**
     * Parent side: encodes one chunk at a time into buffers kept between chunks, so the hot path
     * allocates nothing per input beyond what Kryo needs. The inputs of one frame stay within
     * {@link FrameChannel#MAX_PAYLOAD}: {@link #add} says when the next one does not fit. Not thread-safe.
     */
    public static final class Encoder {
        /** Function id, first sequence number and count, ahead of the inputs. */
        private static final int HEAD_BYTES = 8 + 8 + 5;
        private final Output head = new Output(HEAD_BYTES);
        private Output inputs = newInputs();
        private int count;
        private final SharedSegments segments;
        private final ValueRuns.Writer runs = new ValueRuns.Writer();
        private List<Path> created = new ArrayList<>();
        /** Medium inputs go here when it has room; null: none. */
        private final Ring ring;
        /** The ring's head when this chunk started, and whether the chunk was written (else it is taken back). */
        private long ringMark;
        private boolean written = true;

        /** Large inputs through {@code segments}; null: all inline. */
        public Encoder(SharedSegments segments) {
            this(segments, null);
        }

        /** Large inputs through {@code segments}, medium ones through {@code ring} (the worker's parent-to-worker ring); null: none. */
        public Encoder(SharedSegments segments, Ring ring) {
            this.segments = segments;
            this.ring = ring;
        }

        /** All inputs inline. */
        public Encoder() {
            this(null);
        }

        private static Output newInputs() {
            return new Output(64 * 1024, FrameChannel.MAX_PAYLOAD - HEAD_BYTES);
        }

        /**
         * Starts a new chunk. The segments of the last one must have been {@link #takeSegments taken}: those
         * left are deleted here (a frame that was never sent). Ring room the last chunk took is taken back
         * unless it was {@link #write written}.
         */
        public void reset() {
            if (!created.isEmpty()) {
                SharedSegments.deleteAll(created);
                created.clear();
            }
            if (ring != null) {
                if (!written) {
                    ring.rollback(ringMark);
                }
                ringMark = ring.head();
                written = false;
            }
            // one huge chunk must not pin its buffer for the pool's life
            if (inputs.getBuffer().length > FrameChannel.KEPT_BUFFER_MAX) {
                inputs = newInputs();
            } else {
                inputs.reset();
            }
            runs.reset();
            count = 0;
        }

        /**
         * Appends one input; returns false, the buffer as it was, when it does not fit in this frame (with
         * no input before it: in no frame at all). When it cannot be serialized the buffer is left as it
         * was, the input is not counted, and the failure is rethrown: the caller fails that input alone.
         */
        public boolean add(Kryo kryo, Object input) {
            try {
                if (runs.append(inputs, input)) { // the buffer is as it was when this throws
                    count++;
                    return true;
                }
            } catch (RuntimeException e) {
                if (Elements.isOverflow(e)) {
                    return false;
                }
                throw e;
            }
            int mark = inputs.position();
            try {
                Elements.write(kryo, inputs, input, segments, created, ring);
            } catch (RuntimeException | StackOverflowError e) {
                inputs.setPosition(mark);
                if (Elements.isOverflow(e)) {
                    return false;
                }
                throw e;
            }
            count++;
            return true;
        }

        /**
         * The shared-memory segments of the inputs appended since {@link #reset()}, now the caller's: it
         * deletes them once the worker has read the chunk (all its tasks answered) or is dead, or at once if
         * the frame is not sent. The worker unlinks each as it reads it; the caller's delete is the backstop.
         */
        public List<Path> takeSegments() {
            if (created.isEmpty()) {
                return List.of();
            }
            List<Path> taken = created;
            created = new ArrayList<>();
            return taken;
        }

        /** Inputs appended since {@link #reset()}. */
        public int count() {
            return count;
        }

        /** Writes the frame for the inputs appended; does not flush. */
        public void write(OutputStream out, long functionId, long firstSequence) throws IOException {
            runs.close(inputs);
            head.reset();
            head.writeLong(functionId);
            head.writeLong(firstSequence);
            head.writeVarInt(count, true);
            written = true; // from here the worker may read (and release) what the ring holds of it
            FrameChannel.write(out, TYPE, head.getBuffer(), head.position(), inputs.getBuffer(), inputs.position());
        }
    }

    /** The function a TASKS frame names, without decoding its inputs. */
    public static long functionId(FrameChannel.Frame frame) {
        return frame.input().readLong();
    }

    /** Decodes a TASKS frame that has no ring values: see {@link #read(Kryo, FrameChannel.Frame, Ring)}. */
    public static TasksMessage read(Kryo kryo, FrameChannel.Frame frame) throws FrameChannel.CorruptFrameException {
        return read(kryo, frame, null);
    }

    /**
     * Decodes a TASKS frame. A run of values ({@link ValueRuns}) is copied out in bulk and boxed in one
     * loop; an input of any other form that cannot be rebuilt becomes an {@link Unreadable} (its task fails,
     * the others run). Inputs in {@code ring} (null: none) are read from it and their room released, even
     * the unreadable ones.
     *
     * @throws FrameChannel.CorruptFrameException when a run claims more inputs than the frame holds
     */
    public static TasksMessage read(Kryo kryo, FrameChannel.Frame frame, Ring ring) throws FrameChannel.CorruptFrameException {
        Input in = frame.input();
        long functionId = in.readLong();
        long firstSequence = in.readLong();
        Object[] inputs = new Object[in.readVarInt(true)];
        ValueRuns.Reader runs = null;
        long[] bits = null;
        int i = 0;
        while (i < inputs.length) {
            byte tag = in.readByte();
            if (ValueRuns.isRun(tag)) {
                if (runs == null) {
                    runs = new ValueRuns.Reader();
                }
                int n = runs.begin(tag, in);
                if (n > inputs.length - i) {
                    throw new FrameChannel.CorruptFrameException("a run of " + n + " inputs where " + (inputs.length - i) + " are left");
                }
                if (bits == null || bits.length < n) {
                    bits = new long[Math.max(n, inputs.length - i)];
                }
                runs.take(in, bits, n);
                boxInto(inputs, i, tag, bits, n);
                i += n;
                continue;
            }
            in.setPosition(in.position() - 1);
            try {
                inputs[i] = Elements.read(kryo, in, ring);
            } catch (Throwable failure) { // Elements left the input after the value: the next one reads fine
                inputs[i] = new Unreadable("this input", failure);
            }
            i++;
        }
        return new TasksMessage(functionId, firstSequence, inputs);
    }

    /** One loop per kind: no switch per value before the JIT has compiled anything. */
    private static void boxInto(Object[] to, int at, byte kind, long[] bits, int n) {
        switch (kind) {
            case ValueRuns.LONGS -> {
                for (int k = 0; k < n; k++) {
                    to[at + k] = bits[k];
                }
            }
            case ValueRuns.INTS -> {
                for (int k = 0; k < n; k++) {
                    to[at + k] = (int) bits[k];
                }
            }
            default -> {
                for (int k = 0; k < n; k++) {
                    to[at + k] = Double.longBitsToDouble(bits[k]);
                }
            }
        }
    }
}
