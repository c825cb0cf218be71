package dev.procpool.internal.worker;

import com.esotericsoftware.kryo.kryo5.Kryo;
import com.esotericsoftware.kryo.kryo5.io.Input;
import com.esotericsoftware.kryo.kryo5.io.Output;
import java.io.IOException;
import java.io.OutputStream;

/**
 * RESULTS, worker to parent: the outcomes of the oldest unanswered tasks, in the order they were
 * sent, so no task ids travel back. Each outcome is a status byte, then the value ({@link Elements})
 * or the exception ({@link RemoteFailure}). Both sides stream: the worker appends outcomes as tasks
 * finish and hands them over in batches, the parent decodes them one by one, neither allocating per
 * outcome beyond the value itself.
 */
public final class ResultsMessage {
    public static final byte TYPE = FrameType.RESULTS;
    /** The task returned; its value follows. */
    public static final byte VALUE = 0;
    /** The task threw; the exception follows. */
    public static final byte FAILURE = 1;

    private ResultsMessage() {}

    /** Worker side: outcomes appended as tasks finish, written as one frame. Not thread-safe. */
    public static final class Encoder {
        private final Output outcomes = new Output(64 * 1024, -1);
        private final Output head = new Output(5);
        private int count;

        /** Appends a returned value; one that cannot be serialized becomes the task's failure instead. */
        public void addValue(Kryo kryo, Object value) {
            int mark = outcomes.position();
            try {
                outcomes.writeByte(VALUE);
                Elements.write(kryo, outcomes, value);
            } catch (Throwable notSerializable) {
                outcomes.setPosition(mark);
                addFailure(new IllegalArgumentException("the task's result cannot be serialized: " + notSerializable,
                        notSerializable));
                return;
            }
            count++;
        }

        public void addFailure(Throwable failure) {
            outcomes.writeByte(FAILURE);
            RemoteFailure.write(outcomes, failure);
            count++;
        }

        /** Outcomes appended since the last {@link #write}. */
        public int count() {
            return count;
        }

        /** Bytes appended since the last {@link #write}. */
        public int bytes() {
            return outcomes.position();
        }

        /** Writes the outcomes appended as one frame and starts afresh; does not flush. */
        public void write(OutputStream out) throws IOException {
            head.reset();
            head.writeVarInt(count, true);
            FrameChannel.write(out, TYPE, head.getBuffer(), head.position(), outcomes.getBuffer(), outcomes.position());
            outcomes.reset();
            count = 0;
        }
    }

    /**
     * Parent side: reads one frame's outcomes in order. For each, {@link #status()} first, then
     * exactly one of {@link #value}, {@link #skipValue} (after VALUE) or {@link #failure} (after
     * FAILURE). Not thread-safe.
     */
    public static final class Decoder {
        private final Input in = new Input();

        /** Starts on a RESULTS frame; returns how many outcomes it holds. */
        public int begin(FrameChannel.Frame frame) {
            in.setBuffer(frame.payload(), 0, frame.length());
            return in.readVarInt(true);
        }

        /** {@link #VALUE} or {@link #FAILURE}. */
        public byte status() throws FrameChannel.CorruptFrameException {
            byte status = in.readByte();
            if (status != VALUE && status != FAILURE) {
                throw new FrameChannel.CorruptFrameException("bad result status " + status);
            }
            return status;
        }

        /** The value; throws what Kryo throws when it cannot be rebuilt, positioned after it either way. */
        public Object value(Kryo kryo) {
            return Elements.read(kryo, in);
        }

        /** Passes over a value nobody wants any more. */
        public void skipValue(Kryo kryo) {
            Elements.skip(kryo, in);
        }

        /** The task's exception, rebuilt with {@code loader} where its class is known. */
        public RemoteFailure failure(ClassLoader loader) {
            return RemoteFailure.read(in, loader);
        }
    }
}
