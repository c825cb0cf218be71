package dev.procpool.internal.process;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class WorkerCommandTest {

    @Test
    void jvmLoggingIsKeptOffTheFrameChannel() {
        assertThat(WorkerCommand.logToStderr("-Xlog:gc")).isEqualTo("-Xlog:gc:stderr");
        assertThat(WorkerCommand.logToStderr("-Xlog:gc*=debug:stdout")).isEqualTo("-Xlog:gc*=debug:stderr");
        assertThat(WorkerCommand.logToStderr("-Xlog:gc::uptime")).isEqualTo("-Xlog:gc:stderr:uptime");
        assertThat(WorkerCommand.logToStderr("-Xlog")).isEqualTo("-Xlog:all=info:stderr");
        assertThat(WorkerCommand.logToStderr("-Xlog:gc:file=gc.log")).isEqualTo("-Xlog:gc:file=gc.log");
        assertThat(WorkerCommand.logToStderr("-verbose:gc")).isEqualTo("-Xlog:gc:stderr");
        assertThat(WorkerCommand.logToStderr("-XX:+PrintGCDetails")).isEqualTo("-Xlog:gc*:stderr");
        assertThat(WorkerCommand.logToStderr("-Xmx1g")).isEqualTo("-Xmx1g");
        assertThat(WorkerCommand.logToStderr("-Xlog:disable")).isEqualTo("-Xlog:disable");
    }
}
