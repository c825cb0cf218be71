package dev.procpool.internal.worker;

import com.esotericsoftware.kryo.kryo5.Kryo;
import com.esotericsoftware.kryo.kryo5.io.Input;
import com.esotericsoftware.kryo.kryo5.io.Output;
import java.io.IOException;
import java.io.OutputStream;

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
     * allocates nothing per input beyond what Kryo needs. Not thread-safe.
     */
    public static final class Encoder {
        private final Output head = new Output(32);
        private final Output inputs = new Output(64 * 1024, -1);
        private int count;

        /** Starts a new chunk. */
        public void reset() {
            inputs.reset();
            count = 0;
        }

        /**
         * Appends one input. When it cannot be serialized the buffer is left as it was, the input is
         * not counted, and the failure is rethrown: the caller fails that input alone.
         */
        public void add(Kryo kryo, Object input) {
            Elements.write(kryo, inputs, input);
            count++;
        }

        /** Inputs appended since {@link #reset()}. */
        public int count() {
            return count;
        }

        /** Writes the frame for the inputs appended; does not flush. */
        public void write(OutputStream out, long functionId, long firstSequence) throws IOException {
            head.reset();
            head.writeLong(functionId);
            head.writeLong(firstSequence);
            head.writeVarInt(count, true);
            FrameChannel.write(out, TYPE, head.getBuffer(), head.position(), inputs.getBuffer(), inputs.position());
        }
    }

    /** The function a TASKS frame names, without decoding its inputs. */
    public static long functionId(FrameChannel.Frame frame) {
        return frame.input().readLong();
    }

    public static TasksMessage read(Kryo kryo, FrameChannel.Frame frame) {
        Input in = frame.input();
        long functionId = in.readLong();
        long firstSequence = in.readLong();
        Object[] inputs = new Object[in.readVarInt(true)];
        for (int i = 0; i < inputs.length; i++) {
            try {
                inputs[i] = Elements.read(kryo, in);
            } catch (Throwable failure) { // Elements left the input after the value: the next one reads fine
                inputs[i] = new Unreadable("this input", failure);
            }
        }
        return new TasksMessage(functionId, firstSequence, inputs);
    }
}
