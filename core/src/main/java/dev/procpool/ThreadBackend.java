package dev.procpool;

import dev.procpool.internal.worker.TaskInvoker;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Runs chunks on in-process threads: the same scheduler, jobs and failure types as worker JVMs,
 * without isolation. Inputs and results are passed by reference, not copied.
 */
final class ThreadBackend implements Backend {
    private final Scheduler scheduler;
    private final List<Thread> threads = new ArrayList<>();
    private final long startedNanos = System.nanoTime();
    private volatile boolean stopping;

    ThreadBackend(int workers, Scheduler scheduler) {
        this.scheduler = scheduler;
        for (int i = 0; i < workers; i++) {
            Thread thread = new Thread(this::runChunks, "procpool-thread-" + (i + 1));
            thread.setDaemon(true);
            threads.add(thread);
            thread.start();
        }
    }

    @Override
    public PoolMode mode() {
        return PoolMode.THREADS;
    }

    private void runChunks() {
        try {
            while (!stopping) {
                Chunk chunk = scheduler.poll(100, TimeUnit.MILLISECONDS);
                if (chunk != null) {
                    run(chunk);
                }
            }
        } catch (InterruptedException e) {
            // terminate()
        }
    }

    private static void run(Chunk chunk) {
        Job job = chunk.job();
        for (int i = 0; i < chunk.size() && !job.isFinished(); i++) {
            long index = chunk.indices()[i];
            Object value;
            try {
                value = TaskInvoker.invoke(job.function, chunk.inputs()[i]);
            } catch (Throwable failure) {
                if (failure instanceof VirtualMachineError && !(failure instanceof StackOverflowError)) {
                    throw (VirtualMachineError) failure;
                }
                job.failed(index, taskFailed(index, failure));
                continue;
            }
            job.succeeded(index, value);
        }
    }

    static TaskFailedException taskFailed(long index, Throwable failure) {
        String message = "task for input " + index + " failed: " + failure;
        return new TaskFailedException(index, failure.getClass().getName(), message, failure);
    }

    @Override
    public void shutdown(long deadlineNanos) throws InterruptedException {
        stopping = true;
        scheduler.close();
        for (Thread thread : threads) {
            thread.join(Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadlineNanos - System.nanoTime())));
        }
    }

    @Override
    public void terminate() {
        stopping = true;
        scheduler.close();
        threads.forEach(Thread::interrupt);
    }

    @Override
    public List<PoolStats.Worker> workers() {
        long pid = ProcessHandle.current().pid();
        Duration uptime = Duration.ofNanos(System.nanoTime() - startedNanos);
        List<PoolStats.Worker> list = new ArrayList<>();
        for (int i = 0; i < threads.size(); i++) {
            if (threads.get(i).isAlive()) {
                list.add(new PoolStats.Worker(i + 1, pid, uptime));
            }
        }
        return list;
    }
}
