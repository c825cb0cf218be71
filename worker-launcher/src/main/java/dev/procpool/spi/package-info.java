/** Extension points applied on both sides of the worker channel: see {@link dev.procpool.spi.KryoCustomizer}. */
package dev.procpool.spi;
