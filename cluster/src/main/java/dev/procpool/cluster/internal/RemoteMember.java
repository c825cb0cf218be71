package dev.procpool.cluster.internal;

import com.hazelcast.cluster.Member;
import dev.procpool.internal.engine.Chunk;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One Hazelcast member as a pool sees it. Every field is guarded by the {@link MemberRegistry}'s lock,
 * and only the registry moves the state.
 *
 * <p><b>States.</b> A member moves between four states, as {@code ThreadPoolExecutor} documents its own:
 * <ul>
 *   <li>{@code NEW}: known from Hazelcast's membership, this pool's session not yet asked for there. The
 *       engine's housekeeping moves it to {@code PREPARING} on its next tick.
 *   <li>{@code PREPARING}: the session (a local pool with this pool's settings) is being created on the
 *       member, and the jars it lacks are uploaded. → {@code READY} when the member answers with nothing
 *       missing; → {@code DOWN} when preparing fails or times out.
 *   <li>{@code READY}: takes chunks, up to {@link #capacity()} at once. → {@code DOWN} when it leaves the
 *       cluster, misses heartbeats for the heartbeat timeout, or a chunk sent there fails in transport;
 *       → {@code NEW} when it answers a chunk with "no session" (it restarted, or ended the session).
 *       Either way the chunks it held are put back in the scheduler, first in line.
 *   <li>{@code DOWN}: not used; holds no chunks. → {@code NEW} when it answers a heartbeat again while
 *       still in the cluster; removed from the registry when it leaves the cluster.
 * </ul>
 * A chunk's results are taken from the member it was last sent to only while that send is still in
 * {@link #inFlight}: putting a chunk back removes the send, so a late answer from a given-up member is
 * dropped, and each input is answered once.
 */
final class RemoteMember {
    enum State { NEW, PREPARING, READY, DOWN }

    final Member member;
    String name;
    State state = State.NEW;
    String downReason;
    int workers;
    /** Chunks sent and not answered, by send id. */
    final Map<Long, Chunk> inFlight = new LinkedHashMap<>();
    /** Slots taken by a dispatcher that has not sent its chunk yet. */
    int reserved;
    long pingSentAt;
    long lastPong = System.nanoTime();
    long inputsRun;

    RemoteMember(Member member) {
        this.member = member;
        this.name = member.getAddress().getHost() + ":" + member.getAddress().getPort();
    }

    /** Chunks it can take now: two per worker keep its workers fed while answers travel back. */
    int capacity() {
        return state == State.READY ? Math.max(2, 2 * workers) - inFlight.size() - reserved : 0;
    }

    String describe() {
        return name + ": " + state + (downReason == null ? "" : " (" + downReason + ")");
    }
}
