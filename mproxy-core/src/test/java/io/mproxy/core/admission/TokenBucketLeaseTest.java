package io.mproxy.core.admission;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mproxy.core.time.ManualClock;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * The per-thread credit of a fast bucket (1,000,000 RU/s, 100,000 burst: batches of 1,000 RU)
 * under several threads, with the clock frozen so that nothing refills: whatever the
 * interleaving, the threads together are granted exactly the burst, never a token more, and
 * acquisitions and settlements from all threads add up exactly.
 */
class TokenBucketLeaseTest {

  private static final int THREADS = 4;

  private final ManualClock clock = new ManualClock();

  @Test
  void threadsTogetherAreGrantedExactlyTheBalanceNeverMore() throws Exception {
    TokenBucket bucket = new TokenBucket(clock, 1_000_000, 100_000, 0);
    AtomicLong granted = new AtomicLong();
    runThreads(t -> {
      long mine = 0;
      while (bucket.acquire(1, 0) == TokenBucket.GRANTED) {
        mine++;
      }
      granted.addAndGet(mine);
    });
    // every thread stopped at a refusal, after giving its credit back: nothing is stranded
    assertEquals(100_000, granted.get());
    assertEquals(0, bucket.tokens(), 1e-9);
  }

  @Test
  void acquisitionsAndSettlementsFromManyThreadsAddUpExactly() throws Exception {
    TokenBucket bucket = new TokenBucket(clock, 1_000_000, 100_000, 50_000);
    int rounds = 10_000;
    runThreads(t -> {
      for (int i = 0; i < rounds; i++) {
        assertEquals(TokenBucket.GRANTED, bucket.acquire(2, 0));
        bucket.settle(i % 2 == 0 ? -1.5 : -0.5); // net 1 RU per request
      }
    });
    // the threads are done: their credit counts in the balance, exactly once
    assertEquals(100_000 - THREADS * rounds, bucket.tokens(), 1e-6);
  }

  @Test
  void creditLeasedUnderOldLimitsIsNeverSpentAfterAReconfigure() {
    TokenBucket bucket = new TokenBucket(clock, 1_000_000, 100_000, 0);
    assertEquals(TokenBucket.GRANTED, bucket.acquire(1, 0)); // this thread now holds 1,000 RU of credit
    bucket.configure(100, 10, 0); // slow: no credit any more; the balance is clamped to 10
    int granted = 0;
    while (bucket.acquire(1, 0) == TokenBucket.GRANTED) {
      granted++;
    }
    assertEquals(10, granted);
  }

  @Test
  void slowBucketsKeepNoCredit() {
    TokenBucket bucket = new TokenBucket(clock, 200, 20, 0);
    assertEquals(TokenBucket.GRANTED, bucket.acquire(1, 0));
    assertEquals(19, bucket.settled(), 1e-9);
  }

  @Test
  void aRefundReturnsToTheThreadsCreditAndIsCountedOnce() {
    TokenBucket bucket = new TokenBucket(clock, 1_000_000, 100_000, 0);
    assertEquals(TokenBucket.GRANTED, bucket.acquire(10, 0));
    assertEquals(99_990, bucket.tokens(), 1e-9);
    bucket.settle(-4);
    assertEquals(99_994, bucket.tokens(), 1e-9);
    bucket.settle(3_000); // more than the credit: goes to the shared balance, credit given back
    assertEquals(96_994, bucket.tokens(), 1e-9);
  }

  private interface Work {
    void run(int thread) throws Exception;
  }

  static void runThreads(Work work) throws Exception {
    CountDownLatch go = new CountDownLatch(1);
    List<Thread> threads = new ArrayList<>();
    List<Throwable> failures = Collections.synchronizedList(new ArrayList<>());
    for (int i = 0; i < THREADS; i++) {
      int t = i;
      Thread th = new Thread(() -> {
        try {
          go.await();
          work.run(t);
        } catch (Throwable e) {
          failures.add(e);
        }
      });
      threads.add(th);
      th.start();
    }
    go.countDown();
    for (Thread th : threads) {
      th.join(TimeUnit.SECONDS.toMillis(60));
      assertTrue(!th.isAlive(), "worker thread did not finish");
    }
    assertTrue(failures.isEmpty(), failures.toString());
  }
}
