package dev.procpool.examples.bench;

import com.esotericsoftware.kryo.kryo5.Kryo;
import com.esotericsoftware.kryo.kryo5.io.Input;
import com.esotericsoftware.kryo.kryo5.io.Output;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The floor under a pool's start-up, measured in the same run as the pool: W bare JVMs started at
 * once, each loading Kryo and answering one frame (the least a worker must do before its first
 * result), timed from launch until every one has answered. Two variants: a bare {@code java -cp}, and
 * one with an application class-data-sharing archive of exactly those classes plus start-up flags
 * (C1 only, Serial GC, no perf data), the best a JDK 17 JVM start gets here. procpool's own start is
 * compared with both (bench/compare.py prints the ratio); PoolBench takes a floor round after each of
 * its all_workers_ready samples, so both see the same machine load.
 *
 * <p>{@link #main} is the bare worker: {@code <int length><Kryo payload>} in on stdin, the same value
 * back on stdout in the same form, then it exits.
 */
public final class StartupFloor {
    static final List<String> FLAGS = List.of("-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-XX:-UsePerfData");

    /** The bare worker. */
    public static void main(String[] args) throws IOException {
        Kryo kryo = new Kryo();
        kryo.setRegistrationRequired(false);
        DataInputStream in = new DataInputStream(System.in);
        byte[] payload = in.readNBytes(in.readInt());
        Object value = kryo.readClassAndObject(new Input(payload));
        Output out = new Output(64, -1);
        kryo.writeClassAndObject(out, value);
        DataOutputStream reply = new DataOutputStream(System.out);
        reply.writeInt(out.position());
        reply.write(out.getBuffer(), 0, out.position());
        reply.flush();
    }

    private final Path archive;
    private final String classPath;
    private final List<String> fast;

    private StartupFloor(Path archive, String classPath, List<String> fast) {
        this.archive = archive;
        this.classPath = classPath;
        this.fast = fast;
    }

    /** Records the archive (one bare run) and warms the disk cache (one round of each kind). */
    static StartupFloor prepare(int jvms) throws IOException, InterruptedException {
        Path archive = Files.createTempFile("procpool-floor-", ".jsa");
        Files.delete(archive); // the JVM writes it
        String cp = String.join(File.pathSeparator, List.of(jarOf(Kryo.class), jarOf(StartupFloor.class)));
        runAll(1, cp, List.of("-XX:ArchiveClassesAtExit=" + archive, "-Xlog:disable", "-Xlog:all=error:stderr"));
        List<String> fast = new ArrayList<>(FLAGS);
        if (Files.exists(archive) && Files.size(archive) > 0) {
            fast.add("-XX:SharedArchiveFile=" + archive);
        }
        StartupFloor floor = new StartupFloor(archive, cp, fast);
        floor.sample(jvms);
        return floor;
    }

    boolean archiveUsed() {
        return fast.size() > FLAGS.size();
    }

    /** One round, in ms: {bare, with the archive and flags}. */
    double[] sample(int jvms) throws IOException, InterruptedException {
        return new double[] {runAll(jvms, classPath, List.of()), runAll(jvms, classPath, fast)};
    }

    void delete() throws IOException {
        Files.deleteIfExists(archive);
    }

    /** Starts {@code jvms} bare workers at once, sends each a frame, waits for every answer: ms. */
    private static double runAll(int jvms, String classPath, List<String> options) throws IOException, InterruptedException {
        byte[] frame = frame(42L);
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.addAll(options);
        command.add("-cp");
        command.add(classPath);
        command.add(StartupFloor.class.getName());
        List<Process> processes = new ArrayList<>();
        long t0 = System.nanoTime();
        try {
            for (int i = 0; i < jvms; i++) {
                Process p = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.DISCARD).start();
                processes.add(p);
                OutputStream stdin = p.getOutputStream();
                stdin.write(frame);
                stdin.flush();
            }
            for (Process p : processes) {
                InputStream stdout = p.getInputStream();
                DataInputStream in = new DataInputStream(stdout);
                byte[] answer = in.readNBytes(in.readInt());
                PoolBench.check(answer.length > 0, "the bare worker answered");
            }
            return (System.nanoTime() - t0) / 1e6;
        } finally {
            for (Process p : processes) {
                if (!p.waitFor(10, TimeUnit.SECONDS)) {
                    p.destroyForcibly().waitFor();
                }
            }
        }
    }

    private static byte[] frame(Object value) throws IOException {
        Output payload = new Output(64, -1);
        Kryo kryo = new Kryo();
        kryo.setRegistrationRequired(false);
        kryo.writeClassAndObject(payload, value);
        java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
        DataOutputStream out = new DataOutputStream(bytes);
        out.writeInt(payload.position());
        out.write(payload.getBuffer(), 0, payload.position());
        return bytes.toByteArray();
    }

    private static String jarOf(Class<?> type) {
        try {
            return Path.of(type.getProtectionDomain().getCodeSource().getLocation().toURI()).toString();
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }
}
