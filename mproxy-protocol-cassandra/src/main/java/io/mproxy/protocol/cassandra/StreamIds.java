package io.mproxy.protocol.cassandra;

/**
 * The stream ids of one backend connection: 32768 in v4 and v5, handed out lowest-free-first
 * from a bitmap, each bound to the sink that waits for its response. Not thread-safe: owned by
 * the connection's event loop.
 */
final class StreamIds {

  static final int MAX = 32_768;

  private final long[] used = new long[MAX / 64];
  private final ResponseSink[] sinks = new ResponseSink[MAX];
  private final int limit;
  private int inUse;
  private int hint;

  /** @param limit how many requests may be in flight at once (at most {@link #MAX}) */
  StreamIds(int limit) {
    this.limit = Math.min(limit, MAX);
  }

  /** Binds a free id to {@code sink}; -1 when {@code limit} ids are in use. */
  int acquire(ResponseSink sink) {
    if (inUse >= limit) {
      return -1;
    }
    for (int n = 0; n < used.length; n++) {
      int word = (hint + n) % used.length;
      long free = ~used[word];
      if (free != 0) {
        int bit = Long.numberOfTrailingZeros(free);
        used[word] |= 1L << bit;
        int id = word * 64 + bit;
        sinks[id] = sink;
        inUse++;
        hint = word;
        return id;
      }
    }
    return -1;
  }

  /** Frees {@code id}; returns its sink, or null when the id was not in use. */
  ResponseSink release(int id) {
    if (id < 0 || id >= MAX) {
      return null;
    }
    ResponseSink sink = sinks[id];
    if (sink == null) {
      return null;
    }
    sinks[id] = null;
    used[id >>> 6] &= ~(1L << (id & 63));
    inUse--;
    return sink;
  }

  int inUse() {
    return inUse;
  }

  /** Frees every id and returns their sinks. */
  java.util.List<ResponseSink> clear() {
    java.util.List<ResponseSink> all = new java.util.ArrayList<>(inUse);
    for (int id = 0; id < MAX && inUse > 0; id++) {
      ResponseSink s = release(id);
      if (s != null) {
        all.add(s);
      }
    }
    return all;
  }
}
