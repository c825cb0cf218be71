package dev.procpool;

import static org.assertj.core.api.Assertions.assertThat;

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
}
