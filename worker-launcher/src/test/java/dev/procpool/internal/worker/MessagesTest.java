package dev.procpool.internal.worker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.esotericsoftware.kryo.kryo5.Kryo;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.NotSerializableException;
import java.util.List;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

/** Each message type through its own encoder and decoder, as the parent and the worker use them. */
class MessagesTest {
    private final Kryo kryo = KryoSetup.newKryo(MessagesTest.class.getClassLoader());
    private final ByteArrayOutputStream channel = new ByteArrayOutputStream();

    private FrameChannel.Frame next(ByteArrayInputStream in, byte expectedType) throws IOException {
        FrameChannel.Frame frame = FrameChannel.read(in);
        assertThat(frame.type()).isEqualTo(expectedType);
        return frame;
    }

    @Test
    void theParentsMessagesReachTheWorkerAsSent() throws Exception {
        Runnable initializer = (Runnable & java.io.Serializable) () -> {};
        ConfigMessage.write(channel, null, getClass().getClassLoader());
        ConfigMessage.write(channel, initializer, getClass().getClassLoader());
        Function<Long, Long> square = (Function<Long, Long> & java.io.Serializable) x -> x * x;
        FunctionMessage.write(channel, 7, 5, FunctionMessage.encode(kryo, square));
        TasksMessage.Encoder tasks = new TasksMessage.Encoder();
        tasks.reset();
        tasks.add(kryo, 3L);
        tasks.add(kryo, "text");
        assertThatThrownBy(() -> tasks.add(kryo, Thread.currentThread())).isInstanceOf(RuntimeException.class);
        tasks.add(kryo, List.of(1, 2));
        tasks.write(channel, 7, 40);
        ReleaseMessage.write(channel, 7);
        ShutdownMessage.write(channel);

        ByteArrayInputStream in = new ByteArrayInputStream(channel.toByteArray());
        FrameChannel.Frame config = next(in, FrameType.CONFIG);
        assertThat(ConfigMessage.readInitializer(kryo, config)).isNull();
        // the customizers travel on the worker's command line instead
        assertThat(KryoSetup.customizerNamesOf(String.join(",", KryoSetup.customizerNames())))
                .isEqualTo(KryoSetup.customizerNames());
        assertThat(KryoSetup.customizerNamesOf(null)).isEmpty();
        assertThat(KryoSetup.customizerNamesOf("a.B, c.D,")).containsExactly("a.B", "c.D");
        assertThat(ConfigMessage.readInitializer(kryo, next(in, FrameType.CONFIG))).isInstanceOf(Runnable.class);
        ClassLoader loader = kryo.getClassLoader();
        FunctionMessage function = FunctionMessage.read(kryo, next(in, FrameType.FUNCTION), scope -> {
            assertThat(scope).isEqualTo(5);
            return loader;
        });
        assertThat(function.id()).isEqualTo(7);
        assertThat(function.scope()).isEqualTo(5);
        assertThat(TaskInvoker.invoke(function.function(), 9L)).isEqualTo(81L);
        TasksMessage chunk = TasksMessage.read(kryo, next(in, FrameType.TASKS));
        assertThat(chunk.functionId()).isEqualTo(7);
        assertThat(chunk.firstSequence()).isEqualTo(40);
        assertThat(chunk.inputs()).containsExactly(3L, "text", List.of(1, 2)); // the unsendable one left no trace
        assertThat(ReleaseMessage.read(next(in, FrameType.RELEASE))).isEqualTo(7);
        assertThat(next(in, FrameType.SHUTDOWN).length()).isZero();
        assertThat(FrameChannel.read(in)).isNull();
    }

    @Test
    void theWorkersMessagesReachTheParentAsSent() throws IOException {
        ReadyMessage.write(channel, 1234, "17.0.9");
        InitFailedMessage.write(channel, new IllegalStateException("init"));
        ResultsMessage.Encoder results = new ResultsMessage.Encoder();
        results.addValue(kryo, 5L);
        results.addFailure(new ArithmeticException("boom"));
        results.addValue(kryo, Thread.currentThread()); // cannot travel: becomes the task's failure
        results.addValue(kryo, "skipped");
        assertThat(results.count()).isEqualTo(4);
        results.write(channel);
        assertThat(results.count()).isZero();
        assertThat(results.bytes()).isZero();

        ByteArrayInputStream in = new ByteArrayInputStream(channel.toByteArray());
        assertThat(ReadyMessage.read(next(in, FrameType.READY))).isEqualTo(new ReadyMessage(1234, "17.0.9"));
        RemoteFailure init = InitFailedMessage.read(next(in, FrameType.INIT_FAILED), getClass().getClassLoader());
        assertThat(init.rebuilt()).isInstanceOf(IllegalStateException.class).hasMessage("init");
        ResultsMessage.Decoder decoder = new ResultsMessage.Decoder();
        assertThat(decoder.begin(next(in, FrameType.RESULTS))).isEqualTo(4);
        assertThat(decoder.status()).isEqualTo(ValueRuns.LONGS); // a run of one
        assertThat(decoder.runLeft()).isEqualTo(1);
        assertThat(decoder.value(kryo)).isEqualTo(5L);
        assertThat(decoder.status()).isEqualTo(ResultsMessage.FAILURE);
        assertThat(decoder.failure(getClass().getClassLoader()).className()).isEqualTo(ArithmeticException.class.getName());
        assertThat(decoder.status()).isEqualTo(ResultsMessage.FAILURE);
        assertThat(decoder.failure(getClass().getClassLoader()).message()).contains("cannot be serialized");
        assertThat(decoder.status()).isEqualTo(ResultsMessage.VALUE);
        decoder.skipValue(kryo);
        assertThat(FrameChannel.read(in)).isNull();
    }

    @Test
    void aBadStatusByteIsACorruptChannel() throws IOException {
        FrameChannel.write(channel, FrameType.RESULTS, new byte[] {1, 9}, 2);
        ResultsMessage.Decoder decoder = new ResultsMessage.Decoder();
        decoder.begin(FrameChannel.read(new ByteArrayInputStream(channel.toByteArray())));
        assertThatThrownBy(decoder::status).isInstanceOf(FrameChannel.CorruptFrameException.class)
                .hasMessageContaining("bad result status 9");
    }

    @Test
    void anUnreadableFunctionOrInputFailsOnlyItsTask() {
        Unreadable missing = new Unreadable("this input", new NotSerializableException("X"));
        assertThatThrownBy(() -> TaskInvoker.invoke((Function<Object, Object>) x -> x, missing))
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("could not read this input");
        assertThat(WorkerExitCodes.meaning(WorkerExitCodes.PROTOCOL_ERROR)).isEqualTo("protocol error");
        assertThat(WorkerExitCodes.meaning(1)).isNull();
    }
}
