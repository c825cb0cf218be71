package dev.procpool;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import dev.procpool.testing.NoProcessLeft;
import java.io.IOException;
import java.io.ObjectOutputStream;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Issue 13, item 4: whatever a task's exception does when it is described (its {@code getMessage},
 * {@code toString}, {@code getCause} or stack trace throw or never end, its serialization throws an
 * Error), the caller gets a {@link TaskFailedException} for that input, what could not be read is said
 * as text, and the worker lives. In both modes: a pool thread must not die of it either.
 */
@Timeout(60)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@NoProcessLeft(NoProcessLeft.Scope.CLASS)
class HostileExceptionTest {
    private ProcessPool processes;
    private ProcessPool threads;

    /** Each way a thrown object can resist being described. */
    enum Hostility {
        MESSAGE_THROWS, TO_STRING_THROWS, LOCALIZED_MESSAGE_RETURNS_NULL_AND_TO_STRING_THROWS, CAUSE_THROWS,
        ENDLESS_CAUSE_CHAIN, CAUSE_CYCLE, STACK_TRACE_THROWS, SERIALIZATION_THROWS_AN_ERROR, BARE_THROWABLE
    }

    static class Hostile extends RuntimeException {
        private static final long serialVersionUID = 1L;
        final Hostility how;

        Hostile(Hostility how) {
            super("hostile " + how);
            this.how = how;
        }

        @Override
        public String getMessage() {
            if (how == Hostility.MESSAGE_THROWS) {
                throw new IllegalStateException("getMessage refuses");
            }
            return super.getMessage();
        }

        @Override
        public String getLocalizedMessage() {
            return how == Hostility.LOCALIZED_MESSAGE_RETURNS_NULL_AND_TO_STRING_THROWS ? null : getMessage();
        }

        @Override
        public String toString() {
            if (how == Hostility.TO_STRING_THROWS || how == Hostility.LOCALIZED_MESSAGE_RETURNS_NULL_AND_TO_STRING_THROWS) {
                throw new UnsupportedOperationException("toString refuses");
            }
            return super.toString();
        }

        @Override
        public synchronized Throwable getCause() {
            return switch (how) {
                case CAUSE_THROWS -> throw new IllegalStateException("getCause refuses");
                case ENDLESS_CAUSE_CHAIN -> new Hostile(Hostility.ENDLESS_CAUSE_CHAIN); // a new one every time
                default -> super.getCause();
            };
        }

        @Override
        public StackTraceElement[] getStackTrace() {
            if (how == Hostility.STACK_TRACE_THROWS) {
                throw new IllegalStateException("getStackTrace refuses");
            }
            return super.getStackTrace();
        }

        @Override
        public void printStackTrace(java.io.PrintWriter s) {
            if (how == Hostility.STACK_TRACE_THROWS) {
                throw new IllegalStateException("printStackTrace refuses");
            }
            super.printStackTrace(s);
        }

        private void writeObject(ObjectOutputStream out) throws IOException {
            if (how == Hostility.SERIALIZATION_THROWS_AN_ERROR) {
                throw new AssertionError("writeObject refuses");
            }
            out.defaultWriteObject();
        }
    }

    @SuppressWarnings("unchecked")
    private static <T extends Throwable> void sneaky(Throwable t) throws T {
        throw (T) t;
    }

    static Object throwHostile(String how) {
        Hostility hostility = Hostility.valueOf(how);
        switch (hostility) {
            case CAUSE_CYCLE -> {
                RuntimeException a = new RuntimeException("a");
                RuntimeException b = new RuntimeException("b", a);
                a.initCause(b);
                throw a;
            }
            case BARE_THROWABLE -> HostileExceptionTest.<RuntimeException>sneaky(new Throwable("neither Exception nor Error"));
            default -> throw new Hostile(hostility);
        }
        return null;
    }

    @BeforeAll
    void startPools() {
        processes = ProcessPool.builder().workers(1).build();
        threads = ProcessPool.builder().workers(1).mode(PoolMode.THREADS).build();
    }

    @AfterAll
    void closePools() {
        try (ProcessPool p = processes; ProcessPool t = threads) {
            assertThat(p.stats().workerCrashes()).as("no hostile exception may crash a worker").isZero();
            assertThat(p.map(x -> x + 1, List.of(1, 2))).containsExactly(2, 3);
            assertThat(t.map(x -> x + 1, List.of(1, 2))).containsExactly(2, 3);
        }
    }

    @ParameterizedTest
    @EnumSource(Hostility.class)
    void inAWorkerJvm(Hostility how) {
        check(processes, how);
    }

    @ParameterizedTest
    @EnumSource(Hostility.class)
    void inAPoolThread(Hostility how) {
        check(threads, how);
    }

    private static void check(ProcessPool pool, Hostility how) {
        String name = how.name();
        Throwable thrown = catchThrowable(() -> pool.map(x -> x == 1 ? throwHostile(name) : x, List.of(0, 1, 2)));
        assertThat(thrown).isInstanceOf(TaskFailedException.class);
        TaskFailedException failed = (TaskFailedException) thrown;
        assertThat(failed.inputIndex()).isEqualTo(1);
        String expectedClass = switch (how) {
            case CAUSE_CYCLE -> RuntimeException.class.getName();
            case BARE_THROWABLE -> Throwable.class.getName();
            default -> Hostile.class.getName();
        };
        assertThat(failed.remoteClassName()).isEqualTo(expectedClass);
        assertThat(failed.getMessage()).contains("input 1");
        switch (how) {
            case MESSAGE_THROWS -> assertThat(failed.getMessage()).contains("getMessage").contains("getMessage refuses");
            case TO_STRING_THROWS -> assertThat(failed.getMessage()).contains("hostile TO_STRING_THROWS");
            case CAUSE_THROWS -> assertThat(failed.getMessage()).contains("getCause refuses");
            case STACK_TRACE_THROWS -> assertThat(failed.getMessage()).contains("getStackTrace refuses");
            default -> { }
        }
        // whatever the caller gets must itself be safe to print
        assertThat(failed.toString()).isNotNull();
        java.io.StringWriter text = new java.io.StringWriter();
        failed.printStackTrace(new java.io.PrintWriter(text));
        assertThat(text.toString()).contains("input 1");
        // the pool serves on, in the same worker
        assertThat(pool.map(x -> x * 3, List.of(1, 2))).containsExactly(3, 6);
    }
}
