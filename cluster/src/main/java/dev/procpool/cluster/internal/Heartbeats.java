package dev.procpool.cluster.internal;

import com.hazelcast.core.ExecutionCallback;
import com.hazelcast.core.IExecutorService;
import dev.procpool.internal.engine.Chunk;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.function.BiConsumer;

/**
 * The pool's own liveness check of members, on Hazelcast's control executor (so a member busy with
 * chunks still answers at once). Hazelcast's membership notices a dead member, but not a frozen one
 * that still holds its connections: a member that leaves a ping unanswered for the heartbeat timeout
 * is given up, and used again once it answers.
 */
final class Heartbeats {
    private final MemberRegistry registry;
    private final IExecutorService control;
    private final ExecutorService pinger;
    private final long timeoutNanos;
    private final BiConsumer<List<Chunk>, String> giveBack;

    Heartbeats(MemberRegistry registry, IExecutorService control, ExecutorService pinger, Duration timeout,
            BiConsumer<List<Chunk>, String> giveBack) {
        this.registry = registry;
        this.control = control;
        this.pinger = pinger;
        this.timeoutNanos = timeout.toNanos();
        this.giveBack = giveBack;
    }

    /** Gives up members whose ping is overdue; pings those not heard of for a quarter of the timeout. */
    void check() {
        long now = System.nanoTime();
        List<Chunk> handedBack = new ArrayList<>();
        synchronized (registry) {
            for (RemoteMember m : registry.all()) {
                if (m.pingSentAt != 0 && now - m.pingSentAt > timeoutNanos && m.state != RemoteMember.State.DOWN) {
                    handedBack.addAll(registry.giveUp(m, "no heartbeat answer for "
                            + Duration.ofNanos(now - m.pingSentAt).toMillis() + " ms"));
                }
                if (m.pingSentAt == 0 && now - m.lastPong > timeoutNanos / 4) {
                    m.pingSentAt = now;
                    pinger.execute(() -> ping(m)); // never call Hazelcast under the lock: a frozen member can block it
                }
            }
        }
        if (!handedBack.isEmpty()) {
            giveBack.accept(handedBack, "its member missed heartbeats");
        }
    }

    private void ping(RemoteMember m) {
        try {
            control.submitToMember(new Tasks.Ping(), m.member, new ExecutionCallback<String>() {
                @Override
                public void onResponse(String name) {
                    synchronized (registry) {
                        m.pingSentAt = 0;
                        m.lastPong = System.nanoTime();
                        registry.answersAgain(m);
                    }
                }

                @Override
                public void onFailure(Throwable t) {
                    List<Chunk> held = List.of();
                    synchronized (registry) {
                        m.lastPong = System.nanoTime(); // a failed ping is not an answer: ask again soon
                        m.pingSentAt = 0;
                        if (m.state != RemoteMember.State.DOWN) {
                            held = registry.giveUp(m, "heartbeat failed: " + t);
                        }
                    }
                    giveBack.accept(held, "heartbeat failed: " + t);
                }
            });
        } catch (RuntimeException e) {
            synchronized (registry) {
                m.pingSentAt = 0;
                m.lastPong = System.nanoTime();
            }
        }
    }
}
