package dev.procpool;

import dev.procpool.internal.engine.ConsoleLine;
import dev.procpool.internal.engine.Durations;
import java.io.PrintStream;
import java.util.Locale;

/**
 * Receives progress reports of long calls (see {@link ProcessPool.Builder#progress}). Reports come from
 * one library thread, a few times per second while a call runs, then once more with
 * {@link Progress#finished()} set. Calls of a single input ({@code apply}, {@code submit}) are not
 * reported. A listener should return quickly; what it throws is logged and ignored.
 */
@FunctionalInterface
public interface ProgressListener {
    /**
     * Receives one report.
     *
     * @param progress the call's progress so far
     */
    void onProgress(Progress progress);

    /**
     * A live progress line on the terminal's stderr, rewritten in place when what it says changes:
     * done/total, percent, failures, rate and ETA; it ends with a newline when the call finishes. Lines
     * that workers print are written above it (the line is cleared, then drawn again). Nothing goes to
     * stdout.
     *
     * @return a listener that draws on {@code System.err}
     */
    static ProgressListener console() {
        return console(System.err);
    }

    /**
     * As {@link #console()}, on the given stream.
     *
     * @param out where to draw the line
     * @return a listener that draws on {@code out}
     */
    static ProgressListener console(PrintStream out) {
        return progress -> {
            StringBuilder line = new StringBuilder();
            line.append(progress.done());
            if (progress.total() >= 0) {
                line.append('/').append(progress.total());
                if (progress.total() > 0) {
                    line.append(String.format(Locale.ROOT, " (%d%%)", progress.done() * 100 / progress.total()));
                }
            }
            if (progress.failed() > 0) {
                line.append(", ").append(progress.failed()).append(" failed");
            }
            line.append(String.format(Locale.ROOT, ", %.0f/s", progress.ratePerSecond()));
            progress.eta().filter(eta -> !progress.finished())
                    .ifPresent(eta -> line.append(", ETA ").append(Durations.human(eta)));
            if (progress.finished()) {
                line.append(", done in ").append(Durations.human(progress.elapsed()));
                ConsoleLine.finish(out, line.toString());
            } else {
                ConsoleLine.draw(out, line.toString());
            }
        };
    }
}
