package dev.procpool.internal.worker;

import com.esotericsoftware.kryo.kryo5.Kryo;
import com.esotericsoftware.kryo.kryo5.KryoException;
import com.esotericsoftware.kryo.kryo5.Serializer;
import com.esotericsoftware.kryo.kryo5.io.Input;
import com.esotericsoftware.kryo.kryo5.io.Output;
import com.esotericsoftware.kryo.kryo5.minlog.Log;
import com.esotericsoftware.kryo.kryo5.objenesis.strategy.StdInstantiatorStrategy;
import com.esotericsoftware.kryo.kryo5.serializers.ClosureSerializer;
import com.esotericsoftware.kryo.kryo5.serializers.JavaSerializer;
import com.esotericsoftware.kryo.kryo5.util.DefaultClassResolver;
import com.esotericsoftware.kryo.kryo5.util.DefaultInstantiatorStrategy;
import com.esotericsoftware.kryo.kryo5.util.MapReferenceResolver;
import dev.procpool.spi.KryoCustomizer;
import java.io.Serializable;
import java.nio.file.FileSystems;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.ServiceLoader;
import java.util.stream.Stream;

/**
 * The one Kryo configuration both sides of the channel use. Every choice here is made by class,
 * never by JVM flags, because the caller's JVM has no {@code --add-opens} and the worker's may:
 * both must pick the same serializer for the same class.
 *
 * <p>The {@link KryoCustomizer}s are found once, in the caller, with {@link ServiceLoader}; a worker is
 * told their class names (in its CONFIG frame) and loads those classes, instead of searching its own
 * class path: that search opens every jar on it (~40 ms of a worker's start with a dozen jars), and
 * the caller's list is the one both sides must agree on anyway.
 */
public final class KryoSetup {
    /** Null until found (caller) or given (worker); written once under the class lock. */
    private static volatile List<KryoCustomizer> customizers;

    static {
        // Kryo's minlog prints WARN lines with stack traces to System.out when java.lang.invoke is
        // closed; in a worker, fd 1 is the frame channel.
        Log.set(Log.LEVEL_ERROR);
    }

    private KryoSetup() {}

    /** A new, fully configured Kryo instance (Kryo is not thread-safe: one per thread). */
    public static Kryo newKryo(ClassLoader classLoader) {
        Kryo kryo = new ProcpoolKryo();
        kryo.setRegistrationRequired(false);
        kryo.setReferences(true);
        kryo.setInstantiatorStrategy(new DefaultInstantiatorStrategy(new StdInstantiatorStrategy()));
        kryo.setClassLoader(classLoader);
        kryo.register(ClosureSerializer.Closure.class, new LambdaSerializer());
        kryo.addDefaultSerializer(Throwable.class, JavaSerializer.class);
        kryo.addDefaultSerializer(Map.entry(1, 1).getClass(), new MapEntrySerializer());
        kryo.addDefaultSerializer(List.of(1, 2, 3).getClass(), new NullTolerantListSerializer());
        kryo.addDefaultSerializer(Path.class, new PathSerializer());
        // Kryo's MapSerializer would rebuild it without its key type (ClassCastException on the first put)
        kryo.addDefaultSerializer(EnumMap.class, JavaSerializer.class);
        for (Class<?> unmodifiable : UNMODIFIABLE_WRAPPERS) {
            kryo.addDefaultSerializer(unmodifiable, JavaSerializer.class);
        }
        for (KryoCustomizer customizer : customizers()) {
            customizer.customize(kryo);
        }
        return kryo;
    }

    private static final List<Class<?>> UNMODIFIABLE_WRAPPERS = List.of(
            Collections.unmodifiableList(new ArrayList<>()).getClass(),
            Collections.unmodifiableList(new java.util.LinkedList<>()).getClass(),
            Collections.unmodifiableCollection(new ArrayList<>()).getClass(),
            Collections.unmodifiableSet(new java.util.HashSet<>()).getClass(),
            Collections.unmodifiableSortedSet(new java.util.TreeSet<>()).getClass(),
            Collections.unmodifiableMap(new java.util.HashMap<>()).getClass(),
            Collections.unmodifiableSortedMap(new java.util.TreeMap<>()).getClass(),
            Arrays.asList(1, 2).getClass());

    private static List<KryoCustomizer> customizers() {
        List<KryoCustomizer> known = customizers;
        if (known != null) {
            return known;
        }
        synchronized (KryoSetup.class) {
            if (customizers == null) {
                List<KryoCustomizer> found = new ArrayList<>();
                for (KryoCustomizer customizer : ServiceLoader.load(KryoCustomizer.class, KryoSetup.class.getClassLoader())) {
                    found.add(customizer);
                }
                customizers = List.copyOf(found);
            }
            return customizers;
        }
    }

    /**
     * The system property that names a worker's customizers (comma-separated class names; absent or empty:
     * none), set on its command line by the parent from {@link #customizerNames()}.
     */
    public static final String CUSTOMIZERS_PROPERTY = "procpool.worker.kryoCustomizers";

    /** The class names in a {@link #CUSTOMIZERS_PROPERTY} value. */
    public static List<String> customizerNamesOf(String property) {
        List<String> names = new ArrayList<>();
        if (property != null) {
            for (String name : property.split(",")) {
                if (!name.isBlank()) {
                    names.add(name.strip());
                }
            }
        }
        return names;
    }

    /** The class names of the customizers this JVM applies (found on first use): what a worker is told. */
    public static List<String> customizerNames() {
        List<String> names = new ArrayList<>();
        for (KryoCustomizer customizer : customizers()) {
            names.add(customizer.getClass().getName());
        }
        return names;
    }

    /**
     * A worker's customizers: the classes the caller named, loaded with {@code loader}, before this JVM
     * makes its first Kryo. Throws {@link IllegalStateException} naming a class that cannot be loaded or
     * made: a worker without a customizer the caller has would misread the caller's frames.
     */
    public static void useCustomizers(List<String> classNames, ClassLoader loader) {
        List<KryoCustomizer> made = new ArrayList<>();
        for (String name : classNames) {
            try {
                Class<?> type = Class.forName(name, true, loader);
                made.add((KryoCustomizer) type.getDeclaredConstructor().newInstance());
            } catch (ReflectiveOperationException | LinkageError | ClassCastException e) {
                throw new IllegalStateException("the caller's KryoCustomizer " + name
                        + " cannot be made in the worker JVM: " + e, e);
            }
        }
        synchronized (KryoSetup.class) {
            customizers = List.copyOf(made);
        }
    }

    /**
     * Serializable, but a copy in another JVM would guard or signal nothing: sending one is a mistake
     * the caller should hear about rather than a silent, unlocked copy.
     */
    private static final List<Class<?>> PROCESS_LOCAL = List.of(
            java.util.concurrent.locks.Lock.class,
            java.util.concurrent.locks.ReadWriteLock.class,
            java.util.concurrent.locks.Condition.class,
            java.util.concurrent.Semaphore.class,
            java.util.concurrent.CountDownLatch.class,
            java.util.concurrent.CyclicBarrier.class,
            java.util.concurrent.Phaser.class,
            Thread.class,
            ThreadGroup.class,
            java.net.Socket.class,
            java.net.ServerSocket.class,
            java.nio.channels.Channel.class,
            java.io.InputStream.class,
            java.io.OutputStream.class);

    /** JDK classes keep private state that FieldSerializer cannot reach without --add-opens. */
    private static final class ProcpoolKryo extends Kryo {
        private final LoaderScopedClassResolver classResolver;

        ProcpoolKryo() {
            this(new LoaderScopedClassResolver());
        }

        private ProcpoolKryo(LoaderScopedClassResolver classResolver) {
            super(classResolver, new MapReferenceResolver());
            this.classResolver = classResolver;
        }

        /**
         * Kryo remembers the class it found for each name for good; the same name may stand for another
         * class in another loader (two jshell sessions, two plugins), so a new loader starts afresh.
         */
        @Override
        public void setClassLoader(ClassLoader classLoader) {
            if (classResolver != null && classLoader != getClassLoader()) {
                classResolver.forgetNames();
            }
            super.setClassLoader(classLoader);
        }

        /**
         * Records and plain classes are taken apart by reflection, which a named module allows only in
         * the packages it opens; Java serialization needs no such leave.
         */
        @Override
        public Serializer getDefaultSerializer(Class type) {
            Serializer chosen = super.getDefaultSerializer(type);
            Module module = type.getModule();
            if (module.isNamed() && !(chosen instanceof JavaSerializer) && !type.isEnum() && !type.isArray()
                    && !isJdkClass(type)
                    && !module.isOpen(type.getPackageName(), Kryo.class.getModule())) {
                throw new KryoException("cannot serialize " + type.getName() + ": module " + module.getName()
                        + " does not open package " + type.getPackageName() + ", so its objects cannot be taken"
                        + " apart and rebuilt; add \"opens " + type.getPackageName() + ";\" to its module-info");
            }
            return chosen;
        }

        /** Called only for classes no registered or default serializer claims: FieldSerializer territory. */
        @Override
        protected Serializer newDefaultSerializer(Class type) {
            for (Class<?> local : PROCESS_LOCAL) {
                if (local.isAssignableFrom(type)) {
                    throw new KryoException("cannot serialize " + type.getName() + ": a " + local.getSimpleName()
                            + " only means something inside its own JVM");
                }
            }
            if (isJdkClass(type)) {
                if (Serializable.class.isAssignableFrom(type)) {
                    return new JavaSerializer();
                }
                throw new KryoException("cannot serialize " + type.getName()
                        + ": a JDK class that is neither Serializable nor supported by procpool");
            }
            return super.newDefaultSerializer(type);
        }

        private static boolean isJdkClass(Class<?> type) {
            String name = type.getName();
            return name.startsWith("java.") || name.startsWith("javax.") || name.startsWith("jdk.")
                    || name.startsWith("sun.") || name.startsWith("com.sun.");
        }
    }

    /** Kryo's resolver, with its name-to-class memory cleared when the class loader changes. */
    private static final class LoaderScopedClassResolver extends DefaultClassResolver {
        void forgetNames() {
            if (nameToClass != null) {
                nameToClass.clear();
            }
        }
    }

    /**
     * The most common input of all ("process these files"); its JDK class is neither Serializable nor
     * open to reflection. A path of the default file system travels as its text.
     */
    private static final class PathSerializer extends Serializer<Path> {
        PathSerializer() {
            setImmutable(true);
        }

        @Override
        public void write(Kryo kryo, Output output, Path path) {
            if (path.getFileSystem() != FileSystems.getDefault()) {
                throw new KryoException("cannot serialize " + path.toUri() + ": only paths of the default file"
                        + " system can be sent (a zip or in-memory file system exists in one JVM only)");
            }
            output.writeString(path.toString());
        }

        @Override
        public Path read(Kryo kryo, Input input, Class<? extends Path> type) {
            return Path.of(input.readString());
        }
    }

    /** {@code Map.entry} values (used by starmap pairs) are neither Serializable nor open to reflection. */
    private static final class MapEntrySerializer extends Serializer<Map.Entry<?, ?>> {
        @Override
        public void write(Kryo kryo, Output output, Map.Entry<?, ?> entry) {
            kryo.writeClassAndObject(output, entry.getKey());
            kryo.writeClassAndObject(output, entry.getValue());
        }

        @Override
        public Map.Entry<?, ?> read(Kryo kryo, Input input, Class<? extends Map.Entry<?, ?>> type) {
            Object key = kryo.readClassAndObject(input);
            Object value = kryo.readClassAndObject(input);
            return Map.entry(key, value);
        }
    }

    /**
     * {@code List.of(...)} and {@code Stream.toList()} share one class; only the latter admits null
     * elements, which Kryo's own serializer rebuilds with {@code List.of} and so rejects.
     */
    private static final class NullTolerantListSerializer extends Serializer<List<?>> {
        NullTolerantListSerializer() {
            setImmutable(true);
        }

        @Override
        public void write(Kryo kryo, Output output, List<?> list) {
            output.writeVarInt(list.size(), true);
            for (Object element : list) {
                kryo.writeClassAndObject(output, element);
            }
        }

        @Override
        public List<?> read(Kryo kryo, Input input, Class<? extends List<?>> type) {
            int size = input.readVarInt(true);
            Object[] elements = new Object[size];
            boolean hasNull = false;
            for (int i = 0; i < size; i++) {
                elements[i] = kryo.readClassAndObject(input);
                hasNull |= elements[i] == null;
            }
            return hasNull ? Stream.of(elements).toList() : List.of(elements);
        }
    }
}
