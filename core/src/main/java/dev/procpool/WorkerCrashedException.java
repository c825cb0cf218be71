package dev.procpool;

import java.util.List;

/**
 * The worker JVM died while running this task ({@code System.exit}, {@code halt}, a signal, an
 * {@code OutOfMemoryError}, a native crash, or a corrupt channel). The message names the exit code or
 * signal and the last lines the worker wrote to stderr. A replacement worker is started; the pool
 * goes on. With {@link ProcessPool.Builder#retries(int)} the task was run that many more times first.
 */
public class WorkerCrashedException extends ProcessPoolException {
    private static final long serialVersionUID = 1L;
    /** The worker's exit value, or -1 when unknown. */
    private final int exitCode;
    /** The last lines of the worker's stderr. */
    private final List<String> lastStderrLines;

    /**
     * A crash while running one input's task.
     *
     * @param inputIndex      the input's index
     * @param message         what the caller reads
     * @param exitCode        the worker's exit value, or -1 when unknown
     * @param lastStderrLines the last lines the worker wrote to stderr
     */
    public WorkerCrashedException(long inputIndex, String message, int exitCode, List<String> lastStderrLines) {
        super(message, null, inputIndex);
        this.exitCode = exitCode;
        this.lastStderrLines = List.copyOf(lastStderrLines);
    }

    /**
     * How the worker ended.
     *
     * @return its exit value; 128+N means it was killed by signal N or exited with that code; -1 unknown
     */
    public int exitCode() {
        return exitCode;
    }

    /**
     * What the worker last said.
     *
     * @return the last lines the worker wrote to stderr before it died, oldest first
     */
    public List<String> lastStderrLines() {
        return lastStderrLines;
    }
}
