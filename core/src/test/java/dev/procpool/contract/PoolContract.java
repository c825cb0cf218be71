package dev.procpool.contract;

import static dev.procpool.contract.ContractTasks.await;
import static dev.procpool.contract.ContractTasks.countLines;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.procpool.Pool;
import dev.procpool.PoolMode;
import dev.procpool.ProcessPoolException;
import dev.procpool.ResultIterator;
import dev.procpool.SerializableCallable;
import dev.procpool.SerializableRunnable;
import dev.procpool.Shared;
import dev.procpool.TaskFailedException;
import dev.procpool.contract.ContractTasks.Endless;
import dev.procpool.testing.NoProcessLeft;
import dev.procpool.testing.ProcessTree;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.AbstractMap;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import java.util.stream.LongStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Disabled;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * What every {@link Pool} promises, written once against the interface and run per implementation, the
 * way the JSR-166 TCK or loky's test mixins run one suite per executor: results and their order, laziness,
 * failures and their input indexes, interruption, cancellation, close and terminate, the executor view.
 *
 * <p>A subclass supplies {@link #newPool(int)} and the {@link #expectedMode()}, and says through the
 * capability hooks what its engine cannot do yet (those tests are skipped, not passed). Each test builds its
 * own pools through {@link #pool(int)}: whatever a test leaves open is terminated after it, and
 * {@link NoProcessLeft} fails a test that leaves a process behind. Tasks talk to the test through files in
 * {@link #dir}, so the suite works wherever the tasks run on this machine.
 *
 * <p>Another module runs it through core's test-jar ({@code <type>test-jar</type>}, as {@code cluster}
 * does): a subclass there builds its pools in {@link #newPool(int)} (for the cluster: a {@code ClusterPool}
 * on members started once for the class, with {@link #parallelism(int)} members times workers).
 *
 * <p>The test methods are public so that a subclass in any package can override one to mark a known bug
 * of its engine: {@code @Test @Disabled("bug: ...") @Override public void ...() {}}.
 *
 * <p>Tasks are lambdas that capture only strings and numbers (never {@code this}: the test instance holds
 * pools) and call the static helpers of {@link ContractTasks}.
 */
@NoProcessLeft
@Timeout(value = 60, unit = TimeUnit.SECONDS)
public abstract class PoolContract {
    /** How long a pool may take to answer what should be prompt, on a loaded machine. */
    private static final long PROMPT_MILLIS = 5_000;

    @TempDir
    protected Path dir;

    private final List<Pool> pools = new ArrayList<>();

    /**
     * Builds a pool of the implementation under test.
     *
     * @param workers how many tasks it runs at once
     * @return a new open pool
     */
    protected abstract Pool newPool(int workers);

    /** The mode the implementation's pools report. */
    protected abstract PoolMode expectedMode();

    /** True when tasks run in other processes: then a cancelled running task's process must be gone. */
    protected boolean tasksRunInOtherProcesses() {
        return expectedMode() == PoolMode.PROCESSES;
    }

    /** False for an engine without {@link Pool#asExecutorService()} yet: its tests are skipped. */
    protected boolean offersExecutorService() {
        return true;
    }

    /** False for an engine that cannot stop a running task yet ({@code cancel(true)}): its tests are skipped. */
    protected boolean stopsCancelledTasks() {
        return true;
    }

    /** How many tasks a pool built with {@code workers} runs at once (a cluster: members times workers). */
    protected int parallelism(int workers) {
        return workers;
    }

    /** A pool for this test; terminated after it if the test left it open. */
    protected final Pool pool(int workers) {
        Pool pool = newPool(workers);
        pools.add(pool);
        return pool;
    }

    @AfterEach
    final void terminatePools() {
        pools.forEach(Pool::terminate);
    }

    static List<Integer> range(int from, int to) {
        return IntStream.range(from, to).boxed().collect(Collectors.toList());
    }

    static List<Integer> times(List<Integer> inputs, int factor) {
        return inputs.stream().map(x -> x * factor).collect(Collectors.toList());
    }

    /** An Iterable that is not a Collection: its size is unknown to the pool. */
    static <T> Iterable<T> unsized(List<T> list) {
        return list::iterator;
    }

    // ================================================================================ results and order

    @Test
    public void modeIsTheImplementationsOwn() {
        assertThat(pool(1).mode()).isEqualTo(expectedMode());
    }

    @Test
    public void mapKeepsInputOrderWithTheDefaultChunkSize() {
        Pool pool = pool(2);
        List<Integer> inputs = range(0, 1000);
        assertThat(pool.map(x -> x * 3, inputs)).isEqualTo(times(inputs, 3));
        assertThat(pool.map(x -> x * 3, unsized(inputs))).as("an input of unknown size").isEqualTo(times(inputs, 3));
    }

    @Test
    public void mapKeepsInputOrderWithAnyExplicitChunkSize() {
        Pool pool = pool(2);
        List<Integer> inputs = range(0, 301);
        for (int chunkSize : new int[] {1, 2, 7, 64, 301, 5000}) {
            assertThat(pool.map(x -> x * 3, inputs, chunkSize)).as("chunk size %d", chunkSize)
                    .isEqualTo(times(inputs, 3));
        }
    }

    @Test
    public void resultsKeepInputOrderWhenEarlierTasksTakeLonger() {
        Pool pool = pool(2);
        List<Integer> inputs = range(0, 20);
        List<Integer> results = pool.map(x -> {
            ContractTasks.pause(x < 4 ? 150 : 1); // the first inputs finish last
            return x * 2;
        }, inputs, 1);
        assertThat(results).isEqualTo(times(inputs, 2));
    }

    @Test
    public void anEmptyInputGivesEmptyResultsFromEveryCall() throws Exception {
        Pool pool = pool(2);
        List<Integer> none = List.of();
        assertThat(pool.map(x -> x, none)).isEmpty();
        assertThat(pool.map(x -> x, none, 3)).isEmpty();
        assertThat(pool.map(x -> x, unsized(none))).isEmpty();
        assertThat(pool.mapAsync(x -> x, none).get(PROMPT_MILLIS, TimeUnit.MILLISECONDS)).isEmpty();
        assertThat(pool.starmap((Integer a, Integer b) -> a + b, List.<Map.Entry<Integer, Integer>>of())).isEmpty();
        try (ResultIterator<Integer> results = pool.imap(x -> x, none)) {
            assertThat(results.hasNext()).isFalse();
        }
        try (ResultIterator<Integer> results = pool.imapUnordered(x -> x, unsized(none), 4)) {
            assertThat(results.hasNext()).isFalse();
        }
    }

    @Test
    public void nullInputsAndResultsTravel() throws Exception {
        Pool pool = pool(2);
        List<Integer> inputs = Arrays.asList(1, null, 3, null);
        List<Integer> expected = Arrays.asList(2, null, 4, null);
        assertThat(pool.map(x -> x == null ? null : x + 1, inputs)).isEqualTo(expected);
        assertThat(pool.map(x -> x == null ? null : x + 1, inputs, 1)).isEqualTo(expected);
        assertThat(pool.apply((Integer x) -> x == null ? "null in" : "not null", null)).isEqualTo("null in");
        assertThat(pool.submit(() -> null).get(30, TimeUnit.SECONDS)).isNull();
        List<Integer> lazily = new ArrayList<>();
        pool.imap((Integer x) -> x == null ? null : x + 1, inputs, 1).forEachRemaining(lazily::add);
        assertThat(lazily).isEqualTo(expected);
        List<Map.Entry<String, Integer>> pairs = List.of(new AbstractMap.SimpleEntry<>(null, 1),
                new AbstractMap.SimpleEntry<>("b", null));
        assertThat(pool.starmap((String a, Integer b) -> a + "/" + b, pairs)).containsExactly("null/1", "b/null");
    }

    /** Runs of longs, ints and doubles with nulls, strings and other values among them, in one chunk or many. */
    static List<Object> smallValuesOfEveryKind() {
        List<Object> values = new ArrayList<>();
        for (long i = 0; i < 300; i++) {
            values.add(i * 1_000_000_007L);
        }
        values.addAll(Arrays.asList(null, Long.MIN_VALUE, Long.MAX_VALUE, 7, Integer.MIN_VALUE, -1, 0.5, -0.0, Double.NaN,
                "text", "", null, 1L, 2, 3.0, (byte) 4, 'c', true, new byte[] {5}, List.of(6L, 7L), 8L, 9L));
        for (int i = 0; i < 200; i++) {
            values.add(i % 3 == 0 ? (Object) (double) i : i % 3 == 1 ? (Object) i : null);
        }
        return values;
    }

    @Test
    public void smallValuesOfEveryKindTravelInOrderWithTheirTypesInAnyChunking() {
        Pool pool = pool(2);
        List<Object> values = smallValuesOfEveryKind();
        for (int chunkSize : new int[] {0, 1, 7, values.size()}) {
            List<Object> results = pool.map(x -> x instanceof byte[] bytes ? List.of(bytes.length) : x, values, chunkSize);
            assertThat(results).as("chunk size %d", chunkSize).hasSize(values.size());
            for (int i = 0; i < values.size(); i++) {
                Object expected = values.get(i) instanceof byte[] ? List.of(1) : values.get(i);
                assertThat(results.get(i)).as("result %d, chunk size %d", i, chunkSize).isEqualTo(expected);
                assertThat(results.get(i) == null ? null : results.get(i).getClass()).as("type of result %d", i)
                        .isEqualTo(expected == null ? null : expected.getClass());
            }
        }
        List<Long> squares = pool.map((Long x) -> x * x, LongStream.range(-5000, 5000).boxed().collect(Collectors.toList()));
        assertThat(squares).isEqualTo(LongStream.range(-5000, 5000).map(x -> x * x).boxed().collect(Collectors.toList()));
    }

    @Test
    public void aFailureInTheMiddleOfARunOfSmallResultsFailsOnlyItsInput() {
        Pool pool = pool(2);
        List<Long> inputs = LongStream.range(0, 2000).boxed().collect(Collectors.toList());
        for (int chunkSize : new int[] {0, 2000}) {
            Throwable thrown = catchThrowable(() -> pool.map((Long x) -> {
                if (x == 1234) {
                    throw new IllegalArgumentException("bad " + x);
                }
                return x * 3;
            }, inputs, chunkSize));
            assertThat(thrown).as("chunk size %d", chunkSize).isInstanceOfSatisfying(TaskFailedException.class,
                    e -> assertThat(e.inputIndex()).isEqualTo(1234));
        }
        try (ResultIterator<Long> results = pool.imap((Long x) -> {
            if (x == 1234) {
                throw new IllegalArgumentException("bad " + x);
            }
            return x * 3;
        }, inputs, 2000)) {
            for (long i = 0; i < 2000; i++) {
                if (i == 1234) {
                    assertThatThrownBy(results::next).isInstanceOfSatisfying(TaskFailedException.class,
                            e -> assertThat(e.inputIndex()).isEqualTo(1234)).cause().hasMessage("bad 1234");
                } else {
                    assertThat(results.next()).as("input %d", i).isEqualTo(i * 3);
                }
            }
            assertThat(results.hasNext()).isFalse();
        }
    }

    @Test
    public void theListMapReturnsCanBeChangedAndSerializedLikeAnArrayList() throws Exception {
        Pool pool = pool(2);
        List<Long> inputs = LongStream.range(0, 1000).boxed().collect(Collectors.toList());
        List<Long> results = pool.map((Long x) -> x + 1, inputs);
        List<Long> expected = LongStream.range(1, 1001).boxed().collect(Collectors.toList());
        assertThat(results).isEqualTo(expected).hasSameHashCodeAs(expected);
        assertThat(results.toArray()).isEqualTo(expected.toArray());
        assertThat(pool.apply((List<Long> list) -> list.get(999) + list.size(), results)).as("travels as an input")
                .isEqualTo(2000L);
        assertThat(pool.apply((Long x) -> new ArrayList<>(List.of(x)), 1L)).isEqualTo(List.of(1L));
        java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
        try (java.io.ObjectOutputStream out = new java.io.ObjectOutputStream(bytes)) {
            out.writeObject(results);
        }
        try (java.io.ObjectInputStream in = new java.io.ObjectInputStream(new java.io.ByteArrayInputStream(bytes.toByteArray()))) {
            assertThat(in.readObject()).isEqualTo(expected);
        }
        results.set(0, -1L);
        results.add(5000L);
        results.remove(1);
        results.sort(null);
        expected.set(0, -1L);
        expected.add(5000L);
        expected.remove(1);
        expected.sort(null);
        assertThat(results).isEqualTo(expected);
        results.subList(10, 20).clear();
        expected.subList(10, 20).clear();
        assertThat(results).isEqualTo(expected);
        assertThat(pool.map((Long x) -> x, List.of(1L, 2L), 1)).as("results of other calls untouched").containsExactly(1L, 2L);
    }

    @Test
    public void starmapAppliesEachPairInOrder() {
        Pool pool = pool(2);
        List<Map.Entry<String, Integer>> pairs = new ArrayList<>();
        for (int i = 0; i < 50; i++) {
            pairs.add(Map.entry(Character.toString('a' + i % 26), i % 4));
        }
        List<String> expected = pairs.stream().map(p -> p.getKey().repeat(p.getValue())).collect(Collectors.toList());
        assertThat(pool.starmap((String s, Integer n) -> s.repeat(n), pairs)).isEqualTo(expected);
        assertThat(pool.starmap(String::repeat, pairs)).as("a method reference").isEqualTo(expected);
    }

    @Test
    public void applyAndSubmitReturnTheirResults() throws Exception {
        Pool pool = pool(2);
        assertThat(pool.apply((Integer x) -> x * 2, 21)).isEqualTo(42);
        CompletableFuture<String> called = pool.submit(() -> "called");
        assertThat(called.get(30, TimeUnit.SECONDS)).isEqualTo("called");
        String ran = dir.resolve("ran").toString();
        CompletableFuture<Void> runnable = pool.submit((SerializableRunnable) () -> ContractTasks.record(ran, "yes"));
        assertThat(runnable.get(30, TimeUnit.SECONDS)).isNull();
        assertThat(countLines(Path.of(ran))).isEqualTo(1);
    }

    @Test
    public void mapAsyncCompletesWithTheResultsInOrder() throws Exception {
        Pool pool = pool(2);
        List<Integer> inputs = range(0, 500);
        CompletableFuture<List<Integer>> byDefault = pool.mapAsync(x -> x + 1, inputs);
        CompletableFuture<List<Integer>> explicit = pool.mapAsync(x -> x + 2, inputs, 7);
        assertThat(byDefault.get(30, TimeUnit.SECONDS)).isEqualTo(inputs.stream().map(x -> x + 1).toList());
        assertThat(explicit.get(30, TimeUnit.SECONDS)).isEqualTo(inputs.stream().map(x -> x + 2).toList());
    }

    // ================================================================================ laziness

    @Test
    public void imapReadsItsInputLazilyWithBoundedReadAhead() {
        Pool pool = pool(2);
        int chunk = 10;
        long bound = (long) chunk * parallelism(2) * 8 + chunk;
        Endless input = new Endless();
        try (ResultIterator<Long> results = pool.imap(x -> x + 1, input, chunk)) {
            assertThat(results.next()).isEqualTo(1L);
            input.consumed.set(1);
            assertThat(input.settled()).as("inputs read while the consumer pauses").isLessThanOrEqualTo(1 + bound);
            for (long i = 1; i < 500; i++) {
                assertThat(results.next()).isEqualTo(i + 1);
                input.consumed.set(i + 1);
            }
            assertThat(input.settled()).as("inputs read after 500 results").isLessThanOrEqualTo(500 + bound);
        }
        assertThat(input.maxLead.get()).as("the most inputs read ahead of the consumer").isLessThanOrEqualTo(bound);
    }

    @Test
    public void imapOverAnEndlessInputYieldsTheFirstResultsInOrder() {
        Pool pool = pool(2);
        for (int chunkSize : new int[] {0, 1, 100}) {
            List<Long> first = new ArrayList<>();
            try (ResultIterator<Long> results = pool.imap(x -> x * x, new Endless(), chunkSize)) {
                while (first.size() < 2000) {
                    first.add(results.next());
                }
            }
            assertThat(first).as("chunk size %d", chunkSize)
                    .isEqualTo(LongStream.range(0, 2000).map(x -> x * x).boxed().toList());
        }
    }

    @Test
    public void imapWithTheDefaultChunkSizeKeepsInputOrder() {
        Pool pool = pool(2);
        List<Integer> inputs = range(0, 777);
        List<Integer> known = new ArrayList<>();
        pool.imap(x -> -x, inputs).forEachRemaining(known::add);
        List<Integer> unknown = new ArrayList<>();
        pool.imap(x -> -x, unsized(inputs)).forEachRemaining(unknown::add);
        assertThat(known).isEqualTo(times(inputs, -1));
        assertThat(unknown).isEqualTo(times(inputs, -1));
    }

    @Test
    public void imapUnorderedYieldsEveryResultExactlyOnce() {
        Pool pool = pool(2);
        List<Integer> inputs = range(0, 500);
        for (int chunkSize : new int[] {0, 1, 33}) {
            List<Integer> all = new ArrayList<>();
            pool.imapUnordered(x -> {
                ContractTasks.pause(x % 50 == 0 ? 20 : 0);
                return -x;
            }, unsized(inputs), chunkSize).forEachRemaining(all::add);
            Collections.sort(all);
            List<Integer> expected = times(inputs, -1);
            Collections.sort(expected);
            assertThat(all).as("chunk size %d", chunkSize).isEqualTo(expected);
        }
    }

    @Test
    public void closingTheIteratorStopsReadingTheInputAndThePoolGoesOn() {
        Pool pool = pool(2);
        Endless input = new Endless();
        ResultIterator<Long> results = pool.imapUnordered(x -> x, input, 10);
        assertThat(results.hasNext()).isTrue();
        results.next();
        results.close();
        long pulled = input.settled();
        assertThat(results.hasNext()).isFalse();
        assertThat(pool.map(x -> x * 2, List.of(1, 2))).containsExactly(2, 4);
        assertThat(input.pulled.get()).as("no more input read after close").isEqualTo(pulled);
    }

    // ================================================================================ failures and their indexes

    @Test
    public void mapThrowsTheFailureOfTheLowestFailingIndexWhateverArrivesFirst() {
        Pool pool = pool(2);
        List<Integer> inputs = range(0, 40);
        for (int chunkSize : new int[] {1, 0}) {
            // input 5 fails last (it pauses first); 20 and 30 fail at once
            Throwable thrown = catchThrowable(() -> pool.map(x -> ContractTasks.failSome(x, 5, 300, 5, 20, 30),
                    inputs, chunkSize));
            assertThat(thrown).as("chunk size %d", chunkSize).isInstanceOfSatisfying(TaskFailedException.class, e -> {
                assertThat(e.inputIndex()).isEqualTo(5);
                assertThat(e.getCause()).isInstanceOf(IllegalArgumentException.class).hasMessage("bad 5");
            });
        }
        assertThat(pool.map(x -> x + 1, List.of(1, 2, 3))).as("the pool goes on").containsExactly(2, 3, 4);
    }

    @Test
    public void mapAsyncFailsWithTheLowestFailingIndex() {
        Pool pool = pool(2);
        CompletableFuture<List<Integer>> future = pool.mapAsync(x -> ContractTasks.failSome(x, 3, 200, 3, 9),
                range(0, 12), 1);
        assertThatThrownBy(() -> future.get(30, TimeUnit.SECONDS)).isInstanceOf(ExecutionException.class)
                .cause().isInstanceOfSatisfying(TaskFailedException.class, e -> assertThat(e.inputIndex()).isEqualTo(3))
                .cause().isInstanceOf(IllegalArgumentException.class).hasMessage("bad 3");
    }

    @Test
    public void applySubmitAndStarmapFailuresCarryTheCauseAndTheIndex() {
        Pool pool = pool(2);
        assertThatThrownBy(() -> pool.apply((Integer x) -> ContractTasks.failSome(x, -1, 0, 7), 7))
                .isInstanceOfSatisfying(TaskFailedException.class, e -> assertThat(e.inputIndex()).isEqualTo(0))
                .cause().isInstanceOf(IllegalArgumentException.class).hasMessage("bad 7");
        CompletableFuture<Object> submitted = pool.submit((SerializableCallable<Object>) () -> {
            throw new IOException("disk on fire");
        });
        assertThatThrownBy(() -> submitted.get(30, TimeUnit.SECONDS)).isInstanceOf(ExecutionException.class)
                .cause().isInstanceOf(TaskFailedException.class)
                .cause().isInstanceOf(IOException.class).hasMessage("disk on fire");
        List<Map.Entry<Integer, Integer>> pairs = List.of(Map.entry(1, 1), Map.entry(2, 0), Map.entry(3, 1));
        assertThatThrownBy(() -> pool.starmap((Integer a, Integer b) -> a / b, pairs))
                .isInstanceOfSatisfying(TaskFailedException.class, e -> assertThat(e.inputIndex()).isEqualTo(1))
                .cause().isInstanceOf(ArithmeticException.class);
    }

    @Test
    public void imapThrowsEachFailureAtItsPlaceAndTheIterationGoesOn() {
        Pool pool = pool(2);
        try (ResultIterator<Integer> results = pool.imap(x -> ContractTasks.failSome(x, 2, 100, 2, 7), range(0, 10), 3)) {
            for (int i = 0; i < 10; i++) {
                if (i == 2 || i == 7) {
                    int index = i;
                    assertThatThrownBy(results::next).as("input %d", i)
                            .isInstanceOfSatisfying(TaskFailedException.class,
                                    e -> assertThat(e.inputIndex()).isEqualTo(index))
                            .cause().isInstanceOf(IllegalArgumentException.class).hasMessage("bad " + i);
                } else {
                    assertThat(results.next()).as("input %d", i).isEqualTo(i * 10);
                }
            }
            assertThat(results.hasNext()).isFalse();
        }
    }

    @Test
    public void imapUnorderedDeliversEveryResultAndEveryFailureOnce() {
        Pool pool = pool(2);
        List<Integer> values = new ArrayList<>();
        List<Long> failedIndexes = new ArrayList<>();
        try (ResultIterator<Integer> results = pool.imapUnordered(x -> ContractTasks.failSome(x, 0, 100, 0, 11, 19),
                range(0, 20), 2)) {
            while (results.hasNext()) {
                try {
                    values.add(results.next());
                } catch (TaskFailedException e) {
                    failedIndexes.add(e.inputIndex());
                }
            }
        }
        Collections.sort(values);
        Collections.sort(failedIndexes);
        assertThat(failedIndexes).containsExactly(0L, 11L, 19L);
        List<Integer> expected = times(range(0, 20), 10);
        expected.removeAll(List.of(0, 110, 190));
        assertThat(values).isEqualTo(expected);
    }

    @Test
    public void aFailingInputIteratorFailsMapAndStarmapWithItsCause() {
        Pool pool = pool(2);
        assertThatThrownBy(() -> pool.map(x -> x, ContractTasks.failingAt(3)))
                .isInstanceOf(ProcessPoolException.class)
                .hasRootCauseInstanceOf(IllegalStateException.class).hasRootCauseMessage("source broke");
        assertThatThrownBy(() -> pool.map(x -> x, ContractTasks.failingAt(0), 2))
                .isInstanceOf(ProcessPoolException.class).hasRootCauseMessage("source broke");
        Iterable<Map.Entry<Integer, Integer>> pairs = () -> new java.util.Iterator<>() {
            @Override
            public boolean hasNext() {
                return true;
            }

            @Override
            public Map.Entry<Integer, Integer> next() {
                throw new IllegalStateException("pairs broke");
            }
        };
        assertThatThrownBy(() -> pool.starmap((Integer a, Integer b) -> a + b, pairs))
                .isInstanceOf(ProcessPoolException.class).hasRootCauseMessage("pairs broke");
        assertThat(pool.map(x -> x + 1, List.of(1))).as("the pool goes on").containsExactly(2);
    }

    @Test
    public void aFailingInputIteratorEndsImapWithItsCauseAfterTheResultsBeforeIt() {
        Pool pool = pool(2);
        for (boolean ordered : new boolean[] {true, false}) {
            ResultIterator<Integer> results = ordered ? pool.imap(x -> x, ContractTasks.failingAt(3), 1)
                    : pool.imapUnordered(x -> x, ContractTasks.failingAt(3), 1);
            List<Integer> before = new ArrayList<>();
            Throwable thrown = null;
            while (thrown == null && results.hasNext()) {
                try {
                    before.add(results.next());
                } catch (RuntimeException e) {
                    thrown = e;
                }
            }
            Collections.sort(before);
            assertThat(before).as("ordered: %s", ordered).containsExactly(0, 1, 2);
            assertThat(thrown).as("ordered: %s", ordered).isInstanceOf(ProcessPoolException.class)
                    .hasRootCauseInstanceOf(IllegalStateException.class).hasRootCauseMessage("source broke");
            assertThat(results.hasNext()).isFalse();
        }
    }

    // ================================================================================ interruption

    /** Runs {@code call} on a new thread; waits until {@code started}, interrupts it, and returns what it threw. */
    private static Throwable interruptWhile(String what, Runnable call, java.util.function.BooleanSupplier started,
            AtomicBoolean flagAfter) throws InterruptedException {
        AtomicReference<Throwable> thrown = new AtomicReference<>();
        Thread caller = new Thread(() -> {
            try {
                call.run();
            } catch (Throwable t) {
                thrown.set(t);
            }
            flagAfter.set(Thread.currentThread().isInterrupted());
        }, "interrupted-caller");
        caller.setDaemon(true);
        caller.start();
        await(what, 30_000, started);
        caller.interrupt();
        caller.join(PROMPT_MILLIS);
        assertThat(caller.isAlive()).as("the interrupted caller returned").isFalse();
        return thrown.get();
    }

    @Test
    public void anInterruptedMapCallerGetsAProcessPoolExceptionKeepsItsFlagAndTheCallIsCancelled() throws Exception {
        Pool pool = pool(1);
        Path started = dir.resolve("started");
        String file = started.toString();
        AtomicBoolean flag = new AtomicBoolean();
        Throwable thrown = interruptWhile("the first task to start", () -> pool.map(x -> {
            ContractTasks.record(file, x);
            ContractTasks.pause(300);
            return x;
        }, range(0, 20), 1), () -> countLines(started) >= 1, flag);

        assertThat(thrown).isInstanceOf(ProcessPoolException.class);
        assertThat(flag.get()).as("interrupt flag set after the call").isTrue();
        // cancelled: the pool serves a new call after at most what was already handed to the workers (a
        // worker holds up to 3 chunks of 1; a cluster pool of 1 worker per member has one worker per member)
        assertThat(pool.submit(() -> "next").get(PROMPT_MILLIS, TimeUnit.MILLISECONDS)).isEqualTo("next");
        assertThat(countLines(started)).as("tasks of the cancelled call that started")
                .isLessThanOrEqualTo(3 * parallelism(1));
    }

    @Test
    public void anInterruptedApplyCallerGetsAProcessPoolExceptionAndKeepsItsFlag() throws Exception {
        Pool pool = pool(1);
        String marker = dir.resolve("running").toString();
        AtomicBoolean flag = new AtomicBoolean();
        Throwable thrown = interruptWhile("the task to start", () -> pool.apply((String m) -> {
            try {
                return ContractTasks.markAndPark(m);
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        }, marker), () -> Files.exists(Path.of(marker)), flag);
        assertThat(thrown).isInstanceOf(ProcessPoolException.class);
        assertThat(flag.get()).as("interrupt flag set after the call").isTrue();
    }

    @Test
    public void aCallerInterruptedBeforeTheCallThrowsAndKeepsItsFlag() {
        Pool pool = pool(1);
        assertThat(pool.map(x -> x, List.of(1))).containsExactly(1); // ready
        Thread.currentThread().interrupt();
        Throwable thrown;
        boolean flag;
        try {
            thrown = catchThrowable(() -> pool.map(x -> x, List.of(1, 2, 3)));
        } finally {
            flag = Thread.interrupted(); // clears it for the rest of the test
        }
        assertThat(thrown).isInstanceOf(ProcessPoolException.class);
        assertThat(flag).as("interrupt flag still set").isTrue();
        assertThat(pool.map(x -> x + 1, List.of(1, 2, 3))).as("the pool goes on").containsExactly(2, 3, 4);
    }

    @Test
    public void anInterruptedImapConsumerGetsAProcessPoolExceptionAndTheIterationIsCancelled() throws Exception {
        Pool pool = pool(1);
        Endless input = new Endless();
        Path started = dir.resolve("started");
        String file = started.toString();
        ResultIterator<Long> results = pool.imap(x -> {
            ContractTasks.record(file, x);
            ContractTasks.pause(x == 0 ? 0 : 60_000); // the second result never comes by itself
            return x;
        }, input, 1);
        AtomicBoolean flag = new AtomicBoolean();
        Throwable thrown = interruptWhile("the second task to start", () -> {
            while (results.hasNext()) {
                results.next();
            }
        }, () -> countLines(started) >= 2, flag);
        assertThat(thrown).isInstanceOf(ProcessPoolException.class);
        assertThat(flag.get()).as("interrupt flag set after the call").isTrue();
        assertThat(results.hasNext()).as("the iteration was cancelled").isFalse();
        long pulled = input.settled();
        assertThat(pulled).as("the input is no longer read").isLessThan(100);
    }

    // ================================================================================ cancellation

    @Test
    public void cancelTrueOnARunningSubmitStopsIt() throws Exception {
        assumeTrue(stopsCancelledTasks(), "this engine cannot stop a running task yet");
        Pool pool = pool(1);
        String marker = dir.resolve("running").toString();
        CompletableFuture<String> running = pool.submit(() -> ContractTasks.markAndPark(marker));
        await("the task to start", 30_000, () -> Files.exists(Path.of(marker)));
        long pid = Long.parseLong(Files.readString(Path.of(marker)));

        assertThat(running.cancel(true)).isTrue();

        assertThat(running.isCancelled()).isTrue();
        assertThatThrownBy(() -> running.get(1, TimeUnit.SECONDS)).isInstanceOf(CancellationException.class);
        // the only worker is free again: the parked task (2 minutes) no longer holds it
        assertThat(pool.submit(() -> "free").get(30, TimeUnit.SECONDS)).isEqualTo("free");
        if (tasksRunInOtherProcesses()) {
            assertThat(pid).isNotEqualTo(ProcessHandle.current().pid());
            await("the cancelled task's process to end", PROMPT_MILLIS, () -> ProcessTree.isGone(pid));
        }
    }

    @Test
    public void cancelTrueOnARunningMapAsyncStopsItsTasksAndDropsTheRest() throws Exception {
        assumeTrue(stopsCancelledTasks(), "this engine cannot stop a running task yet");
        Pool pool = pool(1);
        Path started = dir.resolve("started");
        String file = started.toString();
        String marker = dir.resolve("running").toString();
        CompletableFuture<List<String>> running = pool.mapAsync(x -> {
            ContractTasks.record(file, x);
            try {
                return ContractTasks.markAndPark(marker);
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        }, range(0, 5), 1);
        await("the first task to start", 30_000, () -> Files.exists(Path.of(marker)));

        assertThat(running.cancel(true)).isTrue();

        assertThatThrownBy(() -> running.get(1, TimeUnit.SECONDS)).isInstanceOf(CancellationException.class);
        assertThat(pool.submit(() -> "free").get(30, TimeUnit.SECONDS)).isEqualTo("free");
        // one per worker at most (each parks until stopped), and no other: the rest were dropped
        assertThat(countLines(started)).as("tasks of the cancelled call that started").isBetween(1, parallelism(1));
    }

    @Test
    public void cancelTrueOfATaskWaitingBehindAnotherKeepsItFromRunningLater() throws Exception {
        assumeTrue(stopsCancelledTasks(), "this engine cannot stop a running task yet");
        Pool pool = pool(1);
        String markerA = dir.resolve("a-running").toString();
        String release = dir.resolve("release").toString();
        String markerB = dir.resolve("b-running").toString();
        CompletableFuture<String> first = pool.submit(() -> ContractTasks.markAndWaitFor(markerA, release));
        await("the first task to start", 30_000, () -> Files.exists(Path.of(markerA)));
        // queued behind the first, or already on a worker JVM's pipe, or running on another worker
        CompletableFuture<String> second = pool.submit(() -> ContractTasks.markAndPark(markerB));

        assertThat(second.cancel(true)).isTrue();
        Files.writeString(Path.of(release), "go");

        assertThat(first.get(30, TimeUnit.SECONDS)).isEqualTo("released");
        // every worker is free again: none is held by the cancelled task, whenever it would have started
        List<CompletableFuture<String>> probes = new ArrayList<>();
        for (int i = 0; i < parallelism(1); i++) {
            probes.add(pool.submit(() -> "free"));
        }
        for (CompletableFuture<String> probe : probes) {
            assertThat(probe.get(30, TimeUnit.SECONDS)).isEqualTo("free");
        }
    }

    // ================================================================================ close and terminate

    /** Every call on a shut-down pool throws IllegalStateException. */
    private static void assertEveryCallRejected(Pool pool) {
        List<Integer> one = List.of(1);
        List<Consumer<Pool>> calls = List.of(
                p -> p.map(x -> x, one),
                p -> p.map(x -> x, one, 1),
                p -> p.mapAsync(x -> x, one),
                p -> p.mapAsync(x -> x, one, 1),
                p -> p.starmap((Integer a, Integer b) -> a + b, List.of(Map.entry(1, 2))),
                p -> p.apply((Integer x) -> x, 1),
                p -> p.submit(() -> 1),
                p -> p.submit((SerializableRunnable) () -> { }),
                p -> p.imap(x -> x, one),
                p -> p.imap(x -> x, one, 1),
                p -> p.imapUnordered(x -> x, one),
                p -> p.imapUnordered(x -> x, one, 1));
        for (int i = 0; i < calls.size(); i++) {
            Consumer<Pool> call = calls.get(i);
            assertThatThrownBy(() -> call.accept(pool)).as("call %d", i).isInstanceOf(IllegalStateException.class);
        }
    }

    @Test
    public void anOpenPoolIsNeitherShutDownNorTerminated() throws Exception {
        Pool pool = pool(1);
        assertThat(pool.isShutdown()).isFalse();
        assertThat(pool.isTerminated()).isFalse();
        assertThat(pool.awaitTermination(Duration.ofMillis(50))).isFalse();
    }

    @Test
    public void closeFinishesQueuedWorkThenIsIdempotentAndRejectsEveryCall() throws Exception {
        Pool pool = pool(2);
        List<Integer> inputs = range(0, 100);
        CompletableFuture<List<Integer>> pending = pool.mapAsync(x -> {
            ContractTasks.pause(5);
            return x * 2;
        }, inputs, 5);

        pool.close();

        assertThat(pending).isCompleted();
        assertThat(pending.get()).isEqualTo(times(inputs, 2));
        assertThat(pool.isShutdown()).isTrue();
        assertThat(pool.isTerminated()).as("terminated once close() returned").isTrue();
        assertThat(pool.awaitTermination(Duration.ZERO)).isTrue();
        assertEveryCallRejected(pool);
        pool.close(); // idempotent
        pool.terminate(); // and terminate after close is harmless
        assertThat(pool.isTerminated()).isTrue();
    }

    @Test
    public void terminateFailsPendingWorkThenIsIdempotentAndRejectsEveryCall() throws Exception {
        Pool pool = pool(2);
        String marker = dir.resolve("running").toString();
        CompletableFuture<List<String>> pending = pool.mapAsync(m -> {
            try {
                return ContractTasks.markAndPark(m);
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        }, List.of(marker, marker + "2", marker + "3"), 1);
        await("a task to start", 30_000, () -> Files.exists(Path.of(marker)));

        pool.terminate();

        assertThatThrownBy(() -> pending.get(PROMPT_MILLIS, TimeUnit.MILLISECONDS))
                .isInstanceOf(ExecutionException.class).cause().isInstanceOf(ProcessPoolException.class);
        assertThat(pool.isShutdown()).isTrue();
        assertThat(pool.awaitTermination(Duration.ofSeconds(10))).isTrue();
        assertThat(pool.isTerminated()).isTrue();
        assertEveryCallRejected(pool);
        pool.terminate(); // idempotent
        pool.close(); // and close after terminate returns
    }

    @Test
    public void closeWithAnUnconsumedImapReturnsAndTheIteratorEndsWithAFailure() throws Exception {
        for (boolean ordered : new boolean[] {true, false}) {
            Pool pool = pool(2);
            Endless input = new Endless();
            ResultIterator<Long> results = ordered ? pool.imap(x -> x, input, 10) : pool.imapUnordered(x -> x, input, 10);
            assertThat(results.next()).isNotNull();
            input.settled(); // the consumer pauses; the pool waits for room

            Thread closer = new Thread(pool::close, "closer");
            closer.setDaemon(true);
            closer.start();
            closer.join(20_000);
            assertThat(closer.isAlive()).as("close() with an unconsumed %s returned", ordered ? "imap" : "imapUnordered")
                    .isFalse();

            long read = input.pulled.get();
            long delivered = 1;
            Throwable end = null;
            try {
                while (results.hasNext()) {
                    results.next();
                    delivered++;
                }
            } catch (ProcessPoolException e) {
                end = e;
            }
            assertThat(end).as("the iteration ends with a failure saying the input was cut short")
                    .isInstanceOf(ProcessPoolException.class);
            assertThat(delivered).as("every input read was run and delivered").isEqualTo(read);
            assertThat(pool.isTerminated()).isTrue();
        }
    }

    @Test
    public void closeFromSeveralThreadsReturnsInEachOnlyOnceThePoolHasStopped() throws Exception {
        Pool pool = pool(2);
        CompletableFuture<List<Integer>> pending = pool.mapAsync(x -> {
            ContractTasks.pause(20);
            return x;
        }, range(0, 40), 1);
        List<Thread> closers = new ArrayList<>();
        List<Boolean> seenAfterClose = Collections.synchronizedList(new ArrayList<>());
        for (int i = 0; i < 3; i++) {
            Thread closer = new Thread(() -> {
                pool.close();
                seenAfterClose.add(pool.isTerminated() && pending.isDone());
            }, "closer-" + i);
            closer.setDaemon(true);
            closers.add(closer);
            closer.start();
        }
        for (Thread closer : closers) {
            closer.join(30_000);
            assertThat(closer.isAlive()).as(closer.getName() + " returned").isFalse();
        }
        assertThat(seenAfterClose).containsExactly(true, true, true);
        assertThat(pending.get()).isEqualTo(range(0, 40));
    }

    @Test
    public void awaitTerminationWaitsForACloseOnAnotherThread() throws Exception {
        Pool pool = pool(2);
        CompletableFuture<List<Integer>> pending = pool.mapAsync(x -> {
            ContractTasks.pause(20);
            return x;
        }, range(0, 20), 1);
        Thread closer = new Thread(pool::close, "closer");
        closer.setDaemon(true);
        closer.start();
        assertThat(pool.awaitTermination(Duration.ofSeconds(30))).isTrue();
        assertThat(pool.isTerminated()).isTrue();
        assertThat(pending).isCompleted();
        closer.join(PROMPT_MILLIS);
    }

    // ================================================================================ the executor view

    @Test
    public void theExecutorViewRunsSubmitInvokeAllAndExecute() throws Exception {
        assumeTrue(offersExecutorService(), "this engine has no executor view yet");
        Pool pool = pool(2);
        ExecutorService executor = pool.asExecutorService();
        assertThat(executor.submit((SerializableCallable<Integer>) () -> 1).get(30, TimeUnit.SECONDS)).isEqualTo(1);
        assertThat(executor.submit((SerializableRunnable) () -> { }, "done").get(30, TimeUnit.SECONDS))
                .isEqualTo("done");
        List<Callable<Integer>> tasks = List.of((SerializableCallable<Integer>) () -> 1,
                (SerializableCallable<Integer>) () -> 2, (SerializableCallable<Integer>) () -> 3);
        List<Future<Integer>> all = executor.invokeAll(tasks);
        List<Integer> results = new ArrayList<>();
        for (Future<Integer> f : all) {
            assertThat(f.isDone()).isTrue();
            results.add(f.get());
        }
        assertThat(results).containsExactly(1, 2, 3);
        String ran = dir.resolve("executed").toString();
        executor.execute((SerializableRunnable) () -> ContractTasks.record(ran, "yes"));
        await("the executed task to run", 30_000, () -> countLines(Path.of(ran)) == 1);
        assertThat(executor.isShutdown()).isFalse();
    }

    @Test
    public void shuttingTheExecutorViewDownClosesThePool() throws Exception {
        assumeTrue(offersExecutorService(), "this engine has no executor view yet");
        Pool pool = pool(2);
        ExecutorService executor = pool.asExecutorService();
        Future<Integer> queued = executor.submit((SerializableCallable<Integer>) () -> {
            Thread.sleep(200);
            return 5;
        });

        executor.shutdown();

        assertThat(executor.isShutdown()).isTrue();
        assertThat(pool.isShutdown()).isTrue();
        assertThatThrownBy(() -> executor.submit((SerializableCallable<Integer>) () -> 6))
                .isInstanceOf(RejectedExecutionException.class);
        assertThat(executor.awaitTermination(30, TimeUnit.SECONDS)).isTrue();
        assertThat(executor.isTerminated()).isTrue();
        assertThat(pool.isTerminated()).isTrue();
        assertThat(queued.get()).as("queued work finished").isEqualTo(5);
    }

    @Test
    public void shutdownNowOfTheExecutorViewTerminatesThePool() throws Exception {
        assumeTrue(offersExecutorService(), "this engine has no executor view yet");
        Pool pool = pool(1);
        ExecutorService executor = pool.asExecutorService();
        String marker = dir.resolve("running").toString();
        Future<String> running = executor.submit((SerializableCallable<String>) () -> ContractTasks.markAndPark(marker));
        await("the task to start", 30_000, () -> Files.exists(Path.of(marker)));

        executor.shutdownNow();

        assertThat(pool.isShutdown()).isTrue();
        assertThat(executor.awaitTermination(10, TimeUnit.SECONDS)).isTrue();
        assertThat(pool.isTerminated()).isTrue();
        Throwable thrown = catchThrowable(() -> running.get(PROMPT_MILLIS, TimeUnit.MILLISECONDS));
        assertThat(thrown).as("the running task was stopped").isInstanceOfAny(ExecutionException.class,
                CancellationException.class);
    }

    // ------------------------------------------------------------------------------------ share

    @Test
    public void aSharedValueIsReadByTasksAndByTheCallerAsTheSameValue() {
        Pool pool = pool(2);
        long[] table = new long[1 << 20]; // 8 MiB: above the shared-memory threshold of a plain input
        Arrays.setAll(table, i -> i * 7L);
        try (Shared<long[]> shared = pool.share(table)) {
            assertThat(shared.get()).as("in the JVM that shared it, the object itself").isSameAs(table);
            List<Long> seen = pool.map((Integer i) -> shared.get()[i * 1000] + shared.get().length, List.of(0, 1, 2, 3, 4, 5, 6, 7), 1);
            assertThat(seen).containsExactly(0L + (1 << 20), 7000L + (1 << 20), 14000L + (1 << 20), 21000L + (1 << 20),
                    28000L + (1 << 20), 35000L + (1 << 20), 42000L + (1 << 20), 49000L + (1 << 20));
            Shared<List<String>> words = pool.share(List.of("a", "bb", "ccc"));
            int third = pool.apply((Integer i) -> words.get().get(i).length(), 2);
            assertThat(third).isEqualTo(3);
        }
    }

    @Test
    public void aClosedSharedValueFailsGetInTasksAndInTheCaller() {
        Pool pool = pool(1);
        Shared<int[]> shared = pool.share(new int[] {1, 2, 3});
        int before = pool.apply((Integer i) -> shared.get()[i], 2);
        assertThat(before).as("the worker has it before the close").isEqualTo(3);
        shared.close();
        shared.close(); // idempotent
        assertThatThrownBy(shared::get).isInstanceOf(IllegalStateException.class).hasMessageContaining("closed");
        Throwable thrown = catchThrowable(() -> pool.apply((Integer i) -> shared.get()[i], 0));
        assertThat(thrown).isInstanceOf(TaskFailedException.class);
        assertThat(thrown.getCause()).isInstanceOf(IllegalStateException.class);
        assertThat(thrown.getCause().getMessage()).contains("shared value").contains("closed");
        int after = pool.apply((Integer i) -> i + 1, 1);
        assertThat(after).as("the pool goes on").isEqualTo(2);
    }

    @Test
    public void closingThePoolClosesItsSharedValuesAndShareNeedsAnOpenPool() {
        Pool pool = pool(1);
        Shared<String> shared = pool.share("value");
        String seen = pool.apply((Integer i) -> shared.get() + i, 1);
        assertThat(seen).isEqualTo("value1");
        assertThatThrownBy(() -> pool.share(null)).isInstanceOf(NullPointerException.class);
        pool.close();
        assertThatThrownBy(shared::get).isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(() -> pool.share("late")).isInstanceOf(IllegalStateException.class);
    }
}
