package dev.procpool.testing;

import dev.procpool.internal.process.SpareWorkers;
import dev.procpool.testing.ProcessTree.Proc;
import java.time.Duration;
import java.util.LinkedHashSet;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.platform.commons.support.AnnotationSupport;

/**
 * The no-process-left check of {@link NoProcessLeft}, written once.
 *
 * <p>Before the test (or class) it records this JVM's live descendants, the baseline. While the test runs
 * a daemon thread samples the process tree every {@value #SAMPLE_MILLIS} ms and remembers every new
 * descendant it sees: a worker's child is reparented to PID 1 when its worker dies and then is no longer
 * a descendant, but it is still checked. After the test, every process seen or descending now and not in
 * the baseline must be gone (exited, or a zombie: see {@link ProcessTree}) within
 * {@link NoProcessLeft#graceMillis()}; otherwise the test fails naming them, and they are killed so that
 * they do not spoil the next test. The spare worker JVMs the library keeps at that moment for later pools
 * ({@link SpareWorkers}) are not the test's: they are not counted (their own tests check their end).
 */
public final class NoProcessLeftExtension
        implements BeforeAllCallback, AfterAllCallback, BeforeEachCallback, AfterEachCallback {
    static final long SAMPLE_MILLIS = 50;
    private static final ExtensionContext.Namespace NAMESPACE =
            ExtensionContext.Namespace.create(NoProcessLeftExtension.class);

    @Override
    public void beforeAll(ExtensionContext context) {
        if (settings(context).value() == NoProcessLeft.Scope.CLASS) {
            start(context);
        }
    }

    @Override
    public void afterAll(ExtensionContext context) {
        if (settings(context).value() == NoProcessLeft.Scope.CLASS) {
            check(context);
        }
    }

    @Override
    public void beforeEach(ExtensionContext context) {
        if (settings(context).value() == NoProcessLeft.Scope.EACH_TEST) {
            start(context);
        }
    }

    @Override
    public void afterEach(ExtensionContext context) {
        if (settings(context).value() == NoProcessLeft.Scope.EACH_TEST) {
            check(context);
        }
    }

    private static NoProcessLeft settings(ExtensionContext context) {
        Class<?> type = context.getRequiredTestClass();
        return AnnotationSupport.findAnnotation(type, NoProcessLeft.class).orElseThrow(() ->
                new IllegalStateException(type + " uses NoProcessLeftExtension without @NoProcessLeft"));
    }

    private static void start(ExtensionContext context) {
        Watch watch = new Watch(context.getDisplayName());
        context.getStore(NAMESPACE).put(Watch.class, watch); // closed (sampler stopped) with the context
    }

    private static void check(ExtensionContext context) {
        Watch watch = context.getStore(NAMESPACE).remove(Watch.class, Watch.class);
        if (watch != null) { // else the baseline was never taken: the start failed, and said so
            watch.verify(Duration.ofMillis(settings(context).graceMillis()));
        }
    }

    /** The baseline and the sampler of one test or class. */
    static final class Watch implements ExtensionContext.Store.CloseableResource {
        final String name;
        final Set<Proc> baseline = ProcessTree.liveDescendants();
        final Set<Proc> seen = ConcurrentHashMap.newKeySet();
        private final Thread sampler;
        private volatile boolean stopped;

        Watch(String name) {
            this.name = name;
            sampler = new Thread(this::sample, "no-process-left-sampler");
            sampler.setDaemon(true);
            sampler.start();
        }

        private void sample() {
            while (!stopped) {
                record();
                try {
                    Thread.sleep(SAMPLE_MILLIS);
                } catch (InterruptedException e) {
                    return;
                }
            }
        }

        private void record() {
            for (Proc proc : ProcessTree.liveDescendants()) {
                if (!baseline.contains(proc)) {
                    seen.add(proc);
                }
            }
        }

        /**
         * Stops sampling and waits until every new process is gone; throws an {@link AssertionError} naming
         * those left at the deadline, after killing them.
         */
        void verify(Duration grace) {
            close();
            Set<Proc> left = awaitNewGone(grace);
            if (!left.isEmpty()) {
                String names = ProcessTree.describe(left);
                left.forEach(p -> ProcessHandle.of(p.pid()).ifPresent(h -> {
                    h.descendants().forEach(ProcessHandle::destroyForcibly);
                    h.destroyForcibly();
                }));
                throw new AssertionError("processes left behind by " + name + " (now killed): " + names);
            }
        }

        /** Waits until every new process is gone, looking for new descendants too; returns those left. */
        Set<Proc> awaitNewGone(Duration timeout) {
            long deadline = System.nanoTime() + timeout.toNanos();
            while (true) {
                record();
                Set<Long> spares = SpareWorkers.pids(); // seen while starting; the library keeps them for later pools
                Set<Proc> alive = new LinkedHashSet<>();
                for (Proc proc : seen) {
                    if (!proc.isGone() && !spares.contains(proc.pid())) {
                        alive.add(proc);
                    }
                }
                if (alive.isEmpty() || System.nanoTime() - deadline > 0) {
                    return alive;
                }
                try {
                    Thread.sleep(10);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return alive;
                }
            }
        }

        @Override
        public void close() {
            stopped = true;
            sampler.interrupt();
            try {
                sampler.join(1_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
