package dev.procpool;

import static org.assertj.core.api.Assertions.assertThat;

import dev.procpool.testing.NoProcessLeft;
import dev.procpool.internal.engine.ConsoleLine;
import dev.procpool.internal.engine.Durations;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

@Timeout(value = 60, unit = TimeUnit.SECONDS)
@NoProcessLeft
class ProgressTest {

    @ParameterizedTest
    @EnumSource(value = PoolMode.class, names = {"PROCESSES", "THREADS"})
    void aLongMapReportsGrowingProgressAndAFinalReport(PoolMode mode) {
        List<Progress> reports = new CopyOnWriteArrayList<>();
        List<Integer> inputs = IntStream.range(0, 200).boxed().collect(Collectors.toList());
        try (ProcessPool pool = ProcessPool.builder().workers(2).mode(mode).progress(reports::add).build()) {
            // at least 200 x 5 ms / 2 workers = 0.5 s: more than two report intervals
            pool.map((Integer i) -> {
                PoolTestSupport.pause(5);
                if (i == 199) { // the lowest failing index decides when map fails: make it the last
                    throw new IllegalStateException("counted as failed");
                }
                return i;
            }, inputs, 1);
        } catch (TaskFailedException expected) {
            assertThat(expected.inputIndex()).isEqualTo(199);
        }
        assertThat(reports).hasSizeGreaterThanOrEqualTo(2);
        Progress last = reports.get(reports.size() - 1);
        assertThat(last.finished()).isTrue();
        assertThat(last.total()).isEqualTo(200);
        assertThat(last.failed()).isEqualTo(1);
        assertThat(last.done()).isEqualTo(200);
        assertThat(reports.subList(0, reports.size() - 1)).allSatisfy(p -> assertThat(p.finished()).isFalse());
        assertThat(reports).extracting(Progress::done).isSorted();
        assertThat(reports.stream().filter(Progress::finished)).hasSize(1);
    }

    @Test
    void theConsoleLineShowsCountsRateAndEta() {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        ProgressListener console = ProgressListener.console(new PrintStream(bytes, true, StandardCharsets.UTF_8));
        console.onProgress(new Progress(1, 250, 1000, 3, Duration.ofSeconds(5), false));
        console.onProgress(new Progress(1, 1000, 1000, 3, Duration.ofSeconds(20), true));
        String text = bytes.toString(StandardCharsets.UTF_8);
        assertThat(text).startsWith("\r250/1000 (25%), 3 failed, 50/s, ETA 15 s");
        assertThat(text).contains("\r1000/1000 (100%), 3 failed, 50/s, done in 20 s\n");
    }

    @Test
    void theConsoleLineIsDrawnOncePerChangeAndWorkerLinesGoAboveIt() {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        PrintStream out = new PrintStream(bytes, true, StandardCharsets.UTF_8);
        ProgressListener console = ProgressListener.console(out);
        console.onProgress(new Progress(1, 0, 10, 0, Duration.ofMillis(200), false));
        console.onProgress(new Progress(1, 0, 10, 0, Duration.ofMillis(400), false));
        ConsoleLine.above(() -> out.println("[worker-1] hello"));
        console.onProgress(new Progress(1, 10, 10, 0, Duration.ofSeconds(2), true));
        String text = bytes.toString(StandardCharsets.UTF_8);

        assertThat(text.split("0/10 \\(0%\\)", -1)).as("drawn once, then once more after the worker line").hasSize(3);
        assertThat(asTerminalShowsIt(text)).containsExactly("[worker-1] hello", "10/10 (100%), 5/s, done in 2 s");
    }

    /** The lines a terminal shows for {@code text}: a carriage return goes back to the start of the line. */
    private static List<String> asTerminalShowsIt(String text) {
        List<String> shown = new ArrayList<>();
        for (String line : text.split("\n", -1)) {
            StringBuilder screen = new StringBuilder();
            int cursor = 0;
            for (char c : line.toCharArray()) {
                if (c == '\r') {
                    cursor = 0;
                } else {
                    if (cursor < screen.length()) {
                        screen.setCharAt(cursor, c);
                    } else {
                        screen.append(c);
                    }
                    cursor++;
                }
            }
            String visible = screen.toString().stripTrailing();
            if (!visible.isEmpty()) {
                shown.add(visible);
            }
        }
        return shown;
    }

    @Test
    void durationsReadAsPeopleWriteThem() {
        assertThat(Durations.human(Duration.ofMillis(250))).isEqualTo("250 ms");
        assertThat(Durations.human(Duration.ofSeconds(1))).isEqualTo("1 s");
        assertThat(Durations.human(Duration.ofMillis(1500))).isEqualTo("1.5 s");
        assertThat(Durations.human(Duration.ofSeconds(125))).isEqualTo("2 min 05 s");
        assertThat(Durations.human(Duration.ofMinutes(61))).isEqualTo("1 h 01 min");
        assertThat(new TaskTimeoutException(3, Duration.ofSeconds(1)).getMessage()).endsWith("timeout of 1 s");
    }

    @Test
    void unknownTotalsHaveNoEta() {
        Progress lazy = new Progress(2, 10, -1, 0, Duration.ofSeconds(1), false);
        assertThat(lazy.eta()).isEmpty();
        assertThat(lazy.ratePerSecond()).isEqualTo(10.0);
    }
}
