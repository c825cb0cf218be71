package dev.procpool.internal.worker;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.MalformedURLException;
import java.net.URL;
import java.net.URLConnection;
import java.net.URLStreamHandler;
import java.util.Collections;
import java.util.Enumeration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.Lock;

/**
 * Worker side of code on demand: classes and resources that exist only in the caller (jshell snippets,
 * generated classes, a class loader with no URLs) are asked for over the channel, the first time a
 * task needs them, and defined in a {@link CallerLoader}, one per caller class loader ("scope"), whose
 * parent is the worker's own class loader. Parent-first: what the worker's class path has is never
 * asked for, so a pool whose code is all on the class path never sends a request; scope
 * {@value #LOCAL_SCOPE} (the caller's application class loader) has no loader of its own at all.
 *
 * <p>Threading: a request is written by the thread that needs the class (a task's thread, or the
 * thread decoding a function or inputs) and answered through {@link #answered}, called by the
 * worker's frame reader. The reader itself never decodes anything that might need a class, so it
 * is always free to take the answer.
 */
final class RemoteCode {
    /** The scope of the caller's own application class loader: the worker's class path is its copy. */
    static final long LOCAL_SCOPE = 0;
    /** An answer comes in well under a millisecond; this only bounds a parent that stopped answering. */
    private static final long ANSWER_TIMEOUT_SECONDS = 60;

    private final OutputStream channel;
    private final Lock channelLock;
    private final ClassLoader local;
    private final Map<Long, CallerLoader> scopes = new ConcurrentHashMap<>();
    private final Map<Long, CompletableFuture<CodeMessage.Answer>> pending = new ConcurrentHashMap<>();
    private final AtomicLong ids = new AtomicLong();

    RemoteCode(OutputStream channel, Lock channelLock, ClassLoader local) {
        this.channel = channel;
        this.channelLock = channelLock;
        this.local = local;
    }

    /** The class loader that stands for the caller's loader {@code scope} in this worker. */
    ClassLoader loader(long scope) {
        if (scope == LOCAL_SCOPE) {
            return local;
        }
        return scopes.computeIfAbsent(scope, s -> new CallerLoader(this, s, local));
    }

    /** The reader took a CLASS_BYTES or RESOURCE_BYTES frame. */
    void answered(FrameChannel.Frame frame) {
        CodeMessage.Answer answer = CodeMessage.readAnswer(frame);
        CompletableFuture<CodeMessage.Answer> waiting = pending.remove(answer.id());
        if (waiting != null) {
            waiting.complete(answer);
        }
    }

    /** Asks the parent; the answer's bytes are null when the caller has none (the reason says why). */
    CodeMessage.Answer fetch(byte type, long scope, String name) {
        long id = ids.incrementAndGet();
        CompletableFuture<CodeMessage.Answer> answer = new CompletableFuture<>();
        pending.put(id, answer);
        try {
            channelLock.lock();
            try {
                CodeMessage.writeRequest(channel, type, id, scope, name);
                channel.flush();
            } finally {
                channelLock.unlock();
            }
            return answer.get(ANSWER_TIMEOUT_SECONDS, TimeUnit.SECONDS);
        } catch (IOException e) {
            return new CodeMessage.Answer(id, null, "the channel to the caller failed: " + e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new CodeMessage.Answer(id, null, "interrupted while waiting for the caller");
        } catch (ExecutionException | TimeoutException e) {
            return new CodeMessage.Answer(id, null, "no answer from the caller within " + ANSWER_TIMEOUT_SECONDS + " s");
        } finally {
            pending.remove(id);
        }
    }

    /**
     * Stands for one class loader of the caller: defines the classes the caller sends, serves its
     * resources, remembers both (and what the caller does not have) for the life of the worker.
     */
    static final class CallerLoader extends ClassLoader {
        static {
            registerAsParallelCapable();
        }

        private static final byte[] MISSING = new byte[0];

        private final RemoteCode remote;
        private final long scope;
        private final Map<String, String> missingClasses = new ConcurrentHashMap<>();
        private final Map<String, byte[]> resources = new ConcurrentHashMap<>();

        CallerLoader(RemoteCode remote, long scope, ClassLoader parent) {
            super("procpool-caller-" + scope, parent);
            this.remote = remote;
            this.scope = scope;
        }

        @Override
        protected Class<?> findClass(String name) throws ClassNotFoundException {
            String missing = missingClasses.get(name);
            if (missing == null) {
                CodeMessage.Answer answer = remote.fetch(CodeMessage.CLASS_REQUEST, scope, name);
                if (answer.bytes() != null) {
                    definePackageOf(name);
                    return defineClass(name, answer.bytes(), 0, answer.bytes().length);
                }
                missing = answer.reason();
                missingClasses.put(name, missing);
            }
            throw new ClassNotFoundException(name + ": not on the worker's class path, and the caller could not"
                    + " send it: " + missing);
        }

        private void definePackageOf(String className) {
            int dot = className.lastIndexOf('.');
            if (dot < 0) {
                return;
            }
            String pkg = className.substring(0, dot);
            if (getDefinedPackage(pkg) == null) {
                try {
                    definePackage(pkg, null, null, null, null, null, null, null);
                } catch (IllegalArgumentException raced) {
                    // another thread defined it first
                }
            }
        }

        @Override
        protected URL findResource(String name) {
            byte[] bytes = resources.get(name);
            if (bytes == null) {
                CodeMessage.Answer answer = remote.fetch(CodeMessage.RESOURCE_REQUEST, scope, name);
                bytes = answer.bytes() != null ? answer.bytes() : MISSING;
                byte[] raced = resources.putIfAbsent(name, bytes);
                bytes = raced != null ? raced : bytes;
            }
            if (bytes == MISSING) {
                return null;
            }
            byte[] content = bytes;
            try {
                return new URL("procpool-caller", null, -1, "/" + scope + "/" + name, new URLStreamHandler() {
                    @Override
                    protected URLConnection openConnection(URL url) {
                        return new URLConnection(url) {
                            @Override
                            public void connect() {
                                connected = true;
                            }

                            @Override
                            public InputStream getInputStream() {
                                return new ByteArrayInputStream(content);
                            }

                            @Override
                            public long getContentLengthLong() {
                                return content.length;
                            }
                        };
                    }
                });
            } catch (MalformedURLException e) {
                return null;
            }
        }

        @Override
        protected Enumeration<URL> findResources(String name) {
            URL url = findResource(name);
            return url == null ? Collections.emptyEnumeration() : Collections.enumeration(List.of(url));
        }
    }
}
