package dev.procpool.cluster.internal;

import com.hazelcast.core.ExecutionCallback;
import com.hazelcast.core.IExecutorService;
import dev.procpool.ProcessPoolException;
import dev.procpool.internal.engine.Chunk;
import dev.procpool.internal.engine.Job;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.BiConsumer;
import java.util.function.BooleanSupplier;

/**
 * Sends chunks to members and hands their answers to the jobs: inputs and the function go as Kryo
 * bytes (the function once per call is serialized, then sent with each chunk), results are read back
 * with the job's class loader. An input or result that cannot travel fails alone, as with worker JVMs.
 */
final class ChunkTransport {
    private record Function(byte[] bytes) {}

    private final IExecutorService executor;
    private final UUID session;
    private final MemberRegistry registry;
    /** Takes chunks back to run them elsewhere, with the reason. */
    private final BiConsumer<List<Chunk>, String> handBack;
    private final Runnable wake;
    /** True once the pool is ending: every call is over, so a chunk that cannot be answered is dropped. */
    private final BooleanSupplier ending;
    private final Map<Job, Function> functions = new ConcurrentHashMap<>();

    ChunkTransport(IExecutorService executor, UUID session, MemberRegistry registry,
            BiConsumer<List<Chunk>, String> handBack, Runnable wake, BooleanSupplier ending) {
        this.executor = executor;
        this.session = session;
        this.registry = registry;
        this.handBack = handBack;
        this.wake = wake;
        this.ending = ending;
    }

    /** Sends the chunk to the member whose slot was reserved for it; the reservation is used up either way. */
    void send(RemoteMember member, Chunk chunk) {
        Job job = chunk.job();
        Function function = job.isFinished() ? null : function(job);
        Encoded encoded = function == null ? null : encode(chunk);
        if (encoded == null) {
            registry.release(member);
            return;
        }
        long sendId = registry.track(member, encoded.chunk);
        if (sendId < 0) {
            handBack.accept(List.of(encoded.chunk), "member " + member.name + " was given up");
            return;
        }
        Tasks.Chunk task = new Tasks.Chunk(session, job.id, function.bytes, encoded.chunk.indices(),
                encoded.inputs);
        try {
            executor.submitToMember(task, member.member, new ExecutionCallback<Tasks.ChunkReply>() {
                @Override
                public void onResponse(Tasks.ChunkReply reply) {
                    answered(member, sendId, reply);
                }

                @Override
                public void onFailure(Throwable failure) {
                    failed(member, sendId, failure);
                }
            });
        } catch (RuntimeException e) {
            failed(member, sendId, e);
        }
    }

    /** The job's function as bytes, made once per call; null when it cannot travel (the call failed). */
    private Function function(Job job) {
        Function known = functions.get(job);
        if (known != null) {
            return known;
        }
        Function made;
        try {
            made = new Function(Wire.write(job.function, job.function.getClass().getClassLoader()));
        } catch (RuntimeException | StackOverflowError e) {
            job.failAll(new ProcessPoolException("the task function cannot be sent to a cluster member: "
                    + Job.describe(e), e));
            return null;
        }
        if (functions.putIfAbsent(job, made) == null) {
            job.completion().whenComplete((r, e) -> functions.remove(job));
        }
        return made;
    }

    private record Encoded(Chunk chunk, byte[][] inputs) {}

    /** Each input as bytes; one that cannot be serialized fails alone and is left out; null when none is left. */
    private static Encoded encode(Chunk chunk) {
        Job job = chunk.job();
        byte[][] bytes = new byte[chunk.size()][];
        List<Integer> sendable = new ArrayList<>(chunk.size());
        for (int i = 0; i < chunk.size(); i++) {
            try {
                bytes[i] = Wire.write(chunk.inputs()[i], job.classLoader);
                sendable.add(i);
            } catch (RuntimeException | StackOverflowError e) {
                long index = chunk.indices()[i];
                job.failed(index, new ProcessPoolException("input " + index + " cannot be sent to a cluster member: "
                        + Job.describe(e), e, index));
            }
        }
        if (sendable.size() == chunk.size()) {
            return new Encoded(chunk, bytes);
        }
        if (sendable.isEmpty()) {
            return null;
        }
        long[] indices = new long[sendable.size()];
        Object[] inputs = new Object[sendable.size()];
        byte[][] kept = new byte[sendable.size()][];
        for (int j = 0; j < sendable.size(); j++) {
            int i = sendable.get(j);
            indices[j] = chunk.indices()[i];
            inputs[j] = chunk.inputs()[i];
            kept[j] = bytes[i];
        }
        return new Encoded(new Chunk(job, indices, inputs), kept);
    }

    private void answered(RemoteMember member, long sendId, Tasks.ChunkReply reply) {
        try {
            if (reply.sessionUnknown() != null && ending.getAsBoolean()) { // the pool ended it
                registry.untrack(member, sendId);
                return;
            }
            if (reply.sessionUnknown() != null) {
                registry.lostSession(member, reply.sessionUnknown());
                Chunk chunk = registry.untrack(member, sendId);
                if (chunk != null) {
                    handBack.accept(List.of(chunk), reply.sessionUnknown());
                }
                return;
            }
            Chunk chunk = registry.answered(member, sendId);
            if (chunk != null && !chunk.job().isFinished()) { // null: handed back meanwhile, its answer is not taken
                deliver(chunk, reply.elements());
            }
        } finally {
            wake.run();
        }
    }

    /** Results are read with the caller's class loader; each one that cannot be rebuilt fails alone. */
    private static void deliver(Chunk chunk, byte[][] elements) {
        Job job = chunk.job();
        int n = chunk.size();
        Object[] values = new Object[n];
        ProcessPoolException[] failures = new ProcessPoolException[n];
        for (int i = 0; i < n; i++) {
            long index = chunk.indices()[i];
            try {
                Object value = Wire.read(elements[i], job.classLoader);
                if (value instanceof RemoteFailures.ElementFailure failure) {
                    failures[i] = RemoteFailures.toException(failure, index, job.classLoader);
                } else {
                    values[i] = value;
                }
            } catch (RuntimeException | LinkageError e) {
                failures[i] = new ProcessPoolException("the result for input " + index
                        + " cannot be rebuilt in the caller's JVM: " + Job.describe(e), e, index);
            }
        }
        job.answered(chunk, 0, values, failures, n);
    }

    /** The send itself failed (the member went away, or the task threw there): the member is given up. */
    private void failed(RemoteMember member, long sendId, Throwable failure) {
        if (ending.getAsBoolean()) { // the client shutting down with the pool: not the member's fault
            registry.untrack(member, sendId);
        } else if (registry.holds(member, sendId)) {
            String reason = "a chunk failed there: " + failure;
            handBack.accept(registry.giveUp(member, reason), "member " + member.name + " " + reason);
        }
        wake.run();
    }
}
