package dev.procpool.internal.process;

import dev.procpool.TaskTimeoutException;
import dev.procpool.internal.engine.Chunk;
import dev.procpool.internal.engine.Job;
import dev.procpool.internal.engine.Scheduler;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/** Carries out {@link CrashTriage}'s verdicts on the tasks a dead worker held: fails, retries or re-queues each. */
final class DeadWorkerTasks {
    private DeadWorkerTasks() {}

    /** Returns the input indexes that will run again as retries, for the log. */
    static List<Long> settle(List<InFlightChunks.Sent> held, CrashTriage.Death death, int retries, Duration taskTimeout,
            Scheduler scheduler, WorkerExitReport report) {
        if (held.isEmpty()) {
            return List.of();
        }
        List<CrashTriage.Held> view = new ArrayList<>(held.size());
        for (InFlightChunks.Sent sent : held) {
            view.add(new CrashTriage.Held(sent.firstSequence, sent.chunk.size(), sent.answered,
                    sent.chunk.job().isFinished()));
        }
        List<CrashTriage.Verdict> verdicts = CrashTriage.triage(view, death, retries, (c, position) -> {
            Chunk chunk = held.get(c).chunk;
            return chunk.job().crashes(chunk.indices()[position]);
        });
        List<Long> retried = new ArrayList<>();
        int next = 0;
        for (int c = 0; c < held.size(); c++) {
            Chunk chunk = held.get(c).chunk;
            Job job = chunk.job();
            List<Integer> keep = new ArrayList<>();
            for (; next < verdicts.size() && verdicts.get(next).chunk() == c; next++) {
                int position = verdicts.get(next).position();
                long index = chunk.indices()[position];
                if (job.isFinished()) { // an earlier failure may have just ended the call
                    continue;
                }
                switch (verdicts.get(next).fate()) {
                    case REQUEUE -> keep.add(position);
                    case RETRY -> {
                        job.recordCrash(index);
                        job.counters.retried.incrementAndGet();
                        keep.add(position);
                        retried.add(index);
                    }
                    case CRASHED -> {
                        job.recordCrash(index);
                        job.failed(index, report.crashOf(index));
                    }
                    case TIMED_OUT -> job.failed(index, new TaskTimeoutException(index, taskTimeout));
                }
            }
            if (!keep.isEmpty()) {
                scheduler.requeue(subset(chunk, keep));
            }
        }
        return retried;
    }

    private static Chunk subset(Chunk chunk, List<Integer> positions) {
        long[] indices = new long[positions.size()];
        Object[] inputs = new Object[positions.size()];
        for (int i = 0; i < positions.size(); i++) {
            indices[i] = chunk.indices()[positions.get(i)];
            inputs[i] = chunk.inputs()[positions.get(i)];
        }
        return new Chunk(chunk.job(), indices, inputs);
    }
}
