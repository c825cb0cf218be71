package dev.procpool.examples.bench;

import dev.procpool.SerializableCallable;
import dev.procpool.SerializableRunnable;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;

/**
 * The task functions of {@link PoolBench}, one-to-one with {@code python_pool_bench.py}. Kept in their
 * own small class with no static state so that a worker JVM loads only this, not the benchmark.
 */
final class BenchTasks {
    static final long CRASH_AT = 3;

    private BenchTasks() {}

    /** noop() -> None. */
    static Object noop() {
        return null;
    }

    /** square(x) -> x * x. */
    static Long square(Long x) {
        return x * x;
    }

    /** identity(x) -> x, for longs. */
    static Long identity(Long x) {
        return x;
    }

    /** identity(x) -> x, for byte arrays (Python: bytes). */
    static byte[] identityBytes(byte[] x) {
        return x;
    }

    /** make_big(n) -> b"\x07" * n: one big result (the big_result section). */
    static byte[] makeBig(Integer n) {
        byte[] b = new byte[n];
        java.util.Arrays.fill(b, (byte) 7);
        return b;
    }

    /** value.count(7, i * slice, (i + 1) * slice) with slice = len / parts: the broadcast section's task. */
    static long countSevens(byte[] value, int i, int parts) {
        int slice = value.length / parts;
        long n = 0;
        for (int k = i * slice, end = k + slice; k < end; k++) {
            if (value[k] == 7) {
                n++;
            }
        }
        return n;
    }

    /** Number of primes k with 2 <= k < n by naive trial division; countPrimes(40000) == 4203. */
    static Long countPrimes(Long n) {
        long limit = n;
        long count = 0;
        for (long k = 2; k < limit; k++) {
            boolean prime = true;
            for (long d = 2; d * d <= k; d++) {
                if (k % d == 0) {
                    prime = false;
                    break;
                }
            }
            if (prime) {
                count++;
            }
        }
        return count;
    }

    /**
     * A pool initializer that starts a JFR recording ("profile" settings) in the worker, written to
     * {@code dir/worker-<pid>.jfr} when the worker exits normally. Started through the JFR API because
     * {@code -XX:StartFlightRecording} in a worker's JVM options prints JFR's start-up banner to fd 1,
     * the worker's frame channel (JDK 17 ignores -Xlog for it), which breaks the pool.
     */
    static SerializableRunnable startJfr(String dir) {
        return () -> {
            try {
                jdk.jfr.Recording recording = new jdk.jfr.Recording(jdk.jfr.Configuration.getConfiguration("profile"));
                recording.setDestination(java.nio.file.Path.of(dir, "worker-" + ProcessHandle.current().pid() + ".jfr"));
                recording.setDumpOnExit(true);
                recording.start();
            } catch (IOException | java.text.ParseException e) {
                throw new IllegalStateException(e);
            }
        };
    }

    /** The barrier task as a serializable callable (captured here so a worker loads only this class). */
    static SerializableCallable<String> barrierTask(int port, int waitMillis) {
        return () -> barrierPing(port, waitMillis);
    }

    /**
     * One party of a W-party barrier served by {@link PoolBench.SocketBarrier} in the parent: says who
     * it is ({@code pid/threadId}), then waits until the barrier has seen W distinct parties or
     * {@code waitMillis} passed. Returns {@code pid/threadId/released} or {@code pid/threadId/timeout}.
     */
    static String barrierPing(int port, int waitMillis) throws IOException {
        String me = ProcessHandle.current().pid() + "/" + Thread.currentThread().getId();
        try (Socket socket = new Socket(InetAddress.getLoopbackAddress(), port)) {
            socket.setTcpNoDelay(true);
            socket.setSoTimeout(waitMillis);
            DataOutputStream out = new DataOutputStream(socket.getOutputStream());
            out.writeUTF(me);
            out.flush();
            InputStream in = socket.getInputStream();
            try {
                return me + (in.read() == 1 ? "/released" : "/closed");
            } catch (SocketTimeoutException e) {
                return me + "/timeout";
            }
        }
    }

    // ------------------------------------------------------------------ crash cases (input 3 dies)

    static Long crashSystemExit(Long x) {
        if (x == CRASH_AT) {
            System.exit(1);
        }
        return x;
    }

    /** Python's os._exit(1): no shutdown hooks. */
    static Long crashHalt(Long x) {
        if (x == CRASH_AT) {
            Runtime.getRuntime().halt(1);
        }
        return x;
    }

    /** os.kill(os.getpid(), SIGKILL): the JVM cannot signal itself, so {@code kill -9 <own pid>}. */
    static Long crashSigkill(Long x) {
        if (x == CRASH_AT) {
            try {
                new ProcessBuilder("kill", "-9", Long.toString(ProcessHandle.current().pid()))
                        .redirectOutput(ProcessBuilder.Redirect.DISCARD) // fd 1 of a worker is its frame channel
                        .redirectError(ProcessBuilder.Redirect.INHERIT)
                        .start().waitFor();
                Thread.sleep(10_000); // SIGKILL is asynchronous: never return a result
            } catch (IOException | InterruptedException e) {
                throw new IllegalStateException(e);
            }
        }
        return x;
    }

    /** raise ValueError(f"boom at {x}"). */
    static Long crashRaise(Long x) {
        if (x == CRASH_AT) {
            throw new IllegalArgumentException("boom at " + x);
        }
        return x;
    }
}
