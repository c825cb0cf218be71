package dev.procpool.internal.process;

import dev.procpool.internal.engine.ConsoleLine;
import dev.procpool.internal.engine.LogFallback;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import org.apache.commons.exec.LogOutputStream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Where a worker's stderr goes (and its {@code System.out}, which the worker points there): each line
 * is logged through SLF4J tagged with the worker's id (on this JVM's stderr when SLF4J has no provider),
 * and the last lines are kept for crash reports. A worker on trial (AUTO mode) holds its lines until it
 * is ready: if it never is, they are only in the fallback's reason and at DEBUG, not a dozen INFO lines.
 */
public final class StderrTail extends LogOutputStream {
    static final int KEPT_LINES = 20;
    private static final int MAX_HELD_LINES = 200;
    private static final Logger log = LoggerFactory.getLogger("dev.procpool.worker");

    /** The worker's name in log lines; a spare gets its pool's name for it when taken. */
    private volatile String tag;
    private final ArrayDeque<String> last = new ArrayDeque<>(KEPT_LINES);
    /** Lines held back while on trial; null when lines go out as they come. Guarded by last. */
    private List<String> held;

    StderrTail(String tag) {
        this.tag = tag;
    }

    @Override
    protected void processLine(String line, int level) {
        synchronized (last) {
            if (last.size() == KEPT_LINES) {
                last.removeFirst();
            }
            last.addLast(line);
            if (held != null) {
                if (held.size() < MAX_HELD_LINES) {
                    held.add(line);
                }
                log.debug("[{}] {}", tag, line);
                return;
            }
        }
        relay(line);
    }

    private void relay(String line) {
        if (LogFallback.noProvider()) {
            ConsoleLine.above(() -> System.err.println("[" + tag + "] " + line));
        } else {
            ConsoleLine.above(() -> log.info("[{}] {}", tag, line));
        }
    }

    /** Tags the lines from now on with this name. */
    void retag(String tag) {
        this.tag = tag;
    }

    /** Holds lines back from now on, until {@link #release()}. */
    void hold() {
        synchronized (last) {
            held = new ArrayList<>();
        }
    }

    /** Relays the held lines and every later one as it comes. */
    void release() {
        List<String> lines;
        synchronized (last) {
            lines = held;
            held = null;
        }
        if (lines != null) {
            lines.forEach(this::relay);
        }
    }

    List<String> lastLines() {
        synchronized (last) {
            return List.copyOf(last);
        }
    }
}
