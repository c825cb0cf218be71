package dev.procpool;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.procpool.testing.NoProcessLeft;
import java.math.BigDecimal;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import java.util.stream.LongStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** {@code map} and its siblings, in both modes, on one shared pool per mode. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(value = 60, unit = TimeUnit.SECONDS)
@NoProcessLeft(NoProcessLeft.Scope.CLASS)
class MapTest {
    private final Map<PoolMode, ProcessPool> pools = new HashMap<>();

    record Point(int x, int y) {
        Point plus(Point other) {
            return new Point(x + other.x, y + other.y);
        }
    }

    /** Not Serializable on purpose: Kryo must carry it anyway. */
    static final class Box {
        final String label;

        Box(String label) {
            this.label = label;
        }
    }

    static final class CustomFailure extends RuntimeException {
        final int code;

        CustomFailure(String message, int code) {
            super(message);
            this.code = code;
        }
    }

    @BeforeAll
    void startPools() {
        pools.put(PoolMode.PROCESSES, PoolTestSupport.pool(PoolMode.PROCESSES, 2));
        pools.put(PoolMode.THREADS, PoolTestSupport.pool(PoolMode.THREADS, 2));
    }

    @AfterAll
    void closePools() throws InterruptedException {
        pools.values().forEach(ProcessPool::close);
    }

    private ProcessPool pool(PoolMode mode) {
        return pools.get(mode);
    }

    static long square(long x) {
        return x * x;
    }

    @ParameterizedTest
    @EnumSource(value = PoolMode.class, names = {"PROCESSES", "THREADS"})
    void tenThousandInputsMatchASequentialRun(PoolMode mode) {
        List<Long> inputs = LongStream.range(0, 10_000).map(i -> i * 7919 % 10_007).boxed().collect(Collectors.toList());
        List<Long> expected = inputs.stream().map(x -> x * x + 1).collect(Collectors.toList());

        assertThat(pool(mode).map((Long x) -> x * x + 1, inputs)).containsExactlyElementsOf(expected);
        assertThat(pool(mode).map((Long x) -> x * x + 1, inputs, 1)).containsExactlyElementsOf(expected);
        assertThat(pool(mode).map((Long x) -> x * x + 1, inputs, 3333)).containsExactlyElementsOf(expected);
    }

    @Test
    void processModeRunsInAtLeastTwoWorkerProcessesNoneOfThemTheCaller() {
        ProcessPool pool = pool(PoolMode.PROCESSES);
        assertThat(pool.mode()).isEqualTo(PoolMode.PROCESSES);
        long me = ProcessHandle.current().pid();
        // Tasks that take a moment, one per chunk, so both workers get some.
        List<Long> pids = pool.map((Integer i) -> {
            long until = System.nanoTime() + 2_000_000;
            while (System.nanoTime() < until) {
                Thread.onSpinWait();
            }
            return ProcessHandle.current().pid();
        }, IntStream.range(0, 200).boxed().collect(Collectors.toList()), 1);

        Set<Long> distinct = new LinkedHashSet<>(pids);
        assertThat(distinct).hasSizeGreaterThanOrEqualTo(2).doesNotContain(me);
        Set<Long> children = ProcessHandle.current().children().map(ProcessHandle::pid).collect(Collectors.toSet());
        assertThat(children).containsAll(distinct);
    }

    @Test
    void threadModeRunsInTheCallersProcess() {
        ProcessPool pool = pool(PoolMode.THREADS);
        assertThat(pool.mode()).isEqualTo(PoolMode.THREADS);
        List<Long> pids = pool.map((Integer i) -> ProcessHandle.current().pid(), List.of(1, 2, 3));
        assertThat(pids).containsOnly(ProcessHandle.current().pid());
    }

    @ParameterizedTest
    @EnumSource(value = PoolMode.class, names = {"PROCESSES", "THREADS"})
    void capturingLambdasAndMethodReferences(PoolMode mode) {
        ProcessPool pool = pool(mode);
        long offset = 1000;
        Box box = new Box("box-");
        List<Long> in = List.of(1L, 2L, 3L);

        assertThat(pool.map((Long x) -> x + offset, in)).containsExactly(1001L, 1002L, 1003L);
        assertThat(pool.map((Long x) -> box.label + x, in)).containsExactly("box-1", "box-2", "box-3");
        assertThat(pool.map(MapTest::square, in)).containsExactly(1L, 4L, 9L);
        assertThat(pool.map(String::valueOf, in)).containsExactly("1", "2", "3");
        Point origin = new Point(10, 20);
        assertThat(pool.map(origin::plus, List.of(new Point(1, 1), new Point(2, 2))))
                .containsExactly(new Point(11, 21), new Point(12, 22));
    }

    @ParameterizedTest
    @EnumSource(value = PoolMode.class, names = {"PROCESSES", "THREADS"})
    void recordsCollectionsAndJdkValuesTravelBothWays(PoolMode mode) {
        ProcessPool pool = pool(mode);
        assertThat(pool.map((Point p) -> new Point(p.y(), p.x()), List.of(new Point(1, 2), new Point(3, 4))))
                .containsExactly(new Point(2, 1), new Point(4, 3));

        List<Object> values = List.of(List.of(1, 2), Map.of("a", 1), new ArrayList<>(List.of("x")),
                new BigDecimal("1.50"), LocalDate.of(2026, 11, 24), Optional.of("o"), new int[] {1, 2},
                Collections.unmodifiableList(new ArrayList<>(List.of(7))), Arrays.asList(1, 2),
                Stream.of("a", null).toList(), java.util.UUID.nameUUIDFromBytes(new byte[] {1}));
        List<Object> back = pool.map((Object v) -> v, values);
        assertThat(back).hasSize(values.size());
        for (int i = 0; i < values.size(); i++) {
            if (values.get(i) instanceof int[] array) {
                assertThat((int[]) back.get(i)).containsExactly(array);
            } else {
                assertThat(back.get(i)).as("value %d", i).isEqualTo(values.get(i));
            }
        }
    }

    @ParameterizedTest
    @EnumSource(value = PoolMode.class, names = {"PROCESSES", "THREADS"})
    void nullElementsAndEmptyInput(PoolMode mode) {
        ProcessPool pool = pool(mode);
        assertThat(pool.map((String s) -> s == null ? "was null" : s + "!", Arrays.asList("a", null, "c")))
                .containsExactly("a!", "was null", "c!");
        assertThat(pool.map((String s) -> (String) null, List.of("a", "b"))).containsExactly(null, null);
        assertThat(pool.map((String s) -> s, List.<String>of())).isEmpty();
    }

    @ParameterizedTest
    @EnumSource(value = PoolMode.class, names = {"PROCESSES", "THREADS"})
    void taskExceptionReachesTheCallerWithTheLowestFailingIndexAndThePoolGoesOn(PoolMode mode) {
        ProcessPool pool = pool(mode);
        List<Integer> inputs = IntStream.range(0, 100).boxed().collect(Collectors.toList());

        assertThatThrownBy(() -> pool.map((Integer i) -> {
            if (i == 37 || i == 80) {
                throw new CustomFailure("bad input " + i, i * 10);
            }
            return i;
        }, inputs, 7))
                .isInstanceOfSatisfying(TaskFailedException.class, e -> {
                    assertThat(e.inputIndex()).isEqualTo(37);
                    assertThat(e.remoteClassName()).isEqualTo(CustomFailure.class.getName());
                    assertThat(e.getCause()).isInstanceOf(CustomFailure.class).hasMessage("bad input 37");
                    assertThat(((CustomFailure) e.getCause()).code).isEqualTo(370);
                    assertThat(e.getCause().getStackTrace()[0].getMethodName()).contains("lambda");
                });

        assertThat(pool.map((Integer i) -> i + 1, inputs)).hasSize(100).startsWith(1, 2, 3);
    }

    @ParameterizedTest
    @EnumSource(value = PoolMode.class, names = {"PROCESSES", "THREADS"})
    void applySubmitStarmapAndMapAsync(PoolMode mode) throws Exception {
        ProcessPool pool = pool(mode);
        Integer applied = pool.apply((Integer x) -> x * 3, 14);
        assertThat(applied).isEqualTo(42);
        assertThat(pool.submit(() -> "called").get(30, TimeUnit.SECONDS)).isEqualTo("called");
        assertThat(pool.starmap((Integer a, Integer b) -> a * b, List.of(Map.entry(2, 3), Map.entry(4, 5))))
                .containsExactly(6, 20);
        assertThat(pool.mapAsync((Integer x) -> -x, List.of(1, 2, 3)).get(30, TimeUnit.SECONDS))
                .containsExactly(-1, -2, -3);
    }
}
