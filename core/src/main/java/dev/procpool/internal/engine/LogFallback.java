package dev.procpool.internal.engine;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.helpers.NOPLoggerFactory;

/**
 * What must reach a person even when the application has no SLF4J provider (SLF4J then drops every
 * line): what tasks print, and the warning that a pool runs on threads instead of worker JVMs. Without a
 * provider those go to this JVM's stderr, the way a Python child's output does; with one, through SLF4J.
 */
public final class LogFallback {
    private static volatile Boolean noProvider;

    private LogFallback() {}

    /** True when SLF4J found no provider and drops everything; checked once. */
    public static boolean noProvider() {
        Boolean known = noProvider;
        if (known == null) {
            known = LoggerFactory.getILoggerFactory() instanceof NOPLoggerFactory;
            noProvider = known;
        }
        return known;
    }

    /** A WARN line through SLF4J, or on stderr when nothing would show it. */
    public static void warn(Logger log, String message) {
        if (noProvider()) {
            ConsoleLine.above(() -> System.err.println("[procpool] WARN " + message));
        } else {
            log.warn(message);
        }
    }
}
