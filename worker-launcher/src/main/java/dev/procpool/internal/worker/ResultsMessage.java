package dev.procpool.internal.worker;

import com.esotericsoftware.kryo.kryo5.Kryo;
import com.esotericsoftware.kryo.kryo5.io.Input;
import com.esotericsoftware.kryo.kryo5.io.KryoBufferOverflowException;
import com.esotericsoftware.kryo.kryo5.io.Output;
import java.io.IOException;
import java.io.OutputStream;

/**
 * RESULTS, worker to parent: the outcomes of the oldest unanswered tasks, in the order they were
 * sent, so no task ids travel back. Each outcome is a status byte, then the value ({@link Elements})
 * or the exception ({@link RemoteFailure}); consecutive {@code Long}, {@code Integer} or {@code Double}
 * values travel instead as one run ({@link ValueRuns}) whose kind byte stands where a status would. Both
 * sides stream: the worker appends outcomes as tasks finish and hands them over in batches, the parent
 * decodes single outcomes one by one and runs in bulk, neither allocating per outcome beyond the value
 * itself (nor that, for a run the parent keeps unboxed).
 */
public final class ResultsMessage {
    public static final byte TYPE = FrameType.RESULTS;
    /** The task returned; its value follows. */
    public static final byte VALUE = 0;
    /** The task threw; the exception follows. */
    public static final byte FAILURE = 1;

    private ResultsMessage() {}

    /**
     * Worker side: outcomes appended as tasks finish, written as one frame. An outcome never makes a
     * frame too big: when it does not fit after the others, they are written first (given the channel);
     * a value too big for a frame of its own becomes its task's failure, saying its size and the limit.
     * Not thread-safe.
     */
    public static final class Encoder {
        /** Writes the encoder's outcomes now ({@link #write}), under whatever guards the channel. */
        @FunctionalInterface
        public interface Sender {
            void sendNow() throws IOException;
        }

        /** The outcome count ahead of the outcomes. */
        private static final int HEAD_BYTES = 5;
        private final Sender sender;
        private Output outcomes = newOutcomes();
        private final Output head = new Output(HEAD_BYTES);
        private int count;
        private final SharedSegments segments;
        private final ValueRuns.Writer runs = new ValueRuns.Writer();
        /** Medium values go here when it has room (the worker's worker-to-parent ring); null: none. */
        private final Ring ring;

        /**
         * An encoder that has earlier outcomes written when a new one needs their room, and writes large
         * values through {@code segments} (null: all inline). The parent unlinks each segment as it reads
         * or skips its value, or sweeps this worker's segments once the worker is dead.
         *
         * @param sender   writes this encoder's outcomes to the channel (other threads write frames too)
         * @param segments where large values go, or null
         */
        public Encoder(Sender sender, SharedSegments segments) {
            this(sender, segments, null);
        }

        /**
         * As {@link #Encoder(Sender, SharedSegments)}, medium values through {@code ring} when it has room; the
         * parent releases each as it reads or skips it.
         */
        public Encoder(Sender sender, SharedSegments segments, Ring ring) {
            this.sender = sender;
            this.segments = segments;
            this.ring = ring;
        }

        /** As {@link #Encoder(Sender, SharedSegments)}, all values inline. */
        public Encoder(Sender sender) {
            this(sender, null);
        }

        /** An encoder that never writes by itself: an outcome that does not fit with the others fails. */
        public Encoder() {
            this((Sender) null);
        }

        private static Output newOutcomes() {
            return new Output(64 * 1024, FrameChannel.MAX_PAYLOAD - HEAD_BYTES);
        }

        /** Appends a returned value; one that cannot be serialized or sent becomes the task's failure instead. */
        public void addValue(Kryo kryo, Object value) throws IOException {
            Throwable failure = tryValue(kryo, value);
            if (failure != null && Elements.isOverflow(failure) && makeRoom()) {
                failure = tryValue(kryo, value);
            }
            if (failure == null) {
                return;
            }
            if (Elements.isOverflow(failure)) {
                addFailure(new IllegalStateException(
                        FrameChannel.tooLarge("the task's result", Elements.measure(kryo, value))));
            } else {
                addFailure(new IllegalArgumentException("the task's result cannot be serialized: "
                        + ThrowableText.describe(failure), failure));
            }
        }

        private Throwable tryValue(Kryo kryo, Object value) {
            try {
                if (runs.append(outcomes, value)) { // the output is as it was when this throws
                    count++;
                    return null;
                }
            } catch (Throwable notWritten) {
                return notWritten;
            }
            int mark = outcomes.position();
            try {
                outcomes.writeByte(VALUE);
                Elements.write(kryo, outcomes, value, segments, null, ring);
            } catch (Throwable notWritten) {
                outcomes.setPosition(mark);
                return notWritten;
            }
            count++;
            return null;
        }

        /** Appends the task's exception, however it behaves ({@link RemoteFailure#capture}). */
        public void addFailure(Throwable failure) throws IOException {
            RemoteFailure.Captured captured = RemoteFailure.capture(failure);
            if (tryFailure(captured, true) || makeRoom() && tryFailure(captured, true)) {
                return;
            }
            if (!tryFailure(captured, false)) { // the text alone is bounded well below a frame
                throw new IllegalStateException("a task failure does not fit in an empty frame");
            }
        }

        private boolean tryFailure(RemoteFailure.Captured failure, boolean rebuildable) {
            runs.close(outcomes);
            int mark = outcomes.position();
            try {
                outcomes.writeByte(FAILURE);
                RemoteFailure.write(outcomes, failure, rebuildable);
            } catch (KryoBufferOverflowException full) {
                outcomes.setPosition(mark);
                return false;
            }
            count++;
            return true;
        }

        /** Writes the outcomes so far, if any and if there is a channel; true if the buffer is empty now and was not. */
        private boolean makeRoom() throws IOException {
            if (count == 0 || sender == null) {
                return false;
            }
            sender.sendNow();
            return count == 0;
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
            runs.close(outcomes);
            head.reset();
            head.writeVarInt(count, true);
            FrameChannel.write(out, TYPE, head.getBuffer(), head.position(), outcomes.getBuffer(), outcomes.position());
            // one huge result must not pin its buffer for the worker's life
            if (outcomes.getBuffer().length > FrameChannel.KEPT_BUFFER_MAX) {
                outcomes = newOutcomes();
            } else {
                outcomes.reset();
            }
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
        private final ValueRuns.Reader runs = new ValueRuns.Reader();
        private final Ring ring;

        /** A decoder for frames whose values may be in {@code ring} (the worker's worker-to-parent ring); null: none. */
        public Decoder(Ring ring) {
            this.ring = ring;
        }

        public Decoder() {
            this(null);
        }

        /** Starts on a RESULTS frame; returns how many outcomes it holds. */
        public int begin(FrameChannel.Frame frame) {
            in.setBuffer(frame.payload(), 0, frame.length());
            runs.reset();
            return in.readVarInt(true);
        }

        /**
         * {@link #VALUE}, {@link #FAILURE}, or the kind of the run the next value belongs to
         * ({@link ValueRuns#LONGS}, {@link ValueRuns#INTS}, {@link ValueRuns#DOUBLES}): then {@link #runLeft}
         * values of it follow, to be taken with {@link #takeRun} or one by one with {@link #value}.
         */
        public byte status() throws FrameChannel.CorruptFrameException {
            if (runs.left() > 0) {
                return runs.kind();
            }
            byte status = in.readByte();
            if (status == VALUE || status == FAILURE) {
                return status;
            }
            if (ValueRuns.isRun(status)) {
                runs.begin(status, in);
                return status;
            }
            throw new FrameChannel.CorruptFrameException("bad result status " + status);
        }

        /** Values left in the current run (0 outside one). */
        public int runLeft() {
            return runs.left();
        }

        /**
         * Copies the next {@code n} values of the current run into {@code to[0..n)} as 64 bits each
         * ({@link ValueRuns#box} tells how to box them) and passes over them.
         */
        public void takeRun(long[] to, int n) {
            runs.take(in, to, n);
        }

        /** The value; throws what Kryo throws when it cannot be rebuilt, positioned after it either way. */
        public Object value(Kryo kryo) {
            return runs.left() > 0 ? runs.next(in) : Elements.read(kryo, in, ring);
        }

        /** Passes over a value nobody wants any more. */
        public void skipValue(Kryo kryo) {
            if (runs.left() > 0) {
                runs.next(in);
            } else {
                Elements.skip(kryo, in, ring);
            }
        }

        /** The task's exception, rebuilt with {@code loader} where its class is known. */
        public RemoteFailure failure(ClassLoader loader) {
            return RemoteFailure.read(in, loader);
        }
    }
}
