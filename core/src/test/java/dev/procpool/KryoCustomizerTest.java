package dev.procpool;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.procpool.testing.NoProcessLeft;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(value = 60, unit = TimeUnit.SECONDS)
@NoProcessLeft
class KryoCustomizerTest {

    @Test
    void aCustomizerOnTheClassPathAppliesInTheCallerAndInTheWorkers() {
        try (ProcessPool pool = ProcessPool.builder().workers(1).build()) {
            List<TestKryoCustomizer.ThreadTagged> back = pool.map(
                    (TestKryoCustomizer.ThreadTagged t) -> new TestKryoCustomizer.ThreadTagged(t.tag + "|seen"),
                    List.of(new TestKryoCustomizer.ThreadTagged("in")));
            // caller writes, worker reads, worker writes, caller reads: each side used the custom serializer
            assertThat(back.get(0).tag)
                    .isEqualTo("in|written-by-customizer|read-by-customizer|seen|written-by-customizer|read-by-customizer");
        }
    }

    /**
     * Workers apply the customizers the caller found (named in their CONFIG frame), not what a search
     * of their own class path finds: one the workers cannot load breaks the pool at start, naming it,
     * instead of a worker that would misread the caller's frames. The task's own class comes from the
     * caller on demand, so without the customizer check this map would run.
     */
    @Test
    void aCustomizerTheWorkersCannotLoadFailsThePoolNamingIt() {
        try (ProcessPool pool = ProcessPool.builder().workers(1).mode(PoolMode.PROCESSES).classPath(List.of()).build()) {
            assertThatThrownBy(() -> pool.map((Long x) -> x + 1, List.of(1L)))
                    .isInstanceOf(ProcessPoolException.class)
                    .hasMessageContaining(TestKryoCustomizer.class.getName())
                    .hasMessageContaining("cannot be made in the worker JVM");
        }
    }
}
