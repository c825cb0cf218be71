package dev.procpool.internal.engine;

import dev.procpool.Progress;
import dev.procpool.ProgressListener;

import java.time.Duration;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Reports the progress of a pool's multi-input calls to its listener from one daemon thread. */
public final class ProgressReporter {
    private static final Logger log = LoggerFactory.getLogger(ProgressReporter.class);
    public static final long INTERVAL_MILLIS = 200;

    private final ProgressListener listener;
    private final Set<Job> watched = ConcurrentHashMap.newKeySet();
    private Thread ticker;

    public ProgressReporter(ProgressListener listener) {
        this.listener = listener;
    }

    public void watch(Job job) {
        if (job.totalInputs() == 1) {
            return;
        }
        watched.add(job);
        job.completion().whenComplete((r, e) -> {
            watched.remove(job);
            report(job, true);
        });
        startTicker();
    }

    private synchronized void startTicker() {
        if (ticker == null) {
            ticker = new Thread(this::tick, "procpool-progress");
            ticker.setDaemon(true);
            ticker.start();
        }
    }

    private void tick() {
        while (true) {
            try {
                Thread.sleep(INTERVAL_MILLIS);
            } catch (InterruptedException e) {
                return;
            }
            for (Job job : watched) {
                report(job, false);
            }
        }
    }

    private void report(Job job, boolean finished) {
        // the ticker and a completing thread may both report: one listener call at a time
        synchronized (this) {
            if (job.progressFinished) {
                return;
            }
            job.progressFinished = finished;
            try {
                listener.onProgress(new Progress(job.id, job.doneInputs(), job.totalInputs(), job.failedInputs(),
                        Duration.ofNanos(System.nanoTime() - job.startNanos), finished));
            } catch (RuntimeException e) {
                log.warn("procpool: the progress listener threw", e);
            }
        }
    }

    public synchronized void stop() {
        if (ticker != null) {
            ticker.interrupt();
        }
    }
}
