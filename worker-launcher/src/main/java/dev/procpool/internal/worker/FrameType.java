package dev.procpool.internal.worker;

/**
 * The message types of the wire protocol; one byte in every frame header. Each has one class that
 * encodes and decodes its payload, used by both sides: {@link ConfigMessage}, {@link FunctionMessage},
 * {@link TasksMessage}, {@link ReleaseMessage}, {@link ShutdownMessage}, {@link ReadyMessage},
 * {@link ResultsMessage}, {@link InitFailedMessage}, {@link HeartbeatMessage}, {@link CodeMessage},
 * {@link SharedMessage}.
 */
public final class FrameType {
    private FrameType() {}

    // parent -> worker
    /** Worker settings and the optional initializer; always the first frame a worker reads. */
    public static final byte CONFIG = 1;
    /** A function, by id, sent once per worker before the first chunk that uses it. */
    public static final byte FUNCTION = 2;
    /** A chunk of inputs for a function already sent. */
    public static final byte TASKS = 3;
    /** The parent no longer sends tasks for this function id; the worker may forget it. */
    public static final byte RELEASE = 4;
    /** Finish the queued tasks, then exit. */
    public static final byte SHUTDOWN = 5;
    /** Are you alive? Sent only to a worker that has been quiet for a while. */
    public static final byte PING = 6;
    /** The bytes of a class a worker asked for with CLASS_REQUEST, or "not found". */
    public static final byte CLASS_BYTES = 7;
    /** The bytes of a resource a worker asked for with RESOURCE_REQUEST, or "not found". */
    public static final byte RESOURCE_BYTES = 8;
    /** Where the value a worker asked for with SHARED_REQUEST is (a segment reference), or why it is not. */
    public static final byte SHARED_VALUE = 9;
    /** A shared value was closed: the worker drops its copy, and later get()s fail. */
    public static final byte SHARED_RELEASE = 10;

    // worker -> parent
    /** The worker has run its initializer and takes tasks: pid, JVM version. */
    public static final byte READY = 20;
    /** One or more results, in the order the tasks were sent. */
    public static final byte RESULTS = 21;
    /** The initializer threw; the worker exits after sending this. */
    public static final byte INIT_FAILED = 22;
    /** The answer to PING, from the worker's stdin reader. */
    public static final byte PONG = 23;
    /** A class the worker's class path lacks: the parent answers with CLASS_BYTES from the caller's loader. */
    public static final byte CLASS_REQUEST = 24;
    /** A resource the worker's class path lacks: the parent answers with RESOURCE_BYTES. */
    public static final byte RESOURCE_REQUEST = 25;
    /** A task called get() on a shared value this worker does not have yet: the parent answers with SHARED_VALUE. */
    public static final byte SHARED_REQUEST = 26;
}
