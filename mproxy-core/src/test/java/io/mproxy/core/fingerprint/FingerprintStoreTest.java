package io.mproxy.core.fingerprint;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class FingerprintStoreTest {

  private static final double EPS = 1e-9;

  @Test
  void anUnseenFingerprintHasNoMean() {
    FingerprintStore store = new FingerprintStore(10);
    assertEquals(0.0, store.meanRu("SELECT ?"), EPS);
    assertEquals(0.0, store.meanRu(null), EPS);
  }

  @Test
  void meanStartsAtTheFirstChargeAndFollowsRecentOnes() {
    FingerprintStore store = new FingerprintStore(10);
    store.record("GET ?", "redis", 10, 1_000_000);
    assertEquals(10.0, store.meanRu("GET ?"), EPS);
    store.record("GET ?", "redis", 20, 1_000_000);
    assertEquals(11.0, store.meanRu("GET ?"), EPS);
    for (int i = 0; i < 200; i++) {
      store.record("GET ?", "redis", 2, 1_000_000);
    }
    // published when the EWMA (2 to 1e-6 by now) moves more than 1/32 of the published value away
    double mean = store.meanRu("GET ?");
    assertTrue(mean >= 2.0 - 1e-6 && mean <= 2.0 / (1 - 1.0 / 32) + 1e-6, String.valueOf(mean));
  }

  @Test
  void keepsCountTotalAndLatency() {
    FingerprintStore store = new FingerprintStore(10);
    store.record("GET ?", "redis", 3, 2_000_000);
    store.record("GET ?", "redis", 5, 2_000_000);
    FingerprintStats s = store.top(1).get(0);
    assertEquals("GET ?", s.fingerprint());
    assertEquals("redis", s.protocol());
    assertEquals(2, s.count());
    assertEquals(8.0, s.ruTotal(), EPS);
    long p50 = s.latencyMicros(0.5);
    assertTrue(p50 >= 2_000 && p50 <= 2_400, String.valueOf(p50));
  }

  @Test
  void recordsFromSeveralThreadsAreAllCounted() throws Exception {
    FingerprintStore store = new FingerprintStore(10);
    int threads = 4;
    int each = 20_000;
    Thread[] workers = new Thread[threads];
    for (int t = 0; t < threads; t++) {
      workers[t] = new Thread(() -> {
        for (int i = 0; i < each; i++) {
          store.record("GET ?", "redis", 0.5, 1_000_000);
        }
      });
      workers[t].start();
    }
    for (Thread w : workers) {
      w.join(60_000);
      assertTrue(!w.isAlive(), "a recording thread did not finish");
    }
    FingerprintStats s = store.get("GET ?");
    assertEquals(threads * each, s.count());
    assertEquals(threads * each * 0.5, s.ruTotal(), EPS);
    assertEquals(0.5, s.meanRu(), EPS);
    assertEquals(1_000, s.latencyMicros(0.5), 200);
    // a thread that ended keeps its share: a new thread's records add to it
    store.record("GET ?", "redis", 1, 1_000_000);
    assertEquals(threads * each * 0.5 + 1, s.ruTotal(), EPS);
  }

  @Test
  void nullFingerprintsAreNotRecorded() {
    FingerprintStore store = new FingerprintStore(10);
    store.record(null, "redis", 5, 0);
    assertEquals(List.of(), store.top(10));
  }

  @Test
  void staysBoundedUnderEndlessDistinctShapes() {
    int max = 16;
    FingerprintStore store = new FingerprintStore(max);
    for (int i = 0; i < 10_000; i++) {
      store.record("SELECT " + i, "mysql", 1, 1_000);
      if (i % 1_000 == 999) {
        int size = store.top(Integer.MAX_VALUE).size();
        assertTrue(size <= max, "after " + (i + 1) + " shapes the store holds " + size);
      }
    }
  }

  @Test
  void aHotShapeSurvivesAFloodOfOneOffShapes() {
    FingerprintStore store = new FingerprintStore(16);
    for (int i = 0; i < 2_000; i++) {
      store.record("HOT", "redis", 5, 1_000);
      store.meanRu("HOT");
      store.record("cold " + i, "redis", 1, 1_000);
    }
    assertTrue(store.meanRu("HOT") > 0, "the frequently used shape was evicted");
  }

  @Test
  void topIsOrderedByTotalRuAndLimited() {
    FingerprintStore store = new FingerprintStore(100);
    store.record("cheap", "redis", 1, 0);
    store.record("dear", "redis", 50, 0);
    store.record("many", "redis", 10, 0);
    store.record("many", "redis", 10, 0);
    store.record("many", "redis", 10, 0);
    store.record("middle", "redis", 20, 0);

    List<String> all = store.top(10).stream().map(FingerprintStats::fingerprint).toList();
    assertEquals(List.of("dear", "many", "middle", "cheap"), all);
    List<String> two = store.top(2).stream().map(FingerprintStats::fingerprint).toList();
    assertEquals(List.of("dear", "many"), two);
    assertEquals(List.of(), store.top(0));
  }

  @Test
  void aHeavyShapeArrivingAfterTheStoreFilledClimbsIntoTheTop() {
    FingerprintStore store = new FingerprintStore(20);
    for (int i = 0; i < 20; i++) {
      store.record("light " + i, "postgres", 2, 1_000);
    }
    for (int round = 0; round < 50; round++) {
      store.record("one-off " + round, "postgres", 1, 1_000);
      store.record("HEAVY", "postgres", 10, 1_000);
    }
    assertTrue(store.size() <= 20, "size " + store.size());
    assertEquals("HEAVY", store.top(1).get(0).fingerprint());
    assertEquals(50, store.top(1).get(0).count());
    assertTrue(store.evictedRuMax() >= 1, "evictions leave an error bound");
  }

  @Test
  void idsAreStableAndDistinct() {
    assertEquals(FingerprintStore.id("SELECT pg_sleep($1)"), FingerprintStore.id("SELECT pg_sleep($1)"));
    assertEquals(16, FingerprintStore.id("x").length());
    assertTrue(!FingerprintStore.id("SELECT 1").equals(FingerprintStore.id("SELECT 2")));
  }

  @Test
  void rankingWhileOtherThreadsRecordNeverBreaksTheSort() throws InterruptedException {
    // top() and pruning sort shapes by RU that event loops keep adding to; a sort whose keys
    // move under it can throw "Comparison method violates its general contract"
    FingerprintStore store = new FingerprintStore(4_000);
    for (int i = 0; i < 3_000; i++) {
      store.record("SELECT " + i, "postgres", 1 + i % 7, 1_000);
    }
    java.util.concurrent.atomic.AtomicBoolean stop = new java.util.concurrent.atomic.AtomicBoolean();
    Thread[] writers = new Thread[2];
    for (int w = 0; w < writers.length; w++) {
      int seed = w;
      writers[w] = new Thread(() -> {
        java.util.Random r = new java.util.Random(seed);
        while (!stop.get()) {
          store.record("SELECT " + r.nextInt(3_000), "postgres", r.nextInt(50), 1_000);
        }
      });
      writers[w].start();
    }
    try {
      for (int round = 0; round < 200; round++) {
        List<FingerprintStats> top = store.top(3_000);
        assertEquals(3_000, top.size());
      }
      // past capacity, a new shape prunes (sorting by rank) on the recording thread
      for (int i = 0; i < 3_000; i++) {
        store.record("UPDATE " + i, "postgres", 1, 1_000);
      }
      assertTrue(store.size() <= 4_000, "pruned: " + store.size());
    } finally {
      stop.set(true);
      for (Thread w : writers) {
        w.join();
      }
    }
  }
}
