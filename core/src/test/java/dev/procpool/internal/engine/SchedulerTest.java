package dev.procpool.internal.engine;

import static org.assertj.core.api.Assertions.assertThat;

import dev.procpool.ProcessPoolException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The queue workers pull from, without any worker: which chunk comes next. */
@Timeout(10)
class SchedulerTest {
    private final Scheduler scheduler = new Scheduler();
    private final PoolCounters counters = new PoolCounters();
    private final FunctionCache functions = new FunctionCache();

    private MapJob job(int inputs, int chunkSize) {
        Object[] values = new Object[inputs];
        Arrays.setAll(values, i -> i);
        return new MapJob((dev.procpool.SerializableFunction<Object, Object>) x -> x, values, chunkSize, counters,
                functions);
    }

    private static String describe(Chunk chunk) {
        return chunk == null ? "none" : "job" + chunk.job().id + Arrays.toString(chunk.indices());
    }

    private List<String> drain() {
        List<String> order = new ArrayList<>();
        for (Chunk chunk; (chunk = scheduler.pollNow()) != null; ) {
            order.add(describe(chunk));
        }
        return order;
    }

    @Test
    void jobsAreServedInSubmissionOrderEachInInputOrder() {
        MapJob first = job(5, 2);
        MapJob second = job(3, 2);
        scheduler.add(first);
        scheduler.add(second);
        assertThat(drain()).containsExactly(
                "job" + first.id + "[0, 1]", "job" + first.id + "[2, 3]", "job" + first.id + "[4]",
                "job" + second.id + "[0, 1]", "job" + second.id + "[2]");
        assertThat(scheduler.hasWorkNow()).isFalse();
    }

    @Test
    void requeuedChunksComeBeforeNewOnes() {
        MapJob first = job(6, 2);
        MapJob second = job(2, 2);
        scheduler.add(first);
        scheduler.add(second);
        Chunk taken = scheduler.pollNow();
        Chunk alsoTaken = scheduler.pollNow();
        scheduler.requeue(taken.tail(1)); // a worker died after answering input 0
        scheduler.requeue(alsoTaken);
        List<String> order = drain();
        assertThat(order.subList(0, 2)).containsExactlyInAnyOrder("job" + first.id + "[1]", "job" + first.id + "[2, 3]");
        assertThat(order.subList(2, order.size()))
                .containsExactly("job" + first.id + "[4, 5]", "job" + second.id + "[0, 1]");
    }

    @Test
    void finishedJobsAreSkippedTheirRequeuedChunksToo() {
        MapJob cancelled = job(6, 2);
        MapJob failed = job(4, 2);
        MapJob live = job(2, 1);
        scheduler.add(cancelled);
        scheduler.add(failed);
        scheduler.add(live);
        Chunk fromCancelled = scheduler.pollNow();
        scheduler.requeue(fromCancelled);
        cancelled.future.cancel(false);
        failed.failAll(new ProcessPoolException("the pool was terminated"));
        assertThat(drain()).containsExactly("job" + live.id + "[0]", "job" + live.id + "[1]");
    }

    @Test
    void aJobAddedLaterWaitsBehindEarlierJobsButNotBehindTheirRequeues() {
        MapJob first = job(2, 1);
        scheduler.add(first);
        Chunk zero = scheduler.pollNow();
        MapJob second = job(1, 1);
        scheduler.add(second);
        scheduler.requeue(zero);
        assertThat(drain()).containsExactly("job" + first.id + "[0]", "job" + first.id + "[1]",
                "job" + second.id + "[0]");
    }

    @Test
    void aClosedSchedulerHandsOutNothingAndWakesItsWaiters() throws Exception {
        scheduler.add(job(4, 1));
        CountDownLatch waiting = new CountDownLatch(1);
        AtomicBoolean answer = new AtomicBoolean(true);
        Scheduler empty = new Scheduler();
        Thread waiter = new Thread(() -> {
            waiting.countDown();
            try {
                answer.set(empty.awaitWork(30, TimeUnit.SECONDS));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        waiter.start();
        waiting.await();
        empty.close();
        waiter.join(5_000);
        assertThat(waiter.isAlive()).as("close() woke the waiting worker").isFalse();
        assertThat(answer.get()).as("no work after close").isFalse();

        scheduler.close();
        assertThat(scheduler.pollNow()).isNull();
        assertThat(scheduler.hasWorkNow()).isFalse();
        assertThat(scheduler.awaitWork(0, TimeUnit.SECONDS)).isFalse();
    }

    @Test
    void aRequeueWakesAWaitingWorker() throws Exception {
        MapJob job = job(1, 1);
        scheduler.add(job);
        Chunk only = scheduler.pollNow();
        assertThat(scheduler.awaitWork(0, TimeUnit.SECONDS)).as("nothing left to take").isFalse();
        AtomicBoolean answer = new AtomicBoolean();
        Thread waiter = new Thread(() -> {
            try {
                answer.set(scheduler.awaitWork(30, TimeUnit.SECONDS));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        waiter.start();
        scheduler.requeue(only);
        waiter.join(5_000);
        assertThat(waiter.isAlive()).as("the requeue woke the waiting worker").isFalse();
        assertThat(answer.get()).isTrue();
        assertThat(describe(scheduler.pollNow())).isEqualTo("job" + job.id + "[0]");
    }
}
