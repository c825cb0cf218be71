package dev.procpool;

import java.time.Duration;
import java.util.Optional;

/**
 * How far one call ({@code map}, {@code imap}, ...) has come, as a {@link ProgressListener} sees it.
 *
 * @param callId   identifies the call among concurrent ones (increasing)
 * @param done     inputs answered so far, failures included
 * @param total    number of inputs, or -1 when not known (a lazy input not read to its end)
 * @param failed   inputs that failed
 * @param elapsed  time since the call started
 * @param finished true in the last report of the call
 */
public record Progress(long callId, long done, long total, long failed, Duration elapsed, boolean finished) {

    /**
     * The rate so far.
     *
     * @return inputs answered per second since the call started
     */
    public double ratePerSecond() {
        double seconds = elapsed.toNanos() / 1e9;
        return seconds > 0 ? done / seconds : 0;
    }

    /**
     * The time left at the rate so far.
     *
     * @return the estimate, or empty when the total or the rate is unknown
     */
    public Optional<Duration> eta() {
        double rate = ratePerSecond();
        if (total < 0 || rate <= 0) {
            return Optional.empty();
        }
        return Optional.of(Duration.ofMillis((long) ((total - done) / rate * 1000)));
    }
}
