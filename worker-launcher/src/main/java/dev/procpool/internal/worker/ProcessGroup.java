package dev.procpool.internal.worker;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Ends the processes a worker's tasks started. A worker is launched as the leader of its own process
 * group (see {@code WorkerCommand}), so everything its tasks start shares the worker's pid as group id,
 * and keeps it after being re-parented to pid 1 when its own parent exits: the group, not the parent
 * chain, is what finds orphans. Java cannot signal a group, so members are found in {@code /proc} and
 * killed one by one, pass after pass, until none is left (a member may fork while we kill). Where there
 * is no {@code /proc}, only the live descendants can be found.
 */
public final class ProcessGroup {
    private static final Path PROC = Path.of("/proc");
    private static final int MAX_PASSES = 10;

    private ProcessGroup() {}

    /** This process's group id, or -1 when it cannot be read. */
    public static long groupOf(long pid) {
        String[] fields = stat(pid);
        return fields == null ? -1 : parse(fields[2]);
    }

    /**
     * Kills, with SIGKILL, every live process of group {@code pgid} except {@code except} (the caller,
     * when it is a member). Returns how many it killed.
     */
    public static int killMembers(long pgid, long except) {
        if (pgid <= 1 || !Files.isDirectory(PROC)) {
            return 0;
        }
        int killed = 0;
        for (int pass = 0; pass < MAX_PASSES; pass++) {
            List<Long> members = members(pgid, except);
            if (members.isEmpty()) {
                break;
            }
            for (long pid : members) {
                if (ProcessHandle.of(pid).map(ProcessHandle::destroyForcibly).orElse(false)) {
                    killed++;
                }
            }
        }
        return killed;
    }

    /**
     * The worker's own end: kills its descendants, and the other members of its group when it leads
     * one (so a task's orphans too). Called before the worker exits for any reason it controls.
     */
    public static void killOwnTree() {
        long self = ProcessHandle.current().pid();
        ProcessHandle.current().descendants().forEach(ProcessHandle::destroyForcibly);
        if (groupOf(self) == self) {
            killMembers(self, self);
        }
    }

    private static List<Long> members(long pgid, long except) {
        List<Long> members = new ArrayList<>();
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(PROC)) {
            for (Path entry : entries) {
                String name = entry.getFileName().toString();
                if (name.isEmpty() || !Character.isDigit(name.charAt(0))) {
                    continue;
                }
                long pid = parse(name);
                if (pid == except || pid <= 1) {
                    continue;
                }
                String[] fields = stat(pid);
                // a zombie is already dead: it waits only for its parent (or pid 1) to reap it
                if (fields != null && parse(fields[2]) == pgid && !fields[0].equals("Z") && !fields[0].equals("X")) {
                    members.add(pid);
                }
            }
        } catch (IOException | RuntimeException e) {
            // /proc changed under us or is unreadable: the next pass, or the caller's next kill, tries again
        }
        return members;
    }

    /** The fields of {@code /proc/<pid>/stat} after the command name: state, ppid, pgrp, ...; null if gone. */
    private static String[] stat(long pid) {
        try {
            String text = new String(Files.readAllBytes(PROC.resolve(Long.toString(pid)).resolve("stat")),
                    StandardCharsets.US_ASCII);
            int close = text.lastIndexOf(')'); // the command name may hold spaces and parentheses
            return close < 0 ? null : text.substring(close + 2).trim().split(" ");
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }

    private static long parse(String number) {
        try {
            return Long.parseLong(number);
        } catch (NumberFormatException e) {
            return -1;
        }
    }
}
