package dev.procpool.internal.worker;

import com.esotericsoftware.kryo.kryo5.Kryo;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * Neutral work a spare worker JVM does once before it sends BOOTED, so that the code a pool's first
 * CONFIG, READY and first chunk run is loaded, linked and initialized already when a pool takes it (issue
 * 15: a taken spare ready within milliseconds). Measured on the cold path (class-load log of a spare): the
 * CONFIG → READY step and the first chunk's decoding cost ~20 ms of CPU per worker, almost all of it the
 * first use of classes (Kryo input paths, the messages, the invokedynamic machinery behind a serializable
 * lambda's decoding, the streams inside {@code Runtime.version().toString()}).
 *
 * <p>Why it is safe: it runs before BOOTED, so no pool can have sent anything the worker reads yet except
 * a CONFIG already waiting (then it does not run: see {@link #worthIt}); every value is a JDK value or a
 * lambda of this class, so no user code runs and nothing of any pool stays; frames go to a byte array,
 * never to the channel; the worker's own Kryo instances are used (their registrations for JDK classes are
 * what every pool's first chunk would make anyway). A failure here is reported on stderr and ignored:
 * warming up is an optimization, never a reason for a spare to die.
 *
 * <p>Why only when nothing waits: a JVM a pool launched for itself gets its CONFIG at once, before it has
 * even booted; warming it up would only delay its READY by the dummy work. Such a JVM finds the CONFIG in
 * its pipe and skips this. A spare taken while still booting may get its CONFIG during the warm-up and
 * then waits for it (a few ms); booted spares are taken first.
 */
final class SpareWarmUp {
    private SpareWarmUp() {}

    /** True when no frame is waiting on the channel yet: this JVM is a spare, nobody waits for it. */
    static boolean worthIt(java.io.InputStream channel) {
        try {
            return channel.available() == 0;
        } catch (IOException e) {
            return false;
        }
    }

    /** Runs the frames a taken worker handles first through the same code, on throwaway buffers. */
    static void run(Kryo readKryo, Kryo writeKryo) {
        try {
            // CONFIG without an initializer, as most pools send it
            ConfigMessage.readInitializer(readKryo, roundTrip(out -> ConfigMessage.write(out, null, null)));
            // READY (its version string is computed by the caller before this)
            ReadyMessage.read(roundTrip(out -> ReadyMessage.write(out, 0, "warm-up")));
            // a FUNCTION frame holding a serializable lambda: the decoding path of every lambda task
            Function<Object, Object> identity = (Function<Object, Object> & Serializable) x -> x;
            byte[] encoded = FunctionMessage.encode(writeKryo, identity);
            ClassLoader loader = readKryo.getClassLoader();
            FunctionMessage function = FunctionMessage.read(readKryo,
                    roundTrip(out -> FunctionMessage.write(out, 0, RemoteCode.LOCAL_SCOPE, encoded)), scope -> loader);
            // a TASKS frame of common JDK values, run through the invoker, and their RESULTS
            TasksMessage.Encoder tasks = new TasksMessage.Encoder();
            for (Object input : commonValues()) {
                tasks.add(writeKryo, input);
            }
            TasksMessage decoded = TasksMessage.read(readKryo, roundTrip(out -> tasks.write(out, 0, 0)));
            ResultsMessage.Encoder results = new ResultsMessage.Encoder(null, SharedSegments.get()); // as the worker's: sized values
            for (Object input : decoded.inputs()) {
                results.addValue(writeKryo, TaskInvoker.invoke(function.function(), input));
            }
            results.addFailure(new IllegalStateException("warm-up"));
            results.write(new ByteArrayOutputStream());
        } catch (Throwable failure) {
            System.err.println("procpool worker: warm-up failed (ignored): " + failure);
        }
    }

    private static List<Object> commonValues() {
        Map<String, Object> map = new HashMap<>();
        map.put("k", 1);
        List<Object> list = new ArrayList<>(List.of(1, 2L));
        return List.of(1, 2L, 3.0, "text", true, new int[] {1}, new byte[] {1}, list, List.of("a"), map,
                Map.of("a", 1), new Object[] {"x"}, java.nio.ByteBuffer.wrap(new byte[] {1}));
    }

    private interface FrameWriter {
        void write(ByteArrayOutputStream out) throws IOException;
    }

    private static FrameChannel.Frame roundTrip(FrameWriter writer) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        writer.write(out);
        return FrameChannel.read(new ByteArrayInputStream(out.toByteArray()));
    }
}
