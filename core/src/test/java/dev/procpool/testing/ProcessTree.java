package dev.procpool.testing;

import dev.procpool.internal.process.SpareWorkers;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * This JVM's process tree as the tests see it, read from {@code /proc}. A process counts as gone when
 * {@code /proc/<pid>/stat} is missing or says it is a zombie ({@code Z}, or dead {@code X}):
 * {@link ProcessHandle#isAlive()} is true for a zombie, and PID 1 here may take a second or two to reap an
 * orphan. A pid is remembered with its start time, so a pid the kernel hands to a new process later is not
 * taken for the old one.
 */
public final class ProcessTree {
    private ProcessTree() {}

    /** One process: its pid and its start time in clock ticks since boot (field 22 of its stat). */
    public record Proc(long pid, long startTicks) {
        /** True when this process no longer runs: no such pid, a zombie, or the pid now names another process. */
        public boolean isGone() {
            Optional<String[]> stat = stat(pid);
            if (stat.isEmpty()) {
                return true;
            }
            String[] fields = stat.get();
            return isDeadState(fields[0]) || startTicks >= 0 && parseLong(fields[19]) != startTicks;
        }

        /** The command line, for failure messages; "?" once it is gone. */
        public String describe() {
            return pid + " " + ProcessHandle.of(pid).flatMap(h -> h.info().commandLine()).orElse("?");
        }
    }

    /** True when no live process with this pid exists (a zombie counts as gone). */
    public static boolean isGone(long pid) {
        return stat(pid).map(fields -> isDeadState(fields[0])).orElse(true);
    }

    /**
     * This JVM's live (non-zombie) descendants, grandchildren included, as pids; the spare worker JVMs the
     * library keeps for later pools ({@link SpareWorkers}) are not counted: no test leaves them behind.
     */
    public static Set<Long> liveDescendantPids() {
        Set<Long> spares = SpareWorkers.pids();
        return ProcessHandle.current().descendants().map(ProcessHandle::pid)
                .filter(pid -> !isGone(pid) && !spares.contains(pid))
                .collect(Collectors.toCollection(LinkedHashSet::new));
    }

    /** This JVM's live (non-zombie) descendants, grandchildren included, with their start times; spares not counted. */
    public static Set<Proc> liveDescendants() {
        Set<Long> spares = SpareWorkers.pids();
        Set<Proc> live = new LinkedHashSet<>();
        ProcessHandle.current().descendants().filter(h -> !spares.contains(h.pid()))
                .forEach(h -> proc(h.pid()).ifPresent(live::add));
        return live;
    }

    /** The process with this pid if it is alive now. */
    public static Optional<Proc> proc(long pid) {
        return stat(pid).filter(fields -> !isDeadState(fields[0])).map(fields -> new Proc(pid, parseLong(fields[19])));
    }

    /** Waits until every process is gone; returns those still alive at the deadline (empty: all gone). */
    public static Set<Proc> awaitGone(Collection<Proc> procs, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        Set<Proc> alive = new LinkedHashSet<>(procs);
        while (true) {
            alive.removeIf(Proc::isGone);
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

    public static String describe(Collection<Proc> procs) {
        return procs.stream().map(Proc::describe).collect(Collectors.joining("; ", "[", "]"));
    }

    /** The fields of {@code /proc/<pid>/stat} after the command name: [0] is the state, [19] the start time. */
    private static Optional<String[]> stat(long pid) {
        String text;
        try {
            text = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
        } catch (IOException e) {
            return Optional.empty(); // no such process, or it vanished while we read
        }
        int close = text.lastIndexOf(')');
        if (close < 0 || close + 2 >= text.length()) {
            return Optional.empty();
        }
        String[] fields = text.substring(close + 2).trim().split(" ");
        return fields.length > 19 ? Optional.of(fields) : Optional.empty();
    }

    private static boolean isDeadState(String state) {
        return state.equals("Z") || state.equals("X") || state.equals("x");
    }

    private static long parseLong(String field) {
        try {
            return Long.parseLong(field);
        } catch (NumberFormatException e) {
            return -1;
        }
    }
}
