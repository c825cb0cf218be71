package dev.procpool;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.procpool.testing.NoProcessLeft;
import java.io.File;
import java.io.IOException;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.ZonedDateTime;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.Collection;
import java.util.Collections;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.LinkedList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.PriorityQueue;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** The pool as a Java developer writes against it: checked exceptions, streams, the JDK's value types. */
@NoProcessLeft(NoProcessLeft.Scope.CLASS)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class JavaIdiomsTest {
    private final Map<PoolMode, ProcessPool> pools = new EnumMap<>(PoolMode.class);

    @TempDir
    Path dir;

    private ProcessPool pool(PoolMode mode) {
        return pools.computeIfAbsent(mode, m -> PoolTestSupport.pool(m, 2));
    }

    @AfterAll
    void closePools() {
        pools.values().forEach(ProcessPool::close);
    }

    enum Color { RED, GREEN, BLUE }

    static long sizeOf(String path) throws IOException {
        return Files.size(Path.of(path));
    }

    @ParameterizedTest
    @EnumSource(value = PoolMode.class, names = {"PROCESSES", "THREADS"})
    void tasksMayThrowCheckedExceptionsWhichBecomeTheCause(PoolMode mode) throws Exception {
        ProcessPool pool = pool(mode);
        Path a = Files.writeString(dir.resolve("a.txt"), "12345");
        Path b = Files.writeString(dir.resolve("b.txt"), "12");

        assertThat(pool.map(Files::size, List.of(a, b))).containsExactly(5L, 2L);
        try (ResultIterator<Long> sizes = pool.imap(path -> Files.size(Path.of(path)), List.of(a.toString()), 100)) {
            assertThat(sizes.next()).isEqualTo(5L);
        }
        assertThat(pool.map(JavaIdiomsTest::sizeOf, List.of(b.toString()))).containsExactly(2L);
        assertThat(pool.starmap((Path p, String text) -> Files.writeString(p, text).toString(),
                List.of(Map.entry(dir.resolve("c.txt"), "x")))).containsExactly(dir.resolve("c.txt").toString());
        pool.submit(() -> Files.delete(b)).get(30, TimeUnit.SECONDS);
        assertThat(b).doesNotExist();

        Path missing = dir.resolve("missing");
        assertThatThrownBy(() -> pool.map(Files::size, List.of(a, missing)))
                .isInstanceOfSatisfying(TaskFailedException.class, e -> {
                    assertThat(e.inputIndex()).isEqualTo(1);
                    assertThat(e.getCause()).isInstanceOf(NoSuchFileException.class);
                });
        assertThatThrownBy(() -> pool.submit(() -> {
            throw new IOException("checked, from a Callable");
        }).get()).cause().isInstanceOf(TaskFailedException.class).cause().isInstanceOf(IOException.class);
    }

    @Test
    void theFunctionTypesStillFitWhereTheJdkTypesAreExpected() {
        SerializableFunction<String, Integer> length = String::length;
        Function<String, Integer> asJdk = length;
        assertThat(Stream.of("a", "bb").map(asJdk).toList()).containsExactly(1, 2);
        SerializableFunction<String, Long> size = p -> Files.size(Path.of(p));
        assertThatThrownBy(() -> size.apply(dir.resolve("nope").toString()))
                .as("apply throws call's checked exception as it is").isInstanceOf(NoSuchFileException.class);
    }

    @ParameterizedTest
    @EnumSource(value = PoolMode.class, names = {"PROCESSES", "THREADS"})
    void streamsGoInAndComeOut(PoolMode mode) throws Exception {
        ProcessPool pool = pool(mode);
        assertThat(pool.map(x -> x * 2, Stream.of(1, 2, 3))).containsExactly(2, 4, 6);
        assertThat(pool.mapAsync(x -> x + 1, Stream.of(1, 2)).get(30, TimeUnit.SECONDS)).containsExactly(2, 3);
        assertThat(pool.starmap((Integer x, Integer y) -> x * y, Stream.of(Map.entry(2, 3)))).containsExactly(6);

        try (Stream<Integer> squares = pool.imap((Integer x) -> x * x, Stream.iterate(0, i -> i + 1)).stream()) {
            assertThat(squares.limit(5).toList()).containsExactly(0, 1, 4, 9, 16);
        }
        List<Integer> seen = new ArrayList<>();
        for (int value : pool.imapUnordered((Integer x) -> x, List.of(1, 2, 3))) {
            seen.add(value);
        }
        assertThat(seen).containsExactlyInAnyOrder(1, 2, 3);
        assertThat(pool.imap((Integer x) -> -x, Stream.of(1, 2), 1).stream().toList()).containsExactly(-1, -2);
    }

    @Test
    void closingTheResultStreamCancelsTheRestOfAnEndlessInput() {
        ProcessPool pool = pool(PoolMode.PROCESSES);
        ResultIterator<Integer> results = pool.imap((Integer x) -> x, Stream.iterate(0, i -> i + 1));
        try (Stream<Integer> stream = results.stream()) {
            assertThat(stream.findFirst()).contains(0);
        }
        assertThat(results.hasNext()).as("closing the stream closed the iterator").isFalse();
        assertThat(pool.map(x -> x, List.of(7))).as("the pool goes on").containsExactly(7);
    }

    @Test
    void theJdksCommonValueTypesTravelBothWays() {
        TreeMap<String, Integer> reversed = new TreeMap<>(Comparator.reverseOrder());
        reversed.put("a", 1);
        reversed.put("b", 2);
        TreeSet<String> caseless = new TreeSet<>(String.CASE_INSENSITIVE_ORDER);
        caseless.addAll(List.of("b", "A"));
        EnumMap<Color, String> enumMap = new EnumMap<>(Map.of(Color.RED, "r", Color.BLUE, "b"));
        PriorityQueue<Integer> queue = new PriorityQueue<>(List.of(3, 1, 2));
        BitSet bits = new BitSet();
        bits.set(3);
        List<Object> values = List.of(
                dir.resolve("some file.txt"), Path.of("relative", "path"), new File("/tmp/x"),
                URI.create("https://example.org/a?b=c"), UUID.randomUUID(), Pattern.compile("a+b"),
                Duration.ofMillis(1500), Instant.ofEpochSecond(1_000_000), LocalDate.of(2026, 11, 30),
                LocalDateTime.of(2026, 11, 30, 12, 0), ZonedDateTime.parse("2026-11-30T12:00:00+01:00[Europe/Paris]"),
                Color.GREEN, enumMap, EnumSet.of(Color.RED, Color.BLUE), Optional.of("x"), Optional.empty(),
                new BigDecimal("1.50"), new BigInteger("123456789012345678901234567890"),
                new ArrayList<>(List.of(1, 2)), new LinkedList<>(List.of("l")), new ArrayDeque<>(List.of(1, 2)),
                new HashMap<>(Map.of("k", 1)), new LinkedHashMap<>(Map.of("k", 2)), new LinkedHashSet<>(Set.of(1)),
                reversed, caseless, new ConcurrentHashMap<>(Map.of("c", 3)), new CopyOnWriteArrayList<>(List.of(4)),
                Collections.unmodifiableList(new ArrayList<>(List.of(5))), List.of(6), Set.of(7), Map.of(8, 9),
                bits, new int[] {1, 2}, new String[] {"s"}, 'c', (short) 3, 4.5f);

        List<Object> back = pool(PoolMode.PROCESSES).map(x -> x, values);

        for (int i = 0; i < values.size(); i++) {
            Object sent = values.get(i);
            Object received = back.get(i);
            if (sent instanceof Pattern pattern) {
                assertThat(((Pattern) received).pattern()).isEqualTo(pattern.pattern());
            } else if (sent instanceof PriorityQueue<?> || sent instanceof ArrayDeque<?>) {
                assertThat(new ArrayList<Object>((Collection<?>) received)).as("%s", sent.getClass())
                        .containsExactlyInAnyOrderElementsOf(new ArrayList<Object>((Collection<?>) sent));
            } else {
                assertThat(received).as("%s", sent.getClass()).isEqualTo(sent);
            }
        }
        assertThat(((TreeMap<?, ?>) back.get(values.indexOf(reversed))).firstKey()).as("comparator kept").isEqualTo("b");
        assertThat(((TreeSet<String>) back.get(values.indexOf(caseless))).contains("a")).as("comparator kept").isTrue();
    }

    @Test
    void aCapturedPathTravelsWithTheFunction() throws Exception {
        Path file = Files.writeString(dir.resolve("captured.txt"), "abc");
        assertThat(pool(PoolMode.PROCESSES).map((Integer n) -> Files.readString(file).repeat(n), List.of(2)))
                .containsExactly("abcabc");
    }

    @Test
    void aJdkFunctionHeldInAVariableFailsAtTheCallSayingHowToDeclareIt() {
        Function<Integer, Integer> plain = x -> x + 1;
        assertThatThrownBy(() -> pool(PoolMode.PROCESSES).map(plain::apply, List.of(1)))
                .isInstanceOf(ProcessPoolException.class)
                .isNotInstanceOf(TaskFailedException.class)
                .hasMessageContaining("SerializableFunction");
    }

    @Test
    void awaitTerminationTakesTheExecutorServiceArguments() throws Exception {
        ProcessPool pool = PoolTestSupport.pool(PoolMode.THREADS, 1);
        pool.close();
        assertThat(pool.awaitTermination(5, TimeUnit.SECONDS)).isTrue();
    }
}
