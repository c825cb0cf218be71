package dev.procpool.internal.process;

import java.nio.file.Path;
import java.util.List;

/**
 * How a worker JVM records and maps the archive of the classes workers load, by the JDK it runs on.
 *
 * <p>JDK 25 and newer get the AOT cache (JEP 483, 514, 515): classes loaded and linked ahead of time,
 * and the method profiles of the recording worker, recorded in one step when that worker exits
 * ({@code -XX:AOTCacheOutput}; the JVM starts a child JVM then to assemble it, which holds up that one
 * worker's exit by about a second). JDK 24 had only the two-step workflow and is out of support: it keeps,
 * with 17 to 23, the dynamic class-data-sharing archive ({@code -XX:ArchiveClassesAtExit}).
 *
 * <p>An AOT cache is mapped with {@code -XX:AOTMode=on}: in the default {@code auto} mode a truncated or
 * damaged cache is skipped with an error line at every start and never replaced, while {@code on} makes the
 * worker exit at once, which {@link ProcessEngine} answers as it does for a bad class-data archive (which
 * kills a JDK 17 worker by itself): the file is removed and workers start without it.
 */
enum ArchiveFormat {
    DYNAMIC_CDS(".jsa") {
        @Override
        List<String> useOptions(Path archive) {
            return List.of("-XX:SharedArchiveFile=" + archive);
        }

        @Override
        List<String> recordOptions(Path recording) {
            // recording warns about every class it skips (JFR events, lambda forms): not the user's business
            return List.of("-XX:ArchiveClassesAtExit=" + recording, "-Xlog:cds*=error:stderr");
        }
    },
    AOT_CACHE(".aot") {
        @Override
        List<String> useOptions(Path archive) {
            return List.of("-XX:AOTCache=" + archive, "-XX:AOTMode=on");
        }

        @Override
        List<String> recordOptions(Path recording) {
            return List.of("-XX:AOTCacheOutput=" + recording, "-Xlog:cds*=error:stderr", "-Xlog:aot*=error:stderr");
        }
    };

    /** The first JDK whose {@code java} records an AOT cache in one run. */
    static final int FIRST_AOT_CACHE_JDK = 25;

    final String suffix;

    ArchiveFormat(String suffix) {
        this.suffix = suffix;
    }

    /** Options that make a worker JVM map this archive. */
    abstract List<String> useOptions(Path archive);

    /** Options that make a worker JVM write this archive to {@code recording} when it exits normally. */
    abstract List<String> recordOptions(Path recording);

    /**
     * The format for workers running this java: the AOT cache from JDK 25 unless the system property
     * {@code procpool.aot} is {@code false}; the class-data archive otherwise, and when the JDK is unknown.
     */
    static ArchiveFormat forJava(Path javaExecutable) {
        if ("false".equalsIgnoreCase(System.getProperty("procpool.aot"))) {
            return DYNAMIC_CDS;
        }
        return JavaRelease.featureVersion(javaExecutable) >= FIRST_AOT_CACHE_JDK ? AOT_CACHE : DYNAMIC_CDS;
    }
}
