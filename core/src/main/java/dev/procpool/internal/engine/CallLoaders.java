package dev.procpool.internal.engine;

import java.io.IOException;
import java.lang.ref.WeakReference;
import java.net.URL;
import java.util.Enumeration;
import java.util.Map;
import java.util.WeakHashMap;

/**
 * The class loader a call reads its results with, and that workers take the call's classes from: the
 * loader that defined the task's function, where the user's types live, then the calling thread's
 * context loader (where a framework may keep what the function's loader cannot see). When one of the
 * two already delegates to the other, that one alone; otherwise a loader that asks them in that
 * order, the same one for the same pair so that workers keep the classes they fetched.
 */
public final class CallLoaders {
    private static final Map<ClassLoader, Map<ClassLoader, WeakReference<Both>>> BOTH = new WeakHashMap<>();

    private CallLoaders() {}

    public static ClassLoader forCall(ClassLoader function, ClassLoader context) {
        if (function == null) {
            return context != null ? context : ClassLoader.getSystemClassLoader();
        }
        if (context == null || context == function || delegatesTo(function, context)) {
            return function;
        }
        if (delegatesTo(context, function)) {
            return context;
        }
        synchronized (BOTH) {
            Map<ClassLoader, WeakReference<Both>> byContext = BOTH.computeIfAbsent(function, f -> new WeakHashMap<>());
            WeakReference<Both> known = byContext.get(context);
            Both both = known == null ? null : known.get();
            if (both == null) {
                both = new Both(function, context);
                byContext.put(context, new WeakReference<>(both));
            }
            return both;
        }
    }

    /** True when {@code ancestor} is {@code loader} or one of its parents. */
    private static boolean delegatesTo(ClassLoader loader, ClassLoader ancestor) {
        for (ClassLoader l = loader; l != null; l = l.getParent()) {
            if (l == ancestor) {
                return true;
            }
        }
        return false;
    }

    /** The function's loader first (as its parent), then the context loader. */
    static final class Both extends ClassLoader {
        static {
            registerAsParallelCapable();
        }

        private final ClassLoader context;

        Both(ClassLoader function, ClassLoader context) {
            super("procpool-call", function);
            this.context = context;
        }

        @Override
        protected Class<?> findClass(String name) throws ClassNotFoundException {
            return context.loadClass(name);
        }

        @Override
        protected URL findResource(String name) {
            return context.getResource(name);
        }

        @Override
        protected Enumeration<URL> findResources(String name) throws IOException {
            return context.getResources(name);
        }

        @Override
        public String toString() {
            return "procpool-call[" + getParent() + ", then " + context + "]";
        }
    }
}
