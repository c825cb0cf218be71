package dev.procpool;

/** Lets a task's checked exception through a {@code java.util.function} method unchanged. */
final class CheckedExceptions {
    private CheckedExceptions() {}

    /** Throws {@code e} as it is; declared to return so that callers can write {@code throw rethrow(e)}. */
    static RuntimeException rethrow(Exception e) {
        throw CheckedExceptions.<RuntimeException>unchecked(e);
    }

    @SuppressWarnings("unchecked")
    private static <E extends Exception> E unchecked(Exception e) throws E {
        throw (E) e;
    }
}
