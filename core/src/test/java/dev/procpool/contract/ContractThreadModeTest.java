package dev.procpool.contract;

import dev.procpool.Pool;
import dev.procpool.PoolMode;
import dev.procpool.ProcessPool;

/** The contract on in-process threads ({@link PoolMode#THREADS}). */
class ContractThreadModeTest extends PoolContract {
    @Override
    protected Pool newPool(int workers) {
        return ProcessPool.builder().workers(workers).mode(PoolMode.THREADS).build();
    }

    @Override
    protected PoolMode expectedMode() {
        return PoolMode.THREADS;
    }
}
