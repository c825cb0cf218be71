package dev.procpool;

import java.io.Serializable;
import java.util.function.Function;

/**
 * A task function that can be sent to a worker JVM. Plain lambdas and method references become
 * serializable when their target type is this interface; what they capture is serialized with them
 * (Kryo: no {@code Serializable} needed on captured values, but a captured {@code Thread}, socket or lock
 * cannot travel). The task may throw checked exceptions ({@code pool.map(Files::size, paths)}): the
 * caller then gets a {@link TaskFailedException} whose cause is that exception.
 *
 * <p>It is also a {@link Function}, so it fits where one is expected; {@link #apply} throws what
 * {@link #call} throws, checked exceptions included, undeclared. A {@code java.util.function.Function}
 * held in a variable is not serializable: declare the variable as {@code SerializableFunction} instead of
 * passing {@code f::apply}.
 *
 * @param <T> the input type
 * @param <R> the result type
 */
@FunctionalInterface
public interface SerializableFunction<T, R> extends Function<T, R>, Serializable {
    /**
     * The task: computes the result for one input.
     *
     * @param input the input
     * @return the result
     * @throws Exception whatever the task throws; the caller gets it as a {@link TaskFailedException}'s cause
     */
    R call(T input) throws Exception;

    /** Runs {@link #call}; a checked exception it throws is thrown as it is, undeclared. */
    @Override
    default R apply(T input) {
        try {
            return call(input);
        } catch (Exception e) {
            throw CheckedExceptions.rethrow(e);
        }
    }
}
