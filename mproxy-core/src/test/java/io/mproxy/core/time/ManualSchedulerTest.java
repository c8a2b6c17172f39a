package io.mproxy.core.time;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class ManualSchedulerTest {

  private static final long MS = 1_000_000L;

  private final ManualClock clock = new ManualClock();
  private final ManualScheduler scheduler = new ManualScheduler(clock);
  private final List<String> log = new ArrayList<>();

  @Test
  void clockMovesOnlyWhenTold() {
    assertEquals(0, clock.nanoTime());
    assertEquals(1_700_000_000_000L, clock.wallMillis());
    clock.advanceMillis(1_500);
    assertEquals(1_500 * MS, clock.nanoTime());
    assertEquals(1_700_000_001_500L, clock.wallMillis());
    assertThrows(IllegalArgumentException.class, () -> clock.advanceNanos(-1));
  }

  @Test
  void runsDueTasksInTimeOrderAtTheirOwnTime() {
    scheduler.schedule(() -> log.add("b@" + clock.nanoTime() / MS), 20 * MS);
    scheduler.schedule(() -> log.add("a@" + clock.nanoTime() / MS), 10 * MS);
    scheduler.schedule(() -> log.add("c@" + clock.nanoTime() / MS), 20 * MS);
    scheduler.advanceMillis(15);
    assertEquals(List.of("a@10"), log);
    assertEquals(15 * MS, clock.nanoTime());
    scheduler.advanceMillis(100);
    assertEquals(List.of("a@10", "b@20", "c@20"), log, "equal due times run in scheduling order");
    assertEquals(115 * MS, clock.nanoTime());
  }

  @Test
  void fixedRateRepeatsUntilCancelled() {
    Scheduler.Cancellable c = scheduler.scheduleAtFixedRate(() -> log.add("t@" + clock.nanoTime() / MS), 100 * MS);
    scheduler.advanceMillis(350);
    assertEquals(List.of("t@100", "t@200", "t@300"), log);
    c.cancel();
    scheduler.advanceMillis(1_000);
    assertEquals(3, log.size());
  }

  @Test
  void cancelledOneShotNeverRuns() {
    Scheduler.Cancellable c = scheduler.schedule(() -> log.add("x"), 10 * MS);
    c.cancel();
    scheduler.advanceMillis(20);
    assertEquals(List.of(), log);
  }

  @Test
  void aTaskScheduledByATaskRunsInTheSameAdvanceWhenDue() {
    scheduler.schedule(() -> scheduler.schedule(() -> log.add("inner@" + clock.nanoTime() / MS), 5 * MS), 10 * MS);
    scheduler.advanceMillis(20);
    assertEquals(List.of("inner@15"), log);
  }

  @Test
  void nonPositivePeriodIsRejected() {
    assertThrows(IllegalArgumentException.class, () -> scheduler.scheduleAtFixedRate(() -> { }, 0));
  }
}
