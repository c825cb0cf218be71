package dev.procpool.internal.process;

import dev.procpool.WorkerCrashedException;
import dev.procpool.internal.worker.WorkerExitCodes;
import java.util.List;

/**
 * What the pool says about a worker's end, in logs and in the {@link WorkerCrashedException} of the
 * task it blames: the exit code read the way it can be read, and the worker's last stderr lines.
 *
 * @param worker who, e.g. "worker-3 (pid 4711)"
 * @param reason from {@link #describe}
 */
record WorkerExitReport(String worker, int exitCode, String reason, List<String> lastStderrLines) {

    /** The crash of the task for input {@code index}. */
    WorkerCrashedException crashOf(long index) {
        return new WorkerCrashedException(index, worker + " died while running the task for input " + index + ": "
                + reason + stderrSuffix(), exitCode, lastStderrLines);
    }

    String stderrSuffix() {
        return lastStderrLines.isEmpty() ? "" : "; last stderr lines:\n  " + String.join("\n  ", lastStderrLines);
    }

    /**
     * The exit in words. A signal and an exit code above 128 look the same from here (SIGKILL gives
     * 137, and so does {@code System.exit(137)}), and a task may exit with a worker's own codes: both
     * are said as likely causes, not facts.
     *
     * @param exitCode   -1 when unknown
     * @param corruption what was wrong with the channel, or null
     */
    static String describe(int exitCode, String corruption, boolean timedOut) {
        StringBuilder text = new StringBuilder();
        if (corruption != null) {
            text.append(corruption).append("; ");
        }
        if (timedOut) {
            text.append("killed after the task timeout; ");
        }
        if (exitCode < 0) {
            text.append("exit code unknown");
            return text.toString();
        }
        text.append("exit code ").append(exitCode);
        String workerReason = WorkerExitCodes.meaning(exitCode);
        if (workerReason != null) {
            text.append(" (a worker's own code: ").append(workerReason).append(')');
        } else if (exitCode > 128 && exitCode <= 128 + 31) {
            text.append(" (").append(signalName(exitCode - 128)).append("?)");
        }
        return text.toString();
    }

    private static String signalName(int signal) {
        return switch (signal) {
            case 1 -> "SIGHUP";
            case 2 -> "SIGINT";
            case 3 -> "SIGQUIT";
            case 4 -> "SIGILL";
            case 6 -> "SIGABRT";
            case 7 -> "SIGBUS";
            case 8 -> "SIGFPE";
            case 9 -> "SIGKILL";
            case 11 -> "SIGSEGV";
            case 13 -> "SIGPIPE";
            case 15 -> "SIGTERM";
            default -> "signal " + signal;
        };
    }
}
