package dev.procpool.internal.process;

import dev.procpool.internal.engine.Chunk;
import dev.procpool.internal.engine.Job;
import dev.procpool.internal.worker.SharedSegments;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;

/**
 * The chunks sent to one worker and not yet answered in full, oldest first. The worker runs and
 * answers tasks in the order they were sent, numbering them with one sequence, so answers always
 * belong to the oldest chunk and a sequence number (from the running-task slot) names one task here.
 *
 * <p>Not thread-safe: the worker guards it with its lock. Only the reader thread advances
 * {@link Sent#answered}, so the reader may read it without the lock.
 */
final class InFlightChunks {
    /**
     * One chunk as sent: the sequence number of its first task, how many of its tasks are answered, and
     * the shared-memory segments of its large inputs (deleted once it is answered in full or the worker is dead).
     */
    static final class Sent {
        final Chunk chunk;
        final long firstSequence;
        final List<Path> segments;
        int answered;

        Sent(Chunk chunk, long firstSequence, List<Path> segments) {
            this.chunk = chunk;
            this.firstSequence = firstSequence;
            this.segments = segments;
        }

        /** Deletes what is left of its input segments: the worker has read them, or never will. */
        void deleteSegments() {
            SharedSegments.deleteAll(segments);
        }
    }

    private final ArrayDeque<Sent> chunks = new ArrayDeque<>();
    private int unansweredTasks;
    private long tasksSent;

    void add(Chunk chunk, long firstSequence, List<Path> segments) {
        chunks.addLast(new Sent(chunk, firstSequence, segments));
        unansweredTasks += chunk.size();
        tasksSent += chunk.size();
    }

    /** The chunk the next answers belong to, or null. */
    Sent oldest() {
        return chunks.peekFirst();
    }

    /** Counts {@code count} more answers for the oldest chunk; true when that completed it (it is gone then). */
    boolean answer(Sent oldest, int count) {
        unansweredTasks -= count;
        oldest.answered += count;
        if (oldest.answered < oldest.chunk.size()) {
            return false;
        }
        chunks.removeFirst();
        return true;
    }

    boolean isEmpty() {
        return chunks.isEmpty();
    }

    int chunkCount() {
        return chunks.size();
    }

    int unansweredTasks() {
        return unansweredTasks;
    }

    /** Tasks ever sent to this worker (its recycling budget counts these). */
    long tasksSent() {
        return tasksSent;
    }

    /** True when {@code sequence} is at or past the first unanswered task: the slot names work still owed. */
    boolean isUnanswered(long sequence) {
        Sent oldest = chunks.peekFirst();
        return oldest != null && sequence >= oldest.firstSequence + oldest.answered;
    }

    /** The call whose unanswered task has number {@code sequence}, or null. */
    Job jobOf(long sequence) {
        for (Sent sent : chunks) {
            long position = sequence - sent.firstSequence;
            if (position >= sent.answered && position < sent.chunk.size()) {
                return sent.chunk.job();
            }
        }
        return null;
    }

    /** Everything still held, oldest first; leaves this empty. */
    List<Sent> takeAll() {
        List<Sent> all = new ArrayList<>(chunks);
        chunks.clear();
        unansweredTasks = 0;
        return all;
    }
}
