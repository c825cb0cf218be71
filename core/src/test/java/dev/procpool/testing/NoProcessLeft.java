package dev.procpool.testing;

import java.lang.annotation.ElementType;
import java.lang.annotation.Inherited;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Fails a test that leaves a process behind: no descendant of this JVM (grandchildren included) that
 * appeared during the test may still run after it, within a bounded wait. See
 * {@link NoProcessLeftExtension}. Inherited, so an abstract suite annotated once checks every subclass.
 */
@Target(ElementType.TYPE)
@Retention(RetentionPolicy.RUNTIME)
@Inherited
@ExtendWith(NoProcessLeftExtension.class)
public @interface NoProcessLeft {
    /** What one check covers. */
    enum Scope {
        /** Baseline before each test, check after it (after its {@code @AfterEach} methods). */
        EACH_TEST,
        /**
         * Baseline before the class, check after it (after its {@code @AfterAll} methods): for classes that
         * share one pool between their tests, whose workers legitimately outlive a single test.
         */
        CLASS
    }

    Scope value() default Scope.EACH_TEST;

    /** How long the processes may take to go after the test: exits are asynchronous, and PID 1 reaps orphans late. */
    long graceMillis() default 5_000;
}
