package dev.procpool.cluster.internal;

import com.hazelcast.cluster.Member;
import com.hazelcast.core.IExecutorService;
import dev.procpool.ProcessPoolException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

/**
 * Prepares members for a pool: asks each to open this pool's session and uploads the jars of this
 * JVM's class path it lacks (content-addressed: a jar crosses to a member once, ever).
 */
final class JarShipper {
    private static final int UPLOAD_PIECE = 4 << 20;
    private static final int ROUNDS = 3;

    private final List<Tasks.JarRef> jarRefs = new ArrayList<>();
    private final Map<String, Path> jarFiles = new HashMap<>();
    private final Tasks.SessionSettings settings;
    private final long prepareTimeoutMillis;

    /** Reads (and hashes) this JVM's class path now, before any member is asked. */
    JarShipper(ClusterSettings settings) {
        this.settings = settings.sessionSettings();
        this.prepareTimeoutMillis = Math.max(30_000, settings.connectTimeout().toMillis());
        try {
            for (Jars.Local jar : Jars.callerClassPath(settings.scratchDirectory())) {
                if (jarFiles.putIfAbsent(jar.sha256(), jar.file()) == null) {
                    jarRefs.add(new Tasks.JarRef(jar.sha256(), jar.name(), jar.size()));
                }
            }
        } catch (IOException e) {
            throw new ProcessPoolException("cannot read this JVM's class path to ship it: " + e, e);
        }
    }

    /** Opens the session on the member, uploading what it lacks first; blocks (a preparer thread). */
    Tasks.PrepareReply prepare(IExecutorService control, Member member, UUID session, UUID client) throws Exception {
        for (int round = 0; round < ROUNDS; round++) {
            Tasks.PrepareReply reply = control.submitToMember(new Tasks.Prepare(session, client, jarRefs, settings),
                    member).get(prepareTimeoutMillis, TimeUnit.MILLISECONDS);
            if (reply.missing().isEmpty()) {
                return reply;
            }
            for (String hash : reply.missing()) {
                upload(control, hash, member);
            }
        }
        throw new IllegalStateException("the member still lacks jars after " + ROUNDS + " rounds");
    }

    private void upload(IExecutorService control, String hash, Member member)
            throws IOException, InterruptedException, ExecutionException, java.util.concurrent.TimeoutException {
        Path file = jarFiles.get(hash);
        if (file == null) {
            throw new IllegalStateException("member asked for unknown jar " + hash);
        }
        UUID upload = UUID.randomUUID();
        long size = Files.size(file);
        try (InputStream in = Files.newInputStream(file)) {
            long offset = 0;
            do {
                byte[] piece = in.readNBytes((int) Math.min(UPLOAD_PIECE, size - offset));
                boolean last = offset + piece.length >= size;
                control.submitToMember(new Tasks.Upload(hash, upload, offset, piece, last), member)
                        .get(120, TimeUnit.SECONDS);
                offset += piece.length;
            } while (offset < size);
        }
    }
}
