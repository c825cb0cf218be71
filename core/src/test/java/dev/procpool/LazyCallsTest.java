package dev.procpool;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.procpool.contract.ContractTasks;
import dev.procpool.contract.ContractTasks.Endless;
import dev.procpool.testing.NoProcessLeft;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.LongStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** imap and imapUnordered: laziness, bounded read-ahead, failures, early close; both modes. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(value = 60, unit = TimeUnit.SECONDS)
@NoProcessLeft(NoProcessLeft.Scope.CLASS)
class LazyCallsTest {
    private final Map<PoolMode, ProcessPool> pools = new HashMap<>();

    @BeforeAll
    void startPools() {
        pools.put(PoolMode.PROCESSES, PoolTestSupport.pool(PoolMode.PROCESSES, 2));
        pools.put(PoolMode.THREADS, PoolTestSupport.pool(PoolMode.THREADS, 2));
    }

    @AfterAll
    void closePools() throws InterruptedException {
        pools.values().forEach(ProcessPool::close);
    }

    @ParameterizedTest
    @EnumSource(value = PoolMode.class, names = {"PROCESSES", "THREADS"})
    void imapOverAnEndlessInputYieldsTheFirstResultsInOrder(PoolMode mode) {
        Endless input = new Endless();
        List<Long> first = new ArrayList<>();
        try (ResultIterator<Long> results = pools.get(mode).imap((Long x) -> x * x, input, 100)) {
            while (first.size() < 1000) {
                first.add(results.next());
            }
        }
        assertThat(first).isEqualTo(LongStream.range(0, 1000).map(x -> x * x).boxed().collect(Collectors.toList()));
    }

    @ParameterizedTest
    @EnumSource(value = PoolMode.class, names = {"PROCESSES", "THREADS"})
    void aPausedConsumerPausesTheWork(PoolMode mode) throws InterruptedException {
        Endless input = new Endless();
        int chunk = 50;
        try (ResultIterator<Long> results = pools.get(mode).imap((Long x) -> x + 1, input, chunk)) {
            assertThat(results.next()).isEqualTo(1L);
            long pulledWhilePaused = input.settled();
            // read-ahead is a few chunks per worker, however long the consumer pauses
            assertThat(pulledWhilePaused).isLessThanOrEqualTo(chunk * 2 * 5);

            for (long i = 1; i < 5000; i++) {
                assertThat(results.next()).isEqualTo(i + 1);
            }
            assertThat(input.settled()).isLessThanOrEqualTo(5000 + chunk * 2 * 5);
        }
    }

    @ParameterizedTest
    @EnumSource(value = PoolMode.class, names = {"PROCESSES", "THREADS"})
    void closingTheIteratorEarlyStopsTheWorkAndThePoolGoesOn(PoolMode mode) throws InterruptedException {
        Endless input = new Endless();
        ResultIterator<Long> results = pools.get(mode).imapUnordered((Long x) -> x, input, 10);
        assertThat(results.hasNext()).isTrue();
        results.next();
        results.close();

        long pulled = input.settled();
        assertThat(results.hasNext()).isFalse();
        assertThat(pulled).isLessThan(1000);
        assertThat(pools.get(mode).map((Long x) -> x * 2, List.of(1L, 2L))).containsExactly(2L, 4L);
        assertThat(input.pulled.get()).isEqualTo(pulled);
    }

    @ParameterizedTest
    @EnumSource(value = PoolMode.class, names = {"PROCESSES", "THREADS"})
    void imapUnorderedYieldsEveryResultOnce(PoolMode mode) {
        List<Integer> inputs = new ArrayList<>();
        for (int i = 0; i < 500; i++) {
            inputs.add(i);
        }
        Set<Integer> seen = new HashSet<>();
        List<Integer> all = new ArrayList<>();
        // an Iterable that is not a Collection: the chunk size adapts
        Iterable<Integer> unknownSize = inputs::iterator;
        pools.get(mode).imapUnordered((Integer i) -> -i, unknownSize).forEachRemaining(r -> {
            all.add(r);
            seen.add(r);
        });
        assertThat(all).hasSize(500);
        assertThat(seen).hasSize(500).contains(0, -499);
    }

    @ParameterizedTest
    @EnumSource(value = PoolMode.class, names = {"PROCESSES", "THREADS"})
    void aFailedInputThrowsAtItsPlaceAndTheIterationGoesOn(PoolMode mode) {
        ResultIterator<Integer> results = pools.get(mode).imap((Integer i) -> {
            if (i == 2) {
                throw new IllegalArgumentException("two");
            }
            return i * 10;
        }, List.of(0, 1, 2, 3), 1);
        assertThat(results.next()).isEqualTo(0);
        assertThat(results.next()).isEqualTo(10);
        assertThatThrownBy(results::next).isInstanceOfSatisfying(TaskFailedException.class, e -> {
            assertThat(e.inputIndex()).isEqualTo(2);
            assertThat(e.getCause()).isInstanceOf(IllegalArgumentException.class).hasMessage("two");
        });
        assertThat(results.next()).isEqualTo(30);
        assertThat(results.hasNext()).isFalse();
    }

    @ParameterizedTest
    @EnumSource(value = PoolMode.class, names = {"PROCESSES", "THREADS"})
    void anInputIteratorThatThrowsEndsTheIterationWithItsFailure(PoolMode mode) {
        Iterable<Integer> failing = ContractTasks.failingAt(3);
        ResultIterator<Integer> results = pools.get(mode).imap((Integer i) -> i, failing, 1);
        assertThat(results.next()).isEqualTo(0);
        assertThat(results.next()).isEqualTo(1);
        assertThat(results.next()).isEqualTo(2);
        assertThatThrownBy(results::next).isInstanceOf(ProcessPoolException.class)
                .hasRootCauseInstanceOf(IllegalStateException.class)
                .hasMessageContaining("source broke");
        assertThat(results.hasNext()).isFalse();
    }

    @ParameterizedTest
    @EnumSource(value = PoolMode.class, names = {"PROCESSES", "THREADS"})
    void closeDoesNotWaitForAnEndlessImapAndItsIteratorSaysSo(PoolMode mode) throws InterruptedException {
        Endless input = new Endless();
        ProcessPool pool = PoolTestSupport.pool(mode, 2);
        ResultIterator<Long> results = pool.imap((Long x) -> x, input, 10);
        assertThat(results.next()).isEqualTo(0L);
        input.settled(); // the consumer pauses; the feeder waits for room
        List<Long> workerPids = pool.stats().workers().stream().map(PoolStats.Worker::pid)
                .filter(pid -> pid != ProcessHandle.current().pid()).collect(Collectors.toList());

        pool.close(); // bounded by the class's @Timeout: it must not wait for the endless input

        long read = input.pulled.get();
        long delivered = 1;
        try {
            while (results.hasNext()) {
                assertThat(results.next()).isEqualTo(delivered++);
            }
            throw new AssertionError("the iteration should end with a failure");
        } catch (ProcessPoolException e) {
            assertThat(e).hasMessageContaining("closed before the input was read to its end");
        }
        assertThat(delivered).isEqualTo(read);
        FaultTestSupport.awaitAllGone("this pool's workers", new java.util.HashSet<>(workerPids),
                java.time.Duration.ofSeconds(5));
    }
}
