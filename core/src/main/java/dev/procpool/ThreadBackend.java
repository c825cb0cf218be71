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
    /** The job each thread is running a task of, by thread index; for cancel(true). */
    private final Job[] running;
    private final long startedNanos = System.nanoTime();
    private volatile boolean stopping;

    ThreadBackend(int workers, Scheduler scheduler) {
        this.scheduler = scheduler;
        this.running = new Job[workers];
        for (int i = 0; i < workers; i++) {
            int slot = i;
            Thread thread = new Thread(() -> runChunks(slot), "procpool-thread-" + (i + 1));
            thread.setDaemon(true);
            threads.add(thread);
            thread.start();
        }
    }

    @Override
    public PoolMode mode() {
        return PoolMode.THREADS;
    }

    private void runChunks(int slot) {
        while (!stopping) {
            Chunk chunk;
            try {
                chunk = scheduler.awaitWork(100, TimeUnit.MILLISECONDS) ? scheduler.pollNow() : null;
            } catch (InterruptedException e) {
                continue; // a cancel(true) that came late, or terminate(): the loop condition decides
            }
            if (chunk != null) {
                synchronized (running) {
                    running[slot] = chunk.job();
                }
                try {
                    run(chunk);
                } finally {
                    synchronized (running) {
                        running[slot] = null;
                    }
                    Thread.interrupted(); // an interrupt meant for this chunk must not hit the next
                }
            }
        }
    }

    @Override
    public void dispatch() {
        scheduler.poke();
    }

    @Override
    public void interruptRunning(Job job) {
        synchronized (running) {
            for (int i = 0; i < running.length; i++) {
                if (running[i] == job) {
                    threads.get(i).interrupt();
                }
            }
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
