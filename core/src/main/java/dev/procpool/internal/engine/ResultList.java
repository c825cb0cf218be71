package dev.procpool.internal.engine;

import dev.procpool.internal.worker.ValueRuns;
import java.io.Serial;
import java.io.Serializable;
import java.util.AbstractList;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.RandomAccess;

/**
 * The list a {@code map} returns when some of its results arrived packed ({@link MapJob#answeredRun}):
 * those stay unboxed and are boxed on each {@link #get}, so a map of a million longs hands its caller
 * the results without a million allocations first (a caller that unboxes at once, {@code for (long x :
 * results)}, may never allocate them at all once its loop is compiled). Otherwise it behaves as the
 * {@code ArrayList} a map returned before: any change ({@code set}, {@code add}, {@code remove}, a
 * sort) first boxes every element into an {@code ArrayList} that holds them from then on. Java
 * serialization writes that {@code ArrayList}. Like {@code ArrayList} it is not thread-safe.
 *
 * <p>An instance made without its constructor (as a serializer may) is an empty list.
 */
final class ResultList extends AbstractList<Object> implements RandomAccess, Serializable {
    @Serial
    private static final long serialVersionUID = 1L;

    /** Where {@link #kinds} is 0, the value; elsewhere unused. Null once inflated. */
    private transient Object[] boxed;
    /** The packed value where {@link #kinds} is not 0 ({@link ValueRuns#box}). */
    private transient long[] bits;
    private transient byte[] kinds;
    /** All elements, boxed, once the list was changed (or made without its constructor). */
    private transient ArrayList<Object> inflated;

    ResultList(Object[] boxed, long[] bits, byte[] kinds) {
        this.boxed = boxed;
        this.bits = bits;
        this.kinds = kinds;
    }

    @Override
    public Object get(int index) {
        if (boxed == null) {
            return inflated().get(index);
        }
        byte kind = kinds[index]; // throws for a bad index, as ArrayList does
        return kind == 0 ? boxed[index] : ValueRuns.box(kind, bits[index]);
    }

    @Override
    public int size() {
        return boxed == null ? inflated().size() : boxed.length;
    }

    @Override
    public Object set(int index, Object element) {
        return inflated().set(index, element);
    }

    @Override
    public void add(int index, Object element) {
        inflated().add(index, element);
        modCount++;
    }

    @Override
    public Object remove(int index) {
        Object removed = inflated().remove(index);
        modCount++;
        return removed;
    }

    @Override
    protected void removeRange(int fromIndex, int toIndex) {
        inflated().subList(fromIndex, toIndex).clear();
        modCount++;
    }

    @Override
    public Object[] toArray() {
        if (boxed == null) {
            return inflated().toArray();
        }
        Object[] all = Arrays.copyOf(boxed, boxed.length);
        for (int i = 0; i < all.length; i++) {
            if (kinds[i] != 0) {
                all[i] = ValueRuns.box(kinds[i], bits[i]);
            }
        }
        return all;
    }

    private ArrayList<Object> inflated() {
        if (inflated == null) {
            inflated = boxed == null ? new ArrayList<>() : new ArrayList<>(Arrays.asList(toArray()));
            boxed = null;
            bits = null;
            kinds = null;
        }
        return inflated;
    }

    @Serial
    private Object writeReplace() {
        return new ArrayList<>(this);
    }
}
