package dev.procpool.internal.process;

import dev.procpool.ProcessPoolException;
import dev.procpool.internal.worker.CodeMessage;
import dev.procpool.internal.worker.FrameChannel;
import java.io.IOException;
import java.io.InputStream;
import java.lang.ref.WeakReference;
import java.util.HashMap;
import java.util.Iterator;
import java.util.Map;
import java.util.WeakHashMap;

/**
 * Parent side of code on demand: the caller's class loaders as workers name them ("scopes"), the
 * bytes of a class or resource a worker asks for, and the check, at the call, that the task's class
 * can reach a worker at all.
 *
 * <p>Scope 0 is the application class loader (and the JDK's): workers have its class path already, and
 * read such calls with their own loader. Every other loader gets an id of its own for the life of the
 * parent JVM, held weakly: a worker keeps one loader per scope, so a class name that means two
 * classes in two caller loaders (two jshell sessions, two plugins) is two classes in the worker too.
 */
final class CallerCode {
    static final long APPLICATION_SCOPE = 0;

    // Guarded by CallerCode.class.
    private static final Map<ClassLoader, Long> SCOPES = new WeakHashMap<>();
    private static final Map<Long, WeakReference<ClassLoader>> LOADERS = new HashMap<>();
    private static long lastScope;

    /** Why a task's class cannot reach workers, or null when it can; computed once per class. */
    private static final ClassValue<String> UNAVAILABLE = new ClassValue<>() {
        @Override
        protected String computeValue(Class<?> type) {
            return unavailable(type);
        }
    };

    private CallerCode() {}

    static long scopeOf(ClassLoader loader) {
        if (loader == null || loader == ClassLoader.getSystemClassLoader()
                || loader == ClassLoader.getPlatformClassLoader()) {
            return APPLICATION_SCOPE;
        }
        synchronized (CallerCode.class) {
            Long known = SCOPES.get(loader);
            if (known != null) {
                return known;
            }
            for (Iterator<WeakReference<ClassLoader>> it = LOADERS.values().iterator(); it.hasNext(); ) {
                if (it.next().get() == null) {
                    it.remove();
                }
            }
            long scope = ++lastScope;
            SCOPES.put(loader, scope);
            LOADERS.put(scope, new WeakReference<>(loader));
            return scope;
        }
    }

    private static synchronized ClassLoader loaderOf(long scope) {
        if (scope == APPLICATION_SCOPE) {
            return ClassLoader.getSystemClassLoader();
        }
        WeakReference<ClassLoader> loader = LOADERS.get(scope);
        return loader == null ? null : loader.get();
    }

    /** The answer to a worker's request: the bytes, or null and the reason (in {@code reason[0]}). */
    static byte[] bytesFor(CodeMessage.Request request, String[] reason) {
        ClassLoader loader = loaderOf(request.scope());
        if (loader == null) {
            reason[0] = "the caller's class loader of scope " + request.scope() + " is gone";
            return null;
        }
        String resource = request.forClass() ? request.name().replace('.', '/') + ".class" : request.name();
        try (InputStream in = loader.getResourceAsStream(resource)) {
            if (in == null) {
                reason[0] = "class loader " + describe(loader) + " has no resource " + resource;
                return null;
            }
            byte[] bytes = in.readNBytes(FrameChannel.MAX_PAYLOAD - 1024);
            if (in.read() >= 0) {
                reason[0] = resource + " is larger than a frame may be (" + FrameChannel.MAX_PAYLOAD + " bytes)";
                return null;
            }
            return bytes;
        } catch (IOException | RuntimeException e) {
            reason[0] = "reading " + resource + " from class loader " + describe(loader) + " failed: " + e;
            return null;
        }
    }

    /**
     * The failure of a call whose task class cannot be made available to workers, or null. Cheap: one
     * look per class, remembered.
     */
    static ProcessPoolException unavailable(Object function) {
        String problem = UNAVAILABLE.get(function.getClass());
        return problem == null ? null : new ProcessPoolException(problem);
    }

    /** The class whose code a worker needs: a lambda's capturing class, else the function's own. */
    private static String unavailable(Class<?> functionClass) {
        Class<?> subject = functionClass;
        String name = functionClass.getName();
        int lambda = name.indexOf("$$Lambda");
        if (lambda > 0) {
            try {
                subject = Class.forName(name.substring(0, lambda), false, functionClass.getClassLoader());
            } catch (ClassNotFoundException | LinkageError e) {
                return null; // not a lambda after all; serializing it says what is wrong
            }
        } else if (functionClass.isHidden() || functionClass.isSynthetic()) {
            return null;
        }
        ClassLoader loader = subject.getClassLoader();
        if (loader == null) {
            return null;
        }
        String resource = subject.getName().replace('.', '/') + ".class";
        if (ClassLoader.getSystemClassLoader().getResource(resource) != null || canRead(loader, resource)) {
            return null;
        }
        return "the task's class " + subject.getName() + " cannot be made available to worker JVMs: it is not on"
                + " their class path, and the class loader it came from, " + describe(loader) + ", cannot give its"
                + " bytes (getResourceAsStream(\"" + resource + "\") returns null). Put the class on the class path (or"
                + " in the pool's classPath(...)), have its class loader serve its .class files through"
                + " getResource/getResourceAsStream, or run this pool in PoolMode.THREADS";
    }

    /** What a worker's request would get: the same call, without reading the bytes. */
    private static boolean canRead(ClassLoader loader, String resource) {
        try (InputStream in = loader.getResourceAsStream(resource)) {
            return in != null;
        } catch (IOException | RuntimeException e) {
            return false;
        }
    }

    static String describe(ClassLoader loader) {
        String name = loader.getName();
        String text = loader.toString();
        return name == null || text.contains(name) ? text : name + " (" + text + ")";
    }
}
