package dev.procpool.internal.worker;

import java.util.Map;
import java.util.concurrent.Callable;
import java.util.function.BiFunction;
import java.util.function.Function;

/**
 * The one place that knows the four task shapes: applies a task function to one input, in a worker
 * JVM or a pool thread. {@code map} passes the input, {@code starmap} a {@link Map.Entry} whose halves
 * become the two arguments, {@code submit} a callable or runnable with no input. A function or input
 * the worker could not rebuild ({@link Unreadable}) fails its task here, with the reason.
 */
public final class TaskInvoker {
    private TaskInvoker() {}

    @SuppressWarnings({"unchecked", "rawtypes"})
    public static Object invoke(Object function, Object input) throws Exception {
        if (function instanceof Unreadable unreadable) {
            throw unreadable.toException();
        }
        if (input instanceof Unreadable unreadable) {
            throw unreadable.toException();
        }
        if (function instanceof Function f) {
            return f.apply(input);
        }
        if (function instanceof BiFunction f) {
            Map.Entry<?, ?> pair = (Map.Entry<?, ?>) input;
            return f.apply(pair.getKey(), pair.getValue());
        }
        if (function instanceof Callable<?> c) {
            return c.call();
        }
        if (function instanceof Runnable r) {
            r.run();
            return null;
        }
        throw new IllegalArgumentException("not a task function: " + function.getClass().getName());
    }
}
