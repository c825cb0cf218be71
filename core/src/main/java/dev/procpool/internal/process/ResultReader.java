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
import com.esotericsoftware.kryo.kryo5.Kryo;
import java.io.IOException;
import java.io.InputStream;
import java.util.Arrays;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The worker's stdout, on a thread of its own from the handshake to the end of the channel: READY
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
    private final ResultsMessage.Decoder results;
    // The frame being decoded (results never alias it), and one run of answers for one chunk.
    private byte[] frameBuffer = new byte[64 * 1024];
    private Object[] answerValues = new Object[64];
    private ProcessPoolException[] answerFailures = new ProcessPoolException[64];

    ResultReader(WorkerProcess worker, WorkerJvm jvm, Object initializer) {
        this.worker = worker;
        this.jvm = jvm;
        this.results = new ResultsMessage.Decoder(jvm.rings() == null ? null : jvm.rings().toParent());
        this.initializerLoader = initializer == null ? null : initializer.getClass().getClassLoader();
    }

    @Override
    public void run() {
        String corruption = null;
        try {
            InputStream stdout = jvm.stdout();
            Kryo kryo = KryoSetup.newKryo(ResultReader.class.getClassLoader());
            if (awaitReady(stdout)) {
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
    private boolean awaitReady(InputStream stdout) throws IOException {
        FrameChannel.Frame frame = FrameChannel.read(stdout);
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
     * that belongs to one chunk is decoded first, then handed to its call at once.
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
            for (int k = 0; k < run; k++) {
                long index = chunk.indices()[from + k];
                answerValues[k] = null;
                answerFailures[k] = null;
                if (results.status() == ResultsMessage.VALUE) {
                    readValue(kryo, job, index, k);
                } else {
                    answerFailures[k] = TaskFailures.remote(index, results.failure(job.classLoader));
                }
            }
            if (!job.isFinished()) {
                job.answered(chunk, from, answerValues, answerFailures, run);
            }
            Arrays.fill(answerValues, 0, run, null); // the caller owns the results now
            Arrays.fill(answerFailures, 0, run, null);
            count -= run;
            roomMade |= worker.answered(oldest, run);
        }
        if (roomMade) {
            worker.fill(false);
        }
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
