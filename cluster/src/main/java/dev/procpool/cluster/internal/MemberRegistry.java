package dev.procpool.cluster.internal;

import com.hazelcast.cluster.Member;
import dev.procpool.ProcessPoolException;
import dev.procpool.internal.engine.Chunk;
import dev.procpool.internal.engine.Job;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The members a pool knows, their states (see {@link RemoteMember}) and the chunks each holds. Its
 * monitor guards every {@link RemoteMember}; nothing here calls Hazelcast or a job, so holding it never
 * waits on the network or on user code. Methods that take chunks away from a member return them: the
 * caller puts them back in the scheduler outside the lock.
 */
final class MemberRegistry {
    private static final Logger log = LoggerFactory.getLogger(MemberRegistry.class);

    private final Map<UUID, RemoteMember> members = new LinkedHashMap<>();
    /** Inputs run by members that have left, so that the counts survive them. */
    private final Map<String, Long> retiredCounts = new LinkedHashMap<>();
    private long nextSendId;
    private long noMemberSince = System.nanoTime();

    synchronized void added(Member member) {
        members.computeIfAbsent(member.getUuid(), u -> new RemoteMember(member));
        notifyAll();
    }

    /** The member left the cluster: forgotten, and its chunks handed back. */
    synchronized List<Chunk> removed(Member member) {
        RemoteMember state = members.remove(member.getUuid());
        if (state == null) {
            return List.of();
        }
        retiredCounts.merge(state.name, state.inputsRun, Long::sum);
        return giveUp(state, "left the cluster");
    }

    synchronized Collection<RemoteMember> all() {
        return List.copyOf(members.values());
    }

    // ------------------------------------------------------------------------------- placement

    /** Takes a slot on the ready member with the most room, or returns null when none has room. */
    synchronized RemoteMember reserve() {
        RemoteMember best = null;
        for (RemoteMember m : members.values()) {
            if (m.capacity() > 0 && (best == null || m.capacity() > best.capacity())) {
                best = m;
            }
        }
        if (best != null) {
            best.reserved++;
        }
        return best;
    }

    synchronized void release(RemoteMember member) {
        member.reserved--;
        notifyAll();
    }

    /** Turns the reservation into a send of {@code chunk}; -1 when the member is not ready any more. */
    synchronized long track(RemoteMember member, Chunk chunk) {
        member.reserved--;
        if (member.state != RemoteMember.State.READY) {
            return -1;
        }
        long id = ++nextSendId;
        member.inFlight.put(id, chunk);
        return id;
    }

    /** The send's chunk, now answered, or null when it was handed back meanwhile (its answer is not taken). */
    synchronized Chunk answered(RemoteMember member, long sendId) {
        Chunk chunk = member.inFlight.remove(sendId);
        if (chunk != null) {
            member.inputsRun += chunk.size();
        }
        return chunk;
    }

    /** The send's chunk, taken back unanswered, or null when it was handed back already. */
    synchronized Chunk untrack(RemoteMember member, long sendId) {
        return member.inFlight.remove(sendId);
    }

    synchronized boolean holds(RemoteMember member, long sendId) {
        return member.inFlight.containsKey(sendId);
    }

    /** Members holding a chunk of the job now. */
    synchronized List<RemoteMember> holding(Job job) {
        List<RemoteMember> list = new ArrayList<>();
        for (RemoteMember m : members.values()) {
            if (m.inFlight.values().stream().anyMatch(c -> c.job() == job)) {
                list.add(m);
            }
        }
        return list;
    }

    // ----------------------------------------------------------------------------- transitions

    /** NEW → PREPARING for every new member; returns them, to be prepared. */
    synchronized List<RemoteMember> startPreparing() {
        List<RemoteMember> list = new ArrayList<>();
        for (RemoteMember m : members.values()) {
            if (m.state == RemoteMember.State.NEW) {
                m.state = RemoteMember.State.PREPARING;
                list.add(m);
            }
        }
        return list;
    }

    /** PREPARING → READY. */
    synchronized void prepared(RemoteMember member, String name, int workers) {
        if (member.state == RemoteMember.State.PREPARING) {
            member.state = RemoteMember.State.READY;
            member.name = name;
            member.workers = workers;
            member.downReason = null;
        }
        notifyAll();
    }

    /** READY → NEW: the member has no session for this pool (it restarted); it is prepared again. */
    synchronized void lostSession(RemoteMember member, String why) {
        if (member.state == RemoteMember.State.READY) {
            log.info("procpool cluster: {}; preparing it again", why);
            member.state = RemoteMember.State.NEW;
        }
    }

    /** DOWN → NEW: it answers again, and is still in the cluster. */
    synchronized void answersAgain(RemoteMember member) {
        if (member.state == RemoteMember.State.DOWN && members.get(member.member.getUuid()) == member) {
            log.info("procpool cluster: member {} answers again; using it again", member.name);
            member.state = RemoteMember.State.NEW;
        }
        notifyAll();
    }

    /** Any state → DOWN: the member is not used until it answers again; returns the chunks it held. */
    synchronized List<Chunk> giveUp(RemoteMember member, String reason) {
        boolean wasUp = member.state != RemoteMember.State.DOWN;
        member.state = RemoteMember.State.DOWN;
        member.downReason = reason;
        List<Chunk> held = new ArrayList<>(member.inFlight.values());
        member.inFlight.clear();
        if (wasUp || !held.isEmpty()) {
            log.warn("procpool cluster: giving up member {} ({}); {} chunk(s) it held run again elsewhere",
                    member.name, reason, held.size());
        }
        notifyAll();
        return held;
    }

    // ---------------------------------------------------------------------------------- views

    /** Worker JVMs across the ready members. */
    synchronized int readyWorkers() {
        return members.values().stream().filter(m -> m.state == RemoteMember.State.READY).mapToInt(m -> m.workers)
                .sum();
    }

    /** Names (host:port) of the ready members. */
    synchronized List<String> readyNames() {
        return members.values().stream().filter(m -> m.state == RemoteMember.State.READY).map(m -> m.name).toList();
    }

    synchronized List<Member> readyMembers() {
        return members.values().stream().filter(m -> m.state == RemoteMember.State.READY).map(m -> m.member)
                .toList();
    }

    /** Members not given up: they may still hold this pool's session. */
    synchronized List<Member> reachable() {
        return members.values().stream().filter(m -> m.state != RemoteMember.State.DOWN).map(m -> m.member)
                .toList();
    }

    synchronized Map<String, Long> inputsPerMember() {
        Map<String, Long> counts = new LinkedHashMap<>(retiredCounts);
        for (RemoteMember m : members.values()) {
            counts.merge(m.name, m.inputsRun, Long::sum);
        }
        return counts;
    }

    /** Why no member can run anything, once that has been so for {@code grace}; null while one can. */
    synchronized String noMemberFor(Duration grace) {
        long now = System.nanoTime();
        if (members.values().stream().anyMatch(m -> m.state != RemoteMember.State.DOWN)) {
            noMemberSince = 0;
            return null;
        }
        if (noMemberSince == 0) {
            noMemberSince = now;
        }
        if (now - noMemberSince < grace.toNanos()) {
            return null;
        }
        return members.isEmpty() ? "every member left"
                : members.values().stream().map(RemoteMember::describe).toList().toString();
    }

    /** Until every member known now is ready or given up, and one is ready. */
    synchronized void awaitReady(Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (members.values().stream().noneMatch(m -> m.state == RemoteMember.State.READY)
                || members.values().stream().anyMatch(m -> m.state == RemoteMember.State.NEW
                        || m.state == RemoteMember.State.PREPARING)) {
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                throw new ProcessPoolException("no procpool cluster member became ready within " + timeout
                        + "; members: " + members.values().stream().map(RemoteMember::describe).toList());
            }
            TimeUnit.NANOSECONDS.timedWait(this, left);
        }
    }
}
