package dev.procpool.internal.engine;

import java.time.Duration;
import java.util.Locale;

/** Durations as people write them ("250 ms", "1 s", "1.5 s", "2 min 05 s"), not as ISO-8601 ({@code PT1S}). */
public final class Durations {
    private Durations() {}

    public static String human(Duration duration) {
        long millis = duration.toMillis();
        if (millis < 1000) {
            return millis == 0 && !duration.isZero() ? duration.toNanos() / 1000 + " µs" : millis + " ms";
        }
        if (millis < 60_000) {
            return millis % 1000 == 0 ? millis / 1000 + " s"
                    : String.format(Locale.ROOT, "%.1f s", millis / 1000.0).replace(".0 s", " s");
        }
        long seconds = duration.toSeconds();
        if (seconds < 3600) {
            return String.format(Locale.ROOT, "%d min %02d s", seconds / 60, seconds % 60);
        }
        return String.format(Locale.ROOT, "%d h %02d min", seconds / 3600, seconds % 3600 / 60);
    }
}
