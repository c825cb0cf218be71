package dev.procpool.internal.process;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The running-task slot files: named so the sweep of dead JVMs' files knows them, new, owner-only. */
class SlotFileTest {
    @TempDir
    Path dir;

    @Test
    void eachSlotFileIsNewEmptyOwnerOnlyAndNamedWithThisJvmsPid() throws Exception {
        Set<Path> made = new HashSet<>();
        for (int i = 0; i < 50; i++) {
            Path slot = WorkerJvm.createSlotFile(dir);
            assertThat(made.add(slot)).isTrue();
            assertThat(slot.getParent()).isEqualTo(dir);
            assertThat(slot.getFileName().toString())
                    .matches("procpool-" + ProcessHandle.current().pid() + "-[0-9a-z]+\\.slot");
            assertThat(Files.size(slot)).isZero();
            assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(slot))).isEqualTo("rw-------");
        }
    }
}
