package dev.procpool.contract;

import java.io.FileOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Iterator;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;

/**
 * What the contract's tasks do where they run (a worker JVM, a pool thread, a cluster member's worker),
 * and the test side of their side channel: files in a directory both sides see. Static, so that the
 * lambdas calling them capture only strings and numbers, never a test instance.
 */
public final class ContractTasks {
    private ContractTasks() {}

    // ------------------------------------------------------------------------------ task side

    /** Task side: a pause a plain lambda can call (no checked exception). */
    public static void pause(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }

    /** Task side: appends {@code x} as a line to {@code file}, so the test can count the tasks that started. */
    public static void record(String file, Object x) {
        try (FileOutputStream out = new FileOutputStream(file, true)) {
            out.write((x + "\n").getBytes(StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Task side: writes this process's pid to {@code file} at once (atomically, so tasks parking in parallel on
     * several workers may share the file), then sleeps until stopped.
     */
    public static String markAndPark(String file) throws Exception {
        Path tmp = Path.of(file + "." + ProcessHandle.current().pid() + "-" + Thread.currentThread().getId() + ".tmp");
        Files.writeString(tmp, Long.toString(ProcessHandle.current().pid()));
        Files.move(tmp, Path.of(file), StandardCopyOption.ATOMIC_MOVE);
        Thread.sleep(TimeUnit.MINUTES.toMillis(2)); // a kill (processes) or an interrupt (threads) ends it
        return "not stopped";
    }

    /** Task side: fails for the inputs that {@code failing} names, after {@code slowFor}'s input pauses. */
    /** Marks that it runs, then waits (bounded) until {@code release} exists. */
    public static String markAndWaitFor(String marker, String release) throws Exception {
        Files.writeString(Path.of(marker + ".tmp"), "running");
        Files.move(Path.of(marker + ".tmp"), Path.of(marker), java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        long deadline = System.nanoTime() + 60_000_000_000L;
        while (!Files.exists(Path.of(release)) && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        return "released";
    }

    public static int failSome(int x, int slowFor, long slowMillis, int... failing) {
        if (x == slowFor) {
            pause(slowMillis);
        }
        for (int f : failing) {
            if (x == f) {
                throw new IllegalArgumentException("bad " + x);
            }
        }
        return x * 10;
    }

    // ------------------------------------------------------------------------------ test side

    /** Test side: the lines written so far by {@link #record}. */
    public static int countLines(Path file) {
        try {
            return Files.exists(file) ? (int) Files.readAllLines(file).stream().filter(l -> !l.isBlank()).count() : 0;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Test side: polls until the condition holds; throws naming {@code what} at the deadline. */
    public static void await(String what, long timeoutMillis, BooleanSupplier condition) {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() - deadline > 0) {
                throw new AssertionError("timed out after " + timeoutMillis + " ms waiting for: " + what);
            }
            try {
                Thread.sleep(5);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError("interrupted waiting for: " + what, e);
            }
        }
    }

    /**
     * Test side: an endless input that counts what the pool pulled from it and, knowing how many results
     * the consumer took ({@link #consumed}), the largest lead the reading ever had.
     */
    public static final class Endless implements Iterable<Long> {
        public final AtomicLong pulled = new AtomicLong();
        public final AtomicLong consumed = new AtomicLong();
        public final AtomicLong maxLead = new AtomicLong();

        @Override
        public Iterator<Long> iterator() {
            return new Iterator<>() {
                @Override
                public boolean hasNext() {
                    return true;
                }

                @Override
                public Long next() {
                    long n = pulled.getAndIncrement();
                    maxLead.accumulateAndGet(n + 1 - consumed.get(), Math::max);
                    return n;
                }
            };
        }

        /**
         * Waits until the pool has stopped pulling (no change for 300 ms; the pool waits for room) and
         * returns the count; throws if it keeps reading for 20 s, which an unbounded read-ahead does.
         */
        public long settled() {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            long last = -1;
            long stableSince = System.nanoTime();
            while (System.nanoTime() < deadline) {
                long now = pulled.get();
                if (now != last) {
                    last = now;
                    stableSince = System.nanoTime();
                } else if (System.nanoTime() - stableSince > TimeUnit.MILLISECONDS.toNanos(300)) {
                    return now;
                }
                pause(10);
            }
            throw new AssertionError("the input kept being read: " + pulled.get() + " pulled, "
                    + consumed.get() + " consumed");
        }
    }

    /** Test side: an input that yields {@code 0 .. failAt-1}, then throws {@code IllegalStateException("source broke")}. */
    public static Iterable<Integer> failingAt(int failAt) {
        return () -> new Iterator<>() {
            int next;

            @Override
            public boolean hasNext() {
                return true;
            }

            @Override
            public Integer next() {
                if (next == failAt) {
                    throw new IllegalStateException("source broke");
                }
                return next++;
            }
        };
    }
}
