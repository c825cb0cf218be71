package dev.procpool.internal.worker;

import java.util.Map;
import java.util.concurrent.Callable;
import java.util.function.BiFunction;
import java.util.function.Function;

/** Applies a task function of any of the four supported shapes to one input, in a worker or a pool thread. */
public final class TaskInvoker {
    private TaskInvoker() {}

    @SuppressWarnings({"unchecked", "rawtypes"})
    public static Object invoke(Object function, Object input) throws Exception {
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
