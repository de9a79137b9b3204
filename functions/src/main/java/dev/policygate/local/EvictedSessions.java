package dev.policygate.local;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * The directory of sessions that {@link FileSessionStore} no longer keeps in memory: for each id,
 * the byte offset of its latest line in {@code index.jsonl}. Packed into sorted, disjoint chunks
 * (normally one an eviction batch): the ids' 26 ASCII bytes back to back in one {@code byte[]}, the
 * offsets in a {@code long[]}, found by two binary searches. That is 34 bytes a session plus about
 * 60 bytes a chunk (see {@link #bytes()}).
 *
 * <p>Only ids of 26 ASCII characters (the {@code SessionIds} form) fit; the store keeps any other
 * in memory. An offset only ever grows: the index is append-only, so the greatest offset is the
 * last line, the one that wins.
 *
 * <p>Thread safety: lookups and cursors take no lock (the chunk array is replaced, never changed,
 * and offsets are read and written as volatile); adding a batch and raising an offset are
 * serialised, so a merge cannot lose a raise. A batch whose ids overlap existing chunks (after the clock was set back) is merged
 * with them, so that chunks stay disjoint and sorted.
 */
final class EvictedSessions {
    static final int ID_LENGTH = 26;
    /** Object header, two compressed references, padded: what a {@link Chunk} costs besides its arrays. */
    private static final int CHUNK_OBJECT_BYTES = 24;
    private static final int ARRAY_HEADER_BYTES = 16;
    private static final VarHandle OFFSETS = MethodHandles.arrayElementVarHandle(long[].class);
    private final Object lock = new Object();
    private volatile Chunk[] chunks = new Chunk[0];
    private volatile int count;

    /** Sessions evicted together: ids ascending, and the offset of each one's latest index line. */
    static final class Chunk {
        final byte[] ids;
        final long[] offsets;

        Chunk(byte[] ids, long[] offsets) {
            this.ids = ids;
            this.offsets = offsets;
        }

        int size() {
            return offsets.length;
        }

        long offset(int i) {
            return (long) OFFSETS.getVolatile(offsets, i);
        }

        String id(int i) {
            return new String(ids, i * ID_LENGTH, ID_LENGTH, StandardCharsets.ISO_8859_1);
        }

        /** Compares entry {@code i} with {@code s} as {@link String#compareTo} would. */
        int compare(int i, String s) {
            int base = i * ID_LENGTH;
            int n = Math.min(ID_LENGTH, s.length());
            for (int k = 0; k < n; k++) {
                int d = (ids[base + k] & 0xff) - s.charAt(k);
                if (d != 0) {
                    return d;
                }
            }
            return ID_LENGTH - s.length();
        }

        /** The index of {@code id}, or {@code -(insertion point) - 1}. */
        int search(String id) {
            int lo = 0;
            int hi = size() - 1;
            while (lo <= hi) {
                int mid = (lo + hi) >>> 1;
                int c = compare(mid, id);
                if (c < 0) {
                    lo = mid + 1;
                } else if (c > 0) {
                    hi = mid - 1;
                } else {
                    return mid;
                }
            }
            return -lo - 1;
        }
    }

    /** Whether {@code id} can be kept here: 26 characters, all ASCII. */
    static boolean fits(String id) {
        if (id.length() != ID_LENGTH) {
            return false;
        }
        for (int i = 0; i < ID_LENGTH; i++) {
            if (id.charAt(i) >= 0x80) {
                return false;
            }
        }
        return true;
    }

    /** The offset of {@code id}'s latest index line, or -1 if it is not here. */
    long offsetOf(String id) {
        Chunk[] s = snapshot();
        int c = chunkOf(s, id);
        if (c < 0) {
            return -1;
        }
        int i = s[c].search(id);
        return i < 0 ? -1 : s[c].offset(i);
    }

    boolean contains(String id) {
        return offsetOf(id) >= 0;
    }

    /**
     * Points {@code id} at the line at {@code offset} if that line is later than the one known.
     *
     * @return false if {@code id} is not here
     */
    boolean raise(String id, long offset) {
        if (snapshot().length == 0 || !fits(id)) {
            return false;
        }
        synchronized (lock) {
            Chunk[] s = chunks;
            int c = chunkOf(s, id);
            int i = c < 0 ? -1 : s[c].search(id);
            if (i < 0) {
                return false;
            }
            if (s[c].offset(i) < offset) {
                OFFSETS.setVolatile(s[c].offsets, i, offset);
            }
            return true;
        }
    }

    /**
     * Adds a batch: {@code n} ids, ascending, none here yet, each fitting, with their index-line
     * offsets. The ids above every id here (normally all of them) become a chunk of their own;
     * stragglers (begun out of id order, or after the clock was set back) are merged into the
     * chunks whose ranges they fall in, unless they are most of the batch.
     */
    void add(String[] ids, long[] offsets, int n) {
        synchronized (lock) {
            Chunk[] s = chunks;
            int split = 0;
            if (s.length > 0) {
                Chunk top = s[s.length - 1];
                while (split < n && top.compare(top.size() - 1, ids[split]) >= 0) {
                    split++;
                }
            }
            if (n - split < (n + 1) / 2) {
                split = n;
            }
            if (split > 0) {
                s = insert(s, pack(ids, offsets, 0, split));
            }
            if (split < n) {
                s = insert(s, pack(ids, offsets, split, n));
            }
            int total = 0;
            for (Chunk c : s) {
                total += c.size();
            }
            count = total;
            chunks = s;
        }
    }

    private static Chunk pack(String[] ids, long[] offsets, int from, int to) {
        byte[] packed = new byte[(to - from) * ID_LENGTH];
        for (int i = from; i < to; i++) {
            for (int k = 0; k < ID_LENGTH; k++) {
                packed[(i - from) * ID_LENGTH + k] = (byte) ids[i].charAt(k);
            }
        }
        return new Chunk(packed, Arrays.copyOfRange(offsets, from, to));
    }

    /** {@code s} with {@code batch} in its place, merged with the chunks its range overlaps. Under the lock. */
    private static Chunk[] insert(Chunk[] s, Chunk batch) {
        String first = batch.id(0);
        String last = batch.id(batch.size() - 1);
        // the chunks whose ranges overlap the batch's: [lo, hi]
        int lo = firstEndingAtOrAfter(s, first);
        int hi = lo - 1;
        while (hi + 1 < s.length && s[hi + 1].compare(0, last) <= 0) {
            hi++;
        }
        Chunk[] next;
        if (hi < lo) {
            next = new Chunk[s.length + 1];
            System.arraycopy(s, 0, next, 0, lo);
            next[lo] = batch;
            System.arraycopy(s, lo, next, lo + 1, s.length - lo);
        } else {
            next = new Chunk[s.length - (hi - lo)];
            System.arraycopy(s, 0, next, 0, lo);
            next[lo] = merge(Arrays.copyOfRange(s, lo, hi + 1), batch);
            System.arraycopy(s, hi + 1, next, lo + 1, s.length - hi - 1);
        }
        return next;
    }

    /** The first chunk whose last id is at or after {@code id} (binary search over sorted, disjoint chunks). */
    private static int firstEndingAtOrAfter(Chunk[] s, String id) {
        int lo = 0;
        int hi = s.length;
        while (lo < hi) {
            int mid = (lo + hi) >>> 1;
            if (s[mid].compare(s[mid].size() - 1, id) < 0) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        return lo;
    }

    /** One chunk of the old chunks (disjoint, ascending) and the batch; an id in both keeps its later line. Under the lock. */
    private static Chunk merge(Chunk[] old, Chunk batch) {
        int total = batch.size();
        for (Chunk c : old) {
            total += c.size();
        }
        byte[] ids = new byte[total * ID_LENGTH];
        long[] offsets = new long[total];
        int n = 0;
        int oc = 0;
        int oi = 0;
        int bi = 0;
        while (oc < old.length || bi < batch.size()) {
            int cmp;
            if (oc == old.length) {
                cmp = 1;
            } else if (bi == batch.size()) {
                cmp = -1;
            } else {
                cmp = compare(old[oc].ids, oi, batch.ids, bi);
            }
            long offset;
            if (cmp <= 0) {
                System.arraycopy(old[oc].ids, oi * ID_LENGTH, ids, n * ID_LENGTH, ID_LENGTH);
                offset = old[oc].offset(oi);
                if (cmp == 0) {
                    offset = Math.max(offset, batch.offset(bi++));
                }
                if (++oi == old[oc].size()) {
                    oc++;
                    oi = 0;
                }
            } else {
                System.arraycopy(batch.ids, bi * ID_LENGTH, ids, n * ID_LENGTH, ID_LENGTH);
                offset = batch.offset(bi++);
            }
            offsets[n++] = offset;
        }
        return n == total ? new Chunk(ids, offsets)
                : new Chunk(Arrays.copyOf(ids, n * ID_LENGTH), Arrays.copyOf(offsets, n));
    }

    private static int compare(byte[] a, int ai, byte[] b, int bi) {
        return Arrays.compareUnsigned(a, ai * ID_LENGTH, (ai + 1) * ID_LENGTH, b, bi * ID_LENGTH,
                (bi + 1) * ID_LENGTH);
    }

    /** The chunk whose range holds {@code id}, or -1. */
    private static int chunkOf(Chunk[] s, String id) {
        if (s.length == 0 || id.length() != ID_LENGTH) {
            return -1;
        }
        int c = firstEndingAtOrAfter(s, id);
        return c < s.length && s[c].compare(0, id) <= 0 ? c : -1;
    }

    /** How many sessions are here. */
    int count() {
        return count;
    }

    /**
     * What the directory holds on the heap, in bytes, on a 64-bit JVM with compressed references:
     * each chunk's two arrays and object, and the array of chunks.
     */
    long bytes() {
        Chunk[] s = snapshot();
        long total = align(ARRAY_HEADER_BYTES + 4L * s.length);
        for (Chunk c : s) {
            total += CHUNK_OBJECT_BYTES + align(ARRAY_HEADER_BYTES + (long) c.ids.length)
                    + align(ARRAY_HEADER_BYTES + 8L * c.offsets.length);
        }
        return total;
    }

    private static long align(long bytes) {
        return (bytes + 7) & ~7L;
    }

    /**
     * The chunks now; a new array whenever a batch is added. A batch is added before its sessions
     * leave memory; the fence keeps this read after the caller's (plain) read of the map that found
     * a session gone, so that the caller then sees the batch it went to.
     */
    Chunk[] snapshot() {
        VarHandle.acquireFence();
        return chunks;
    }

    /** Walks a snapshot from its greatest id down. */
    static final class Cursor {
        private final Chunk[] s;
        private int c;
        private int i;
        private String id;

        /** Positioned at the greatest id of {@code s} below {@code bound} (all of them if null). */
        Cursor(Chunk[] s, String bound) {
            this.s = s;
            if (bound == null) {
                c = s.length - 1;
                i = c < 0 ? -1 : s[c].size() - 1;
            } else {
                // the last chunk starting below the bound, and in it the last id below the bound
                c = firstEndingAtOrAfter(s, bound);
                if (c == s.length || s[c].compare(0, bound) >= 0) {
                    c--;
                    i = c < 0 ? -1 : s[c].size() - 1;
                } else {
                    int at = s[c].search(bound);
                    i = at >= 0 ? at - 1 : -at - 2;
                }
            }
        }

        /** The id here, or null when the walk is over. */
        String id() {
            if (id == null && c >= 0) {
                id = s[c].id(i);
            }
            return id;
        }

        long offset() {
            return s[c].offset(i);
        }

        void advance() {
            id = null;
            if (--i < 0 && --c >= 0) {
                i = s[c].size() - 1;
            }
        }
    }
}
