package dev.procpool.internal.process;

import com.esotericsoftware.kryo.kryo5.Kryo;
import dev.procpool.internal.worker.WorkerMain;
import java.io.File;
import java.io.IOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.URL;
import java.net.URLClassLoader;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.CodeSource;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Where a worker JVM's code comes from, decided once per pool when it is built.
 *
 * <ol>
 *   <li>procpool's own code (the worker launcher and Kryo, all a worker needs to start), from the files
 *       this JVM loaded them from; a jar nested in another (a Spring Boot fat jar) is extracted into the
 *       {@link JarCache} first;</li>
 *   <li>then the given entries ({@code Builder.classPath}) or else the user's code: the jars and folders
 *       behind every class loader on the chains of the building thread's context class loader and of
 *       the class that called {@code build()}, parents first (the order a class is looked up in): the
 *       URLs of a {@link URLClassLoader} (plugin hosts, Maven's class realms for {@code exec:java} and
 *       Surefire's in-process runs, Spring Boot's launched class loader, its nested jars extracted), and
 *       the application class loader's class path and module path.</li>
 * </ol>
 *
 * A loader that has no URLs (jshell's, a loader that defines classes from bytes) adds nothing here: its
 * classes are the business of the worker's on-demand class loading.
 */
public final class WorkerClassPath {
    private static final Logger log = LoggerFactory.getLogger(WorkerClassPath.class);

    private WorkerClassPath() {}

    /**
     * The whole class path of the workers of a pool built now.
     *
     * @param given the builder's {@code classPath(...)}, or null
     * @param caller the class that called {@code build()}, or null
     */
    public static List<Path> resolve(List<Path> given, Class<?> caller) {
        Set<String> entries = new LinkedHashSet<>(own());
        if (given != null) {
            for (Path p : given) {
                entries.add(p.toAbsolutePath().toString()); // a worker may run elsewhere
            }
        } else {
            List<ClassLoader> starts = new ArrayList<>();
            starts.add(Thread.currentThread().getContextClassLoader());
            if (caller != null) {
                starts.add(caller.getClassLoader());
            }
            entries.addAll(userEntries(starts));
        }
        // plain loops here and below: this runs in build(), before anything else of a pool needs streams
        List<Path> paths = new ArrayList<>(entries.size());
        for (String entry : entries) {
            paths.add(Path.of(entry));
        }
        return List.copyOf(paths);
    }

    /** procpool's own jars (or class folders), as real files. */
    static List<String> own() {
        List<String> own = new ArrayList<>();
        for (Class<?> type : List.of(WorkerMain.class, Kryo.class)) {
            CodeSource source = type.getProtectionDomain().getCodeSource();
            String location = source == null || source.getLocation() == null ? null : realFile(source.getLocation());
            if (location != null) {
                own.add(location);
            } else {
                log.warn("procpool: cannot find a file holding {} (code source {}); workers may not start",
                        type.getName(), source == null ? null : source.getLocation());
            }
        }
        return own;
    }

    /** The entries behind each loader on the given loaders' chains, parents first, each once. */
    static List<String> userEntries(List<ClassLoader> starts) {
        Set<String> entries = new LinkedHashSet<>();
        Set<ClassLoader> seen = Collections.newSetFromMap(new java.util.IdentityHashMap<>());
        for (ClassLoader start : starts) {
            List<ClassLoader> chain = new ArrayList<>();
            for (ClassLoader l = start; l != null; l = l.getParent()) {
                chain.add(l);
            }
            Collections.reverse(chain);
            for (ClassLoader loader : chain) {
                if (seen.add(loader)) {
                    entriesOf(loader, entries);
                }
            }
        }
        return new ArrayList<>(entries);
    }

    private static void entriesOf(ClassLoader loader, Set<String> entries) {
        if (loader == ClassLoader.getSystemClassLoader()
                || loader.getClass().getName().equals("jdk.internal.loader.ClassLoaders$AppClassLoader")) {
            for (String entry : pathEntries("java.class.path")) {
                entries.add(Path.of(entry).toAbsolutePath().toString());
            }
            for (String entry : pathEntries("jdk.module.path")) {
                modulePathEntry(Path.of(entry).toAbsolutePath(), entries);
            }
        }
        if (loader instanceof URLClassLoader urls) {
            for (URL url : urls.getURLs()) {
                String file = realFile(url);
                if (file != null) {
                    entries.add(file);
                } else {
                    log.debug("class path entry {} of {} is not a file; workers load its classes on demand", url, loader);
                }
            }
        }
    }

    private static List<String> pathEntries(String property) {
        List<String> entries = new ArrayList<>();
        for (String entry : System.getProperty(property, "").split(File.pathSeparator)) {
            if (!entry.isEmpty()) {
                entries.add(entry);
            }
        }
        return entries;
    }

    /** A module path entry is a jar, an exploded module, or a folder of those. */
    private static void modulePathEntry(Path entry, Set<String> entries) {
        if (!Files.isDirectory(entry) || Files.exists(entry.resolve("module-info.class"))) {
            entries.add(entry.toString());
            return;
        }
        try (Stream<Path> children = Files.list(entry)) {
            children.sorted()
                    .filter(child -> child.toString().endsWith(".jar") || Files.exists(child.resolve("module-info.class")))
                    .forEach(child -> entries.add(child.toString()));
        } catch (IOException e) {
            entries.add(entry.toString());
        }
    }

    /**
     * The file behind a class path URL: a {@code file:} URL's path; a jar nested in a jar (Spring Boot:
     * {@code jar:nested:/app.jar/!BOOT-INF/lib/x.jar!/} since 3.2,
     * {@code jar:file:/app.jar!/BOOT-INF/lib/x.jar!/} before) extracted into the cache. Null for what has
     * no file (other protocols) or cannot be extracted.
     */
    static String realFile(URL url) {
        return realFile(url.toString());
    }

    static String realFile(String url) {
        try {
            String spec = url;
            if (spec.startsWith("jar:")) {
                spec = spec.substring("jar:".length());
            }
            if (spec.endsWith("!/")) {
                spec = spec.substring(0, spec.length() - 2);
            }
            if (spec.startsWith("nested:")) {
                String rest = spec.substring("nested:".length());
                int separator = rest.indexOf("/!");
                if (separator < 0) {
                    return Path.of(decode(rest)).toAbsolutePath().toString();
                }
                return nested(Path.of(decode(rest.substring(0, separator))), decode(rest.substring(separator + 2)));
            }
            if (spec.startsWith("file:")) {
                int separator = spec.indexOf("!/");
                if (separator < 0) {
                    return Path.of(new URI(spec)).toAbsolutePath().toString();
                }
                Path outer = Path.of(new URI(spec.substring(0, separator)));
                String entry = decode(spec.substring(separator + 2));
                if (entry.contains("!/")) { // a jar in a jar in a jar: not a layout anyone ships
                    return null;
                }
                return entry.isEmpty() ? outer.toAbsolutePath().toString() : nested(outer, entry);
            }
            return null;
        } catch (URISyntaxException | IllegalArgumentException | IOException e) {
            log.debug("no file for {}: {}", url, e.toString());
            return null;
        }
    }

    private static String nested(Path outer, String entry) throws IOException {
        if (entry.isEmpty()) {
            return outer.toAbsolutePath().toString();
        }
        return JarCache.extract(outer, entry).toString();
    }

    private static String decode(String s) {
        return URLDecoder.decode(s.replace("+", "%2B"), StandardCharsets.UTF_8);
    }
}
