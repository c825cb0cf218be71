package dev.procpool.examples;

import dev.procpool.ProcessPool;
import dev.procpool.ResultIterator;
import java.io.BufferedWriter;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

/**
 * {@code imap} over a large lazy input: the lines of a generated file, read as a stream. The pool
 * reads only a few chunks ahead of the consumer, so the caller's heap stays flat however long the
 * file is (a {@code map} would first need every line in a list).
 *
 * <pre>
 * java -cp examples/target/procpool-examples.jar dev.procpool.examples.LazyLines [lines]
 * </pre>
 */
public final class LazyLines {
    private static final String[] WORDS = {"alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta"};

    private LazyLines() {}

    /** The work per line: count its words. */
    static int wordCount(String line) {
        return line.isBlank() ? 0 : line.trim().split("\\s+").length;
    }

    public static void main(String[] args) throws IOException {
        int lineCount = args.length > 0 ? Integer.parseInt(args[0]) : 500_000;
        Path file = Files.createTempFile("procpool-lines", ".txt");
        try {
            long expectedWords = 0;
            try (BufferedWriter out = Files.newBufferedWriter(file)) {
                for (int i = 0; i < lineCount; i++) {
                    int words = 1 + i % WORDS.length;
                    out.write(String.join(" ", java.util.Arrays.copyOf(WORDS, words)));
                    out.newLine();
                    expectedWords += words;
                }
            }
            System.out.printf("generated %,d lines (%,d MB) in %s%n", lineCount, Files.size(file) >> 20, file);

            MemoryMXBean memory = ManagementFactory.getMemoryMXBean();
            long start = System.nanoTime();
            long words = 0;
            long taken = 0;
            try (ProcessPool pool = ProcessPool.builder().workers(2).build();
                    Stream<String> lines = Files.lines(file);
                    ResultIterator<Integer> counts = pool.imap(LazyLines::wordCount, lines::iterator)) {
                while (counts.hasNext()) {
                    words += counts.next();
                    taken++;
                    if (taken % (lineCount / 4) == 0) {
                        System.gc(); // to see what is really held, not garbage waiting for collection
                        System.out.printf("  %,9d results taken, caller's heap in use after GC: %,5.1f MB%n",
                                taken, memory.getHeapMemoryUsage().getUsed() / 1048576.0);
                    }
                }
            }
            double seconds = (System.nanoTime() - start) / 1e9;
            System.out.printf("%,d words in %,d lines in %.1f s (%,.0f lines/s), expected %,d words: %s%n", words,
                    taken, seconds, taken / seconds, expectedWords, words == expectedWords ? "correct" : "WRONG");
        } finally {
            Files.deleteIfExists(file);
        }
    }
}
