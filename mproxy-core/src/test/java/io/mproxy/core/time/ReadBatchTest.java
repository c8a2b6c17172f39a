package io.mproxy.core.time;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class ReadBatchTest {

  /** A clock that moves one nanosecond and counts every time it is read. */
  private static final class SteppingClock implements Clock {
    final AtomicLong readings = new AtomicLong();
    long now = 1_000;

    @Override
    public long nanoTime() {
      readings.incrementAndGet();
      return now++;
    }

    @Override
    public long wallMillis() {
      return 0;
    }
  }

  @Test
  void outsideABracketEveryCallReadsTheClock() {
    SteppingClock clock = new SteppingClock();
    assertEquals(1_000, ReadBatch.nanoTime(clock));
    assertEquals(1_001, ReadBatch.nanoTime(clock));
    assertEquals(2, clock.readings.get());
  }

  @Test
  void insideABracketTheFirstReadingServesEveryCall() {
    SteppingClock clock = new SteppingClock();
    ReadBatch.begin();
    try {
      assertEquals(1_000, ReadBatch.nanoTime(clock));
      assertEquals(1_000, ReadBatch.nanoTime(clock));
      assertEquals(1_000, ReadBatch.nanoTime(clock));
    } finally {
      ReadBatch.end();
    }
    assertEquals(1, clock.readings.get());
    assertEquals(1_001, ReadBatch.nanoTime(clock), "after the bracket the time is read afresh");
  }

  @Test
  void eachBracketTakesItsOwnReading() {
    SteppingClock clock = new SteppingClock();
    for (int i = 0; i < 3; i++) {
      ReadBatch.begin();
      try {
        assertEquals(1_000 + i, ReadBatch.nanoTime(clock));
        assertEquals(1_000 + i, ReadBatch.nanoTime(clock));
      } finally {
        ReadBatch.end();
      }
    }
    assertEquals(3, clock.readings.get());
  }

  @Test
  void nestedBracketsShareTheOutermostReading() {
    SteppingClock clock = new SteppingClock();
    ReadBatch.begin();
    try {
      long outer = ReadBatch.nanoTime(clock);
      ReadBatch.begin();
      try {
        assertEquals(outer, ReadBatch.nanoTime(clock));
      } finally {
        ReadBatch.end();
      }
      assertEquals(outer, ReadBatch.nanoTime(clock), "an inner end does not end the outer bracket");
    } finally {
      ReadBatch.end();
    }
    assertEquals(1, clock.readings.get());
  }

  @Test
  void anotherClockIsReadOnItsOwn() {
    SteppingClock a = new SteppingClock();
    SteppingClock b = new SteppingClock();
    b.now = 5_000;
    ReadBatch.begin();
    try {
      assertEquals(1_000, ReadBatch.nanoTime(a));
      assertEquals(5_000, ReadBatch.nanoTime(b));
      assertEquals(5_000, ReadBatch.nanoTime(b));
    } finally {
      ReadBatch.end();
    }
    assertEquals(1, a.readings.get());
    assertEquals(1, b.readings.get());
  }

  @Test
  void aBracketOnOneThreadDoesNotServeAnother() throws InterruptedException {
    SteppingClock clock = new SteppingClock();
    ReadBatch.begin();
    try {
      ReadBatch.nanoTime(clock);
      long[] seen = new long[2];
      Thread other = new Thread(() -> {
        seen[0] = ReadBatch.nanoTime(clock);
        seen[1] = ReadBatch.nanoTime(clock);
      });
      other.start();
      other.join(10_000);
      assertEquals(1_001, seen[0]);
      assertEquals(1_002, seen[1]);
    } finally {
      ReadBatch.end();
    }
  }

  @Test
  void anUnmatchedEndIsHarmless() {
    SteppingClock clock = new SteppingClock();
    ReadBatch.end();
    ReadBatch.begin();
    try {
      assertEquals(1_000, ReadBatch.nanoTime(clock));
      assertEquals(1_000, ReadBatch.nanoTime(clock));
    } finally {
      ReadBatch.end();
    }
    assertEquals(1_001, ReadBatch.nanoTime(clock));
  }
}
