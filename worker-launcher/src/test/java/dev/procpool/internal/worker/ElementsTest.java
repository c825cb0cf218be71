package dev.procpool.internal.worker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.esotericsoftware.kryo.kryo5.Kryo;
import com.esotericsoftware.kryo.kryo5.io.Input;
import com.esotericsoftware.kryo.kryo5.io.Output;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ElementsTest {
    private final Kryo kryo = KryoSetup.newKryo(getClass().getClassLoader());

    record Pair(String name, List<Integer> values) {}

    @Test
    void compactAndKryoValuesRoundTripSideBySide() {
        List<Object> values = Arrays.asList(null, 42L, -7L, Long.MIN_VALUE, 17, -1, 3.25, true, false, "text", "",
                new byte[] {1, 2, 3}, new Pair("p", List.of(1, 2)), Map.of("k", 1L), new ArrayList<>(List.of("x")));
        Output out = new Output(64, -1);
        for (Object value : values) {
            Elements.write(kryo, out, value);
        }
        Input in = new Input(out.getBuffer(), 0, out.position());
        for (Object value : values) {
            Object back = Elements.read(kryo, in);
            if (value instanceof byte[] bytes) {
                assertThat((byte[]) back).containsExactly(bytes);
            } else {
                assertThat(back).isEqualTo(value);
            }
        }
        assertThat(in.position()).isEqualTo(out.position());
    }

    @Test
    void anUnserializableValueLeavesTheOutputAsItWas() {
        Output out = new Output(64, -1);
        Elements.write(kryo, out, "before");
        int mark = out.position();
        assertThatThrownBy(() -> Elements.write(kryo, out, new Thread()))
                .hasMessageContaining("java.lang.Thread");
        assertThat(out.position()).isEqualTo(mark);
        Elements.write(kryo, out, "after");
        Input in = new Input(out.getBuffer(), 0, out.position());
        assertThat(Elements.read(kryo, in)).isEqualTo("before");
        assertThat(Elements.read(kryo, in)).isEqualTo("after");
    }

    @Test
    void aValueThatCannotBeRebuiltIsSkippedAndTheNextOneStillReads() {
        Output out = new Output(64, -1);
        Elements.write(kryo, out, new Pair("lost", List.of(9)));
        Elements.write(kryo, out, "next");
        byte[] bytes = out.toBytes();
        // corrupt the class name of the first value so that it cannot be resolved
        String text = new String(bytes, java.nio.charset.StandardCharsets.ISO_8859_1);
        int at = text.indexOf("ElementsTest");
        assertThat(at).isPositive();
        bytes[at] = 'X';
        Input in = new Input(bytes);
        assertThatThrownBy(() -> Elements.read(kryo, in)).isNotNull();
        assertThat(Elements.read(kryo, in)).isEqualTo("next");
    }
}
