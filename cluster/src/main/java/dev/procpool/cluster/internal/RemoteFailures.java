package dev.procpool.cluster.internal;

import com.esotericsoftware.kryo.kryo5.io.Input;
import com.esotericsoftware.kryo.kryo5.io.Output;
import dev.procpool.ProcessPoolException;
import dev.procpool.TaskFailedException;
import dev.procpool.TaskTimeoutException;
import dev.procpool.WorkerCrashedException;
import dev.procpool.internal.engine.TaskFailures;
import dev.procpool.internal.worker.RemoteFailure;
import java.time.Duration;
import java.util.List;

/**
 * A failed input between a member and the caller. The member's local pool numbers a chunk's inputs
 * from 0 and rebuilt the task's exception in the member's class loader; the caller needs the same
 * exception type naming the input's index in the whole call, with the cause rebuilt in the caller's
 * class loader. {@link #fromMember} is the member's half, {@link #toException} the caller's; a task's
 * exception crosses in worker-launcher's {@link RemoteFailure} form and becomes a
 * {@link TaskFailedException} through the same method as a worker JVM's ({@link TaskFailures#remote}).
 */
final class RemoteFailures {
    static final byte TASK = 0;
    static final byte CRASH = 1;
    static final byte TIMEOUT = 2;
    static final byte OTHER = 3;

    private RemoteFailures() {}

    /**
     * One element's failure as it travels (Kryo, inside a chunk's reply). {@code remote} holds the task's
     * exception in {@link RemoteFailure}'s form, or is null when the member could not rebuild it either;
     * then {@code text} carries the member's message with the remote stack trace.
     */
    record ElementFailure(byte kind, String text, String className, byte[] remote, int exitCode,
            List<String> stderr, long timeoutMillis) {}

    /** Member side: the local pool's failure of local input {@code failure.inputIndex()}, for global input {@code index}. */
    static ElementFailure fromMember(ProcessPoolException failure, long index, String memberName) {
        String where = " (on cluster member " + memberName + ")";
        if (failure instanceof TaskFailedException task) {
            if (task.getCause() != null) {
                Output out = new Output(1024, -1);
                RemoteFailure.write(out, task.getCause());
                return new ElementFailure(TASK, null, task.remoteClassName(), out.toBytes(), 0, List.of(), 0);
            }
            return new ElementFailure(TASK, renumber(failure, index) + where, task.remoteClassName(), null, 0,
                    List.of(), 0);
        }
        if (failure instanceof WorkerCrashedException crash) {
            return new ElementFailure(CRASH, renumber(failure, index) + where, null, null, crash.exitCode(),
                    List.copyOf(crash.lastStderrLines()), 0);
        }
        if (failure instanceof TaskTimeoutException timeout) {
            return new ElementFailure(TIMEOUT, null, null, null, 0, List.of(), timeout.timeout().toMillis());
        }
        return other(renumber(failure, index) + where);
    }

    /** Member side: a failure of the member itself for one input (its pool ended the call, a result cannot travel). */
    static ElementFailure other(String message) {
        return new ElementFailure(OTHER, message, null, null, 0, List.of(), 0);
    }

    /** Caller side: the exception the caller sees for input {@code index}. */
    static ProcessPoolException toException(ElementFailure failure, long index, ClassLoader loader) {
        return switch (failure.kind()) {
            case TASK -> TaskFailures.remote(index, failure.remote() != null
                    ? RemoteFailure.read(new Input(failure.remote()), loader)
                    : new RemoteFailure(failure.className(), null, failure.text(), null));
            case CRASH -> new WorkerCrashedException(index, failure.text(), failure.exitCode(), failure.stderr());
            case TIMEOUT -> new TaskTimeoutException(index, Duration.ofMillis(failure.timeoutMillis()));
            default -> new ProcessPoolException(failure.text(), null, index);
        };
    }

    /** The local pool's message says "input 3" where the caller's call knows it as input 1003. */
    private static String renumber(ProcessPoolException failure, long index) {
        String message = failure.getMessage();
        if (message == null || failure.inputIndex() < 0) {
            return message;
        }
        return message.replaceAll("\\binput " + failure.inputIndex() + "\\b", "input " + index);
    }
}
