package dev.procpool.internal.process;

import dev.procpool.internal.engine.ConsoleLine;
import java.util.ArrayDeque;
import java.util.List;
import org.apache.commons.exec.LogOutputStream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Where a worker's stderr goes (and its {@code System.out}, which the worker points there): each line
 * is logged through SLF4J tagged with the worker's id, and the last lines are kept for crash reports.
 */
public final class StderrTail extends LogOutputStream {
    static final int KEPT_LINES = 20;
    private static final Logger log = LoggerFactory.getLogger("dev.procpool.worker");

    private final String tag;
    private final ArrayDeque<String> last = new ArrayDeque<>(KEPT_LINES);

    StderrTail(String tag) {
        this.tag = tag;
    }

    @Override
    protected void processLine(String line, int level) {
        ConsoleLine.above(() -> log.info("[{}] {}", tag, line));
        synchronized (last) {
            if (last.size() == KEPT_LINES) {
                last.removeFirst();
            }
            last.addLast(line);
        }
    }

    List<String> lastLines() {
        synchronized (last) {
            return List.copyOf(last);
        }
    }
}
