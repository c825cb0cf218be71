package dev.procpool.internal.engine;

import java.io.PrintStream;

/**
 * The one live progress line on a terminal stream, shared by the console progress listener and the
 * relay of worker output: a relayed line must not land in the middle of the progress line, so the
 * line is cleared before it and drawn again after it.
 */
public final class ConsoleLine {
    private static final Object LOCK = new Object();
    // Guarded by LOCK.
    private static PrintStream stream;
    private static String shown = "";

    private ConsoleLine() {}

    /** Draws {@code text} in place of the line on {@code out}; nothing when the line already says it. */
    public static void draw(PrintStream out, String text) {
        synchronized (LOCK) {
            if (out == stream && text.equals(shown)) {
                return;
            }
            String padding = " ".repeat(Math.max(0, shown.length() - text.length()));
            out.print("\r" + text + padding);
            out.flush();
            stream = out;
            shown = text;
        }
    }

    /** Draws {@code text} a last time and ends the line: what comes next starts below it. */
    public static void finish(PrintStream out, String text) {
        synchronized (LOCK) {
            draw(out, text);
            out.print('\n');
            out.flush();
            stream = null;
            shown = "";
        }
    }

    /** Runs {@code print} (which writes whole lines) with the live line cleared, then draws the line again. */
    public static void above(Runnable print) {
        synchronized (LOCK) {
            if (stream == null) {
                print.run();
                return;
            }
            stream.print("\r" + " ".repeat(shown.length()) + "\r");
            stream.flush();
            try {
                print.run();
            } finally {
                stream.print(shown);
                stream.flush();
            }
        }
    }
}
