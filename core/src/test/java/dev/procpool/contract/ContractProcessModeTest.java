package dev.procpool.contract;

import dev.procpool.Pool;
import dev.procpool.PoolMode;
import dev.procpool.ProcessPool;

/** The contract on worker JVMs ({@link PoolMode#PROCESSES}). */
class ContractProcessModeTest extends PoolContract {
    @Override
    protected Pool newPool(int workers) {
        return ProcessPool.builder().workers(workers).mode(PoolMode.PROCESSES).build();
    }

    @Override
    protected PoolMode expectedMode() {
        return PoolMode.PROCESSES;
    }
}
