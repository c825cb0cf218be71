package dev.procpool;

import java.io.Serializable;
import java.util.function.BiFunction;

/**
 * A two-argument task function that can be sent to a worker JVM ({@code starmap}); see
 * {@link SerializableFunction}. It may throw checked exceptions.
 *
 * @param <T> the first argument's type
 * @param <U> the second argument's type
 * @param <R> the result type
 */
@FunctionalInterface
public interface SerializableBiFunction<T, U, R> extends BiFunction<T, U, R>, Serializable {
    /**
     * The task: computes the result for one pair of arguments.
     *
     * @param first  the first argument
     * @param second the second argument
     * @return the result
     * @throws Exception whatever the task throws; the caller gets it as a {@link TaskFailedException}'s cause
     */
    R call(T first, U second) throws Exception;

    /** Runs {@link #call}; a checked exception it throws is thrown as it is, undeclared. */
    @Override
    default R apply(T first, U second) {
        try {
            return call(first, second);
        } catch (Exception e) {
            throw CheckedExceptions.rethrow(e);
        }
    }
}
