package dev.procpool.internal.process;

import dev.procpool.ProcessPoolException;
import dev.procpool.internal.engine.Chunk;
import dev.procpool.internal.engine.Job;
import dev.procpool.internal.engine.TaskFailures;
import dev.procpool.internal.worker.CodeMessage;
import dev.procpool.internal.worker.FrameChannel;
import dev.procpool.internal.worker.HeartbeatMessage;
import dev.procpool.internal.worker.InitFailedMessage;
import dev.procpool.internal.worker.KryoSetup;
import dev.procpool.internal.worker.ReadyMessage;
import dev.procpool.internal.worker.ResultsMessage;
import dev.procpool.internal.worker.SharedMessage;
import dev.procpool.internal.worker.ValueRuns;
import com.esotericsoftware.kryo.kryo5.Kryo;
import java.io.IOException;
import java.io.InputStream;
import java.util.Arrays;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The worker's stdout from the handshake to the end of the channel, on the JVM's reader thread (which
 * {@link SpareJvm} starts and which reads BOOTED and PONGs itself before a pool takes the JVM): READY
 * (or INIT_FAILED), then RESULTS frames whose answers go to their calls as they arrive. When the
 * channel ends, cleanly or not, it hands over to {@link WorkerProcess#channelEnded}, which settles
 * the worker's fate. A channel that carries anything but frames is corrupt: the worker is killed and
 * handled as a crash, never read on as if nothing happened.
 */
final class ResultReader implements Runnable {
    private static final Logger log = LoggerFactory.getLogger(ResultReader.class);

    private final WorkerProcess worker;
    private final WorkerJvm jvm;
    private final ClassLoader initializerLoader;
    /** The first frame after BOOTED (null: the channel ended), read by the JVM's reader before the worker was bound. */
    private final FrameChannel.Frame first;
    /** Why reading up to {@link #first} failed, or null. */
    private final String failedBefore;
    private final ResultsMessage.Decoder results;
    // The frame being decoded (results never alias it), and one run of answers for one chunk.
    private byte[] frameBuffer = new byte[64 * 1024];
    private Object[] answerValues = new Object[64];
    private ProcessPoolException[] answerFailures = new ProcessPoolException[64];
    /** Packed values of one run, as {@link ValueRuns} hands them over. */
    private long[] packed = new long[1024];

    ResultReader(WorkerProcess worker, WorkerJvm jvm, Object initializer, FrameChannel.Frame first,
            String failedBefore) {
        this.worker = worker;
        this.first = first;
        this.failedBefore = failedBefore;
        this.jvm = jvm;
        this.results = new ResultsMessage.Decoder(jvm.rings() == null ? null : jvm.rings().toParent());
        this.initializerLoader = initializer == null ? null : initializer.getClass().getClassLoader();
    }

    @Override
    public void run() {
        if (failedBefore != null) {
            worker.channelEnded(failedBefore);
            return;
        }
        String corruption = null;
        try {
            InputStream stdout = jvm.stdout();
            Kryo kryo = KryoSetup.newKryo(ResultReader.class.getClassLoader());
            if (awaitReady()) {
                while (true) {
                    FrameChannel.Frame frame = FrameChannel.read(stdout, frameBuffer);
                    if (frame == null) {
                        break;
                    }
                    frameBuffer = FrameChannel.keep(frame.payload(), frameBuffer);
                    worker.heard();
                    if (frame.type() == HeartbeatMessage.PONG) {
                        continue;
                    }
                    if (CodeMessage.isRequest(frame.type())) {
                        worker.answer(CodeMessage.readRequest(frame));
                        continue;
                    }
                    if (frame.type() == SharedMessage.REQUEST) {
                        worker.answerShared(SharedMessage.readRequest(frame));
                        continue;
                    }
                    if (frame.type() != ResultsMessage.TYPE) {
                        throw new FrameChannel.CorruptFrameException("unexpected frame type " + frame.type());
                    }
                    readResults(kryo, frame);
                }
            }
        } catch (FrameChannel.CorruptFrameException e) {
            corruption = "corrupt channel: " + e.getMessage();
        } catch (IOException e) {
            corruption = "channel failed: " + e;
        } catch (RuntimeException | Error e) {
            corruption = "channel failed: " + e;
            log.error("worker-{}: unexpected failure reading the channel", worker.id, e);
        }
        worker.channelEnded(corruption);
    }

    /** The handshake: true once the worker is ready, false when it ended first or its initializer failed. */
    private boolean awaitReady() throws IOException {
        FrameChannel.Frame frame = first;
        if (frame == null) {
            return false;
        }
        if (frame.type() == InitFailedMessage.TYPE) {
            worker.initializerFailed(InitFailedMessage.read(frame, initializerLoader));
            return false;
        }
        if (frame.type() != ReadyMessage.TYPE) {
            throw new FrameChannel.CorruptFrameException("expected READY, got frame type " + frame.type());
        }
        worker.ready(ReadyMessage.read(frame));
        return true;
    }

    /**
     * Takes one RESULTS frame: the answers to the oldest unanswered tasks, in order. Each run of answers
     * that belongs to one chunk is decoded first, then handed to its call at once; values that came packed
     * ({@link ValueRuns}) are handed over as they are, unboxed, with one call per run.
     */
    private void readResults(Kryo kryo, FrameChannel.Frame frame) throws IOException {
        int count = results.begin(frame);
        boolean roomMade = false;
        while (count > 0) {
            InFlightChunks.Sent oldest = worker.oldestUnanswered();
            if (oldest == null) {
                throw new FrameChannel.CorruptFrameException("a result arrived for no task");
            }
            Chunk chunk = oldest.chunk;
            Job job = chunk.job();
            int from = oldest.answered;
            int run = Math.min(count, chunk.size() - from);
            if (answerValues.length < run) {
                answerValues = new Object[Math.max(run, 2 * answerValues.length)];
                answerFailures = new ProcessPoolException[answerValues.length];
            }
            if (kryo.getClassLoader() != job.classLoader) {
                kryo.setClassLoader(job.classLoader);
            }
            int k = 0;
            int single = 0; // answers decoded one by one, waiting in the answer buffers: from - single + k on
            while (k < run) {
                byte status = results.status();
                if (ValueRuns.isRun(status)) {
                    deliver(job, chunk, from + k - single, single);
                    single = 0;
                    int n = Math.min(results.runLeft(), run - k);
                    if (packed.length < n) {
                        packed = new long[Math.max(n, Math.min(2 * packed.length, FrameChannel.MAX_PAYLOAD / 8))];
                    }
                    results.takeRun(packed, n);
                    if (!job.isFinished()) {
                        job.answeredRun(chunk, from + k, status, packed, n);
                    }
                    k += n;
                    continue;
                }
                long index = chunk.indices()[from + k];
                answerValues[single] = null;
                answerFailures[single] = null;
                if (status == ResultsMessage.VALUE) {
                    readValue(kryo, job, index, single);
                } else {
                    answerFailures[single] = TaskFailures.remote(index, results.failure(job.classLoader));
                }
                single++;
                k++;
            }
            deliver(job, chunk, from + k - single, single);
            count -= run;
            roomMade |= worker.answered(oldest, run);
        }
        if (roomMade) {
            worker.fill(false);
        }
    }

    /** Hands the {@code n} answers in the answer buffers, for the chunk's tasks from {@code from} on, to their call. */
    private void deliver(Job job, Chunk chunk, int from, int n) {
        if (n == 0) {
            return;
        }
        if (!job.isFinished()) {
            job.answered(chunk, from, answerValues, answerFailures, n);
        }
        Arrays.fill(answerValues, 0, n, null); // the caller owns the results now
        Arrays.fill(answerFailures, 0, n, null);
    }

    /** Decodes one result into slot {@code k} of the answer buffers; one that cannot be rebuilt fails alone. */
    private void readValue(Kryo kryo, Job job, long index, int k) {
        if (job.isFinished()) {
            results.skipValue(kryo);
            return;
        }
        try {
            answerValues[k] = results.value(kryo);
        } catch (RuntimeException | LinkageError e) {
            answerFailures[k] = new ProcessPoolException("the result for input " + index
                    + " cannot be rebuilt in the caller's JVM: " + Job.describe(e), e, index);
        }
    }
}
