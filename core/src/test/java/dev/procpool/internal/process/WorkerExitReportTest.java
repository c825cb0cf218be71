package dev.procpool.internal.process;

import static org.assertj.core.api.Assertions.assertThat;

import dev.procpool.WorkerCrashedException;
import dev.procpool.internal.worker.WorkerExitCodes;
import java.util.List;
import org.junit.jupiter.api.Test;

class WorkerExitReportTest {
    @Test
    void aSignalIsALikelyCauseNotAFact() {
        assertThat(WorkerExitReport.describe(137, null, false)).isEqualTo("exit code 137 (SIGKILL?)");
        assertThat(WorkerExitReport.describe(1, null, false)).isEqualTo("exit code 1");
        assertThat(WorkerExitReport.describe(-1, null, false)).isEqualTo("exit code unknown");
    }

    @Test
    void theWorkersOwnCodesAreSaidAsSuch() {
        assertThat(WorkerExitReport.describe(WorkerExitCodes.PROTOCOL_ERROR, null, false))
                .isEqualTo("exit code 71 (a worker's own code: protocol error)");
        assertThat(WorkerExitReport.describe(WorkerExitCodes.PARENT_GONE, null, false)).contains("parent gone");
        assertThat(WorkerExitReport.describe(WorkerExitCodes.INIT_FAILED, null, false)).contains("initializer failed");
    }

    @Test
    void aCorruptChannelAndATimeoutComeFirst() {
        assertThat(WorkerExitReport.describe(137, "corrupt channel: bad magic", true))
                .isEqualTo("corrupt channel: bad magic; killed after the task timeout; exit code 137 (SIGKILL?)");
    }

    @Test
    void theBlamedTaskHearsWhoDiedHowAndTheLastStderrLines() {
        WorkerExitReport report = new WorkerExitReport("worker-3 (pid 42)", 134, "exit code 134 (SIGABRT?)",
                List.of("fatal error", "core dumped"));
        WorkerCrashedException crash = report.crashOf(7);
        assertThat(crash.inputIndex()).isEqualTo(7);
        assertThat(crash.exitCode()).isEqualTo(134);
        assertThat(crash.lastStderrLines()).containsExactly("fatal error", "core dumped");
        assertThat(crash.getMessage()).isEqualTo("worker-3 (pid 42) died while running the task for input 7: "
                + "exit code 134 (SIGABRT?); last stderr lines:\n  fatal error\n  core dumped");
    }
}
