package dev.procpool.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import dev.procpool.Pool;
import dev.procpool.PoolMode;
import dev.procpool.contract.ContractTasks;
import dev.procpool.contract.PoolContract;
import dev.procpool.testing.ProcessTree;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Timeout;

/**
 * The contract every pool keeps ({@link PoolContract}), on a {@link ClusterPool}: {@value #MEMBERS} member JVMs
 * on 127.0.0.1, started once for the class (so that the per-test no-process-left baseline holds them), and a
 * new pool on them per test. Each test's pool opens a session on every member, whose worker JVMs are
 * descendants of this JVM too: the no-process-left check after each test therefore also says that closing or
 * terminating a cluster pool ends its worker JVMs on the members.
 *
 * <p>The tasks talk to the test through files, which works because the members run on this machine.
 */
class ClusterPoolContractTest extends PoolContract {
    static final int MEMBERS = 2;

    static Path directory;
    static MemberProcesses cluster;

    @BeforeAll
    @Timeout(value = 90, unit = TimeUnit.SECONDS)
    static void startMembers() throws Exception {
        directory = Files.createTempDirectory("procpool-cluster-contract");
        cluster = new MemberProcesses(directory);
        cluster.start(MEMBERS, 1);
    }

    @AfterAll
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    static void stopMembers() throws Exception {
        if (cluster == null) {
            return;
        }
        List<ProcessTree.Proc> family = new ArrayList<>();
        for (MemberProcesses.Member member : cluster.members) {
            for (long pid : member.family()) {
                ProcessTree.proc(pid).ifPresent(family::add);
            }
        }
        try {
            cluster.close(); // kills the members, and checks that they and every worker JVM they ran are gone
            assertThat(ProcessTree.awaitGone(family, Duration.ofSeconds(5))).as("members and their worker JVMs")
                    .isEmpty();
        } finally {
            deleteTree(directory);
        }
    }

    private static void deleteTree(Path root) throws IOException {
        try (Stream<Path> paths = Files.walk(root)) {
            for (Path path : paths.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(path);
            }
        }
    }

    /**
     * A pool on every member: {@code build()} returns once the first member is ready, so this waits for the
     * others too, which makes {@link #parallelism(int)} true from the first call on.
     */
    @Override
    protected Pool newPool(int workers) {
        ClusterPool pool = ClusterPool.builder().members(cluster.addresses()).workersPerMember(workers)
                .heartbeatTimeout(Duration.ofSeconds(3)).scratchDirectory(directory.resolve("client")).build();
        try {
            ContractTasks.await("every member to be ready for the pool", 30_000,
                    () -> pool.members().size() == MEMBERS);
        } catch (AssertionError e) {
            pool.terminate();
            throw e;
        }
        return pool;
    }

    @Override
    protected PoolMode expectedMode() {
        return PoolMode.PROCESSES;
    }

    @Override
    protected int parallelism(int workers) {
        return MEMBERS * workers;
    }
}
