package dev.procpool.internal.worker;

import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.Set;

/**
 * A thrown object described as text without trusting it: its {@code getMessage}, {@code toString},
 * {@code getCause} and {@code getStackTrace} are user code that may throw, return null, or (a cause
 * chain that makes a new exception on every call) never end. Each is called once, guarded, and within
 * bounds; what could not be read is said in the text, and {@link #clean()} tells whether anything was.
 * A task's failure must reach the caller even when its exception fights back, and must never take its
 * worker or pool thread down with it.
 */
public final class ThrowableText {
    /** Enough for any real cause chain; an endless one (a new cause per call) stops here. */
    static final int MAX_CAUSES = 32;
    static final int MAX_FRAMES = 1024;
    static final int MAX_SUPPRESSED = 16;
    /** Bounds each text, so that a failure always fits in a frame, however long its message. */
    static final int MAX_MESSAGE_CHARS = 64 * 1024;
    static final int MAX_TRACE_CHARS = 1024 * 1024;

    private final String className;
    private final String message;
    private final String stackTrace;
    private final boolean clean;

    private ThrowableText(String className, String message, String stackTrace, boolean clean) {
        this.className = className;
        this.message = message;
        this.stackTrace = stackTrace;
        this.clean = clean;
    }

    /** Reads {@code failure} once; never throws. */
    public static ThrowableText of(Throwable failure) {
        Reader reader = new Reader();
        String message = reader.message(failure);
        String trace;
        try {
            StringBuilder text = new StringBuilder();
            reader.trace(text, failure, "", "", Collections.newSetFromMap(new IdentityHashMap<>()), 0);
            trace = cut(text.toString(), MAX_TRACE_CHARS);
        } catch (Throwable outOfBounds) { // a StackOverflowError or OutOfMemoryError while describing
            reader.clean = false;
            trace = failure.getClass().getName() + "\n\t<the stack trace could not be read: "
                    + outOfBounds.getClass().getName() + ">";
        }
        return new ThrowableText(failure.getClass().getName(), message, trace, reader.clean);
    }

    /** "class: message", as {@link Throwable#toString()} would say it when it works; never throws. */
    public static String describe(Throwable failure) {
        ThrowableText text = of(failure);
        return text.message == null ? text.className : text.className + ": " + text.message;
    }

    public String className() {
        return className;
    }

    /** The message, or what was said instead when reading it failed; null when it is null. */
    public String message() {
        return message;
    }

    /** As {@link Throwable#printStackTrace()} would print it, with its causes and suppressed ones, bounded. */
    public String stackTrace() {
        return stackTrace;
    }

    /** True when every part was read as the object gave it: then the object itself is safe to pass on. */
    public boolean clean() {
        return clean;
    }

    private static String cut(String text, int max) {
        return text == null || text.length() <= max ? text
                : text.substring(0, max) + "... (" + (text.length() - max) + " more characters cut)";
    }

    private static final class Reader {
        boolean clean = true;

        String message(Throwable t) {
            try {
                return cut(t.getMessage(), MAX_MESSAGE_CHARS);
            } catch (Throwable refused) {
                clean = false;
                return "<getMessage() threw " + safeName(refused) + ">";
            }
        }

        /** {@code toString()}, or what the class and message say when it fails or returns null. */
        String headline(Throwable t) {
            try {
                String s = t.toString();
                if (s != null) {
                    return cut(s, MAX_MESSAGE_CHARS);
                }
                clean = false;
                return t.getClass().getName() + " <toString() returned null>";
            } catch (Throwable refused) {
                clean = false;
                String message = message(t);
                return t.getClass().getName() + (message == null ? "" : ": " + message) + " <toString() threw "
                        + safeName(refused) + ">";
            }
        }

        void trace(StringBuilder out, Throwable t, String caption, String indent, Set<Throwable> seen, int depth) {
            if (!seen.add(t)) {
                out.append(indent).append(caption).append("[CIRCULAR REFERENCE: ").append(headline(t)).append("]\n");
                return;
            }
            if (depth >= MAX_CAUSES) {
                clean = false;
                out.append(indent).append("... the chain of causes goes on; cut after ").append(MAX_CAUSES).append('\n');
                return;
            }
            out.append(indent).append(caption).append(headline(t)).append('\n');
            try {
                StackTraceElement[] frames = t.getStackTrace();
                int shown = frames == null ? 0 : Math.min(frames.length, MAX_FRAMES);
                for (int i = 0; i < shown; i++) {
                    out.append(indent).append("\tat ").append(frames[i]).append('\n');
                }
                if (frames != null && frames.length > shown) {
                    out.append(indent).append("\t... ").append(frames.length - shown).append(" more\n");
                }
            } catch (Throwable refused) {
                clean = false;
                out.append(indent).append("\t<getStackTrace() threw ").append(safeName(refused)).append(">\n");
            }
            Throwable[] suppressed = t.getSuppressed(); // final in Throwable: cannot be overridden
            for (int i = 0; i < Math.min(suppressed.length, MAX_SUPPRESSED); i++) {
                trace(out, suppressed[i], "Suppressed: ", indent + "\t", seen, depth + 1);
            }
            Throwable cause;
            try {
                cause = t.getCause();
            } catch (Throwable refused) {
                clean = false;
                out.append(indent).append("<getCause() threw ").append(safeName(refused)).append(">\n");
                return;
            }
            if (cause != null) {
                trace(out, cause, "Caused by: ", indent, seen, depth + 1);
            }
        }

        /** The class of what was thrown while reading, with its message if that can be had plainly. */
        private String safeName(Throwable refused) {
            String name = refused.getClass().getName();
            try {
                String message = refused.getMessage();
                return message == null ? name : name + ": " + cut(message, 1024);
            } catch (Throwable again) {
                return name;
            }
        }
    }
}
