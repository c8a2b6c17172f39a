package io.mproxy.core.admission;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mproxy.core.time.ManualClock;
import org.junit.jupiter.api.Test;

/**
 * Rate 4 RU/s so that every wait below is an exact number of nanoseconds (1 RU = 250 ms).
 */
class TokenBucketTest {

  private static final double EPS = 1e-9;
  private static final long MS = 1_000_000L;

  private final ManualClock clock = new ManualClock();
  private final TokenBucket bucket = new TokenBucket(clock, 4, 8, 16);

  @Test
  void startsFull() {
    assertEquals(8.0, bucket.tokens(), EPS);
    assertEquals(4.0, bucket.ratePerSec(), EPS);
    assertEquals(8.0, bucket.capacity(), EPS);
  }

  @Test
  void refillsAtRateUpToCapacity() {
    assertEquals(TokenBucket.GRANTED, bucket.acquire(8, 0));
    assertEquals(0.0, bucket.tokens(), EPS);
    clock.advanceMillis(500);
    assertEquals(2.0, bucket.tokens(), EPS);
    clock.advanceMillis(250);
    assertEquals(3.0, bucket.tokens(), EPS);
    clock.advanceMillis(60_000);
    assertEquals(8.0, bucket.tokens(), EPS);
  }

  @Test
  void grantsWhileTokensLastAndTakesTheCost() {
    assertEquals(TokenBucket.GRANTED, bucket.acquire(3, 0));
    assertEquals(5.0, bucket.tokens(), EPS);
    assertEquals(TokenBucket.GRANTED, bucket.acquire(5, 0));
    assertEquals(0.0, bucket.tokens(), EPS);
  }

  @Test
  void refusesWithRetryAfterOfDeficitOverRate() {
    bucket.acquire(8, 0);
    clock.advanceMillis(250); // 1 token
    long r = bucket.acquire(3, 0); // deficit 2 → 500 ms
    assertEquals(-1L - 500 * MS, r);
    assertEquals(1.0, bucket.tokens(), EPS, "a refusal takes nothing");
  }

  @Test
  void refusedRetryAfterIsWhenTheSameCostIsFirstGranted() {
    bucket.acquire(8, 0);
    long r = bucket.acquire(1.5, 0);
    assertTrue(r < 0);
    long retryAfter = -(r + 1);
    assertEquals(375 * MS, retryAfter);
    clock.advanceNanos(retryAfter - 1);
    assertTrue(bucket.acquire(1.5, 0) < 0, "one nanosecond early is still refused");
    clock.advanceNanos(1);
    assertEquals(TokenBucket.GRANTED, bucket.acquire(1.5, 0));
  }

  @Test
  void queueModeReservesAndReturnsDeficitOverRate() {
    bucket.acquire(8, 0);
    long wait = bucket.acquire(2, 1_000 * MS);
    assertEquals(500 * MS, wait);
    assertEquals(-2.0, bucket.tokens(), EPS, "the tokens are reserved at once");
  }

  @Test
  void queuedReservationsAreServedInArrivalOrder() {
    bucket.acquire(8, 0);
    assertEquals(500 * MS, bucket.acquire(2, 2_000 * MS));
    // the second waiter must also wait for the first one's tokens: deficit 1 - (-2) = 3
    assertEquals(750 * MS, bucket.acquire(1, 2_000 * MS));
    assertEquals(-3.0, bucket.tokens(), EPS);
    clock.advanceMillis(750);
    assertEquals(0.0, bucket.tokens(), EPS, "when the last wait ends the refill has paid for everything");
  }

  @Test
  void queueModeRefusesWhenTheWaitExceedsTheMaximum() {
    bucket.acquire(8, 0);
    long r = bucket.acquire(2, 499 * MS);
    assertEquals(-1L - 500 * MS, r);
    assertEquals(0.0, bucket.tokens(), EPS, "no reservation on refusal");
  }

  @Test
  void queueModeAcceptsAWaitEqualToTheMaximum() {
    bucket.acquire(8, 0);
    assertEquals(500 * MS, bucket.acquire(2, 500 * MS));
  }

  @Test
  void aCostAboveCapacityIsAdmittedWhenFullAndRunsIntoDebt() {
    assertEquals(TokenBucket.GRANTED, bucket.acquire(20, 0));
    assertEquals(-12.0, bucket.tokens(), EPS);
  }

  @Test
  void aCostAboveCapacityWaitsOnlyUntilTheBucketIsFull() {
    bucket.acquire(1, 0); // 7 left
    long r = bucket.acquire(20, 0); // needs a full bucket: deficit 1 → 250 ms
    assertEquals(-1L - 250 * MS, r);
    clock.advanceMillis(250);
    assertEquals(TokenBucket.GRANTED, bucket.acquire(20, 0));
  }

  @Test
  void grantedDebtIsBoundedByMaxDebt() {
    assertEquals(TokenBucket.GRANTED, bucket.acquire(100, 0));
    assertEquals(-16.0, bucket.tokens(), EPS);
  }

  @Test
  void settleChargesMoreAndClampsAtMaxDebt() {
    bucket.settle(5);
    assertEquals(3.0, bucket.tokens(), EPS);
    bucket.settle(100);
    assertEquals(-16.0, bucket.tokens(), EPS);
  }

  @Test
  void settleRefundsAndClampsAtCapacity() {
    bucket.acquire(6, 0);
    bucket.settle(-4);
    assertEquals(6.0, bucket.tokens(), EPS);
    bucket.settle(-100);
    assertEquals(8.0, bucket.tokens(), EPS);
  }

  @Test
  void debtIsPaidBackByTheRefill() {
    bucket.settle(24); // 8 - 24 = -16
    assertEquals(-16.0, bucket.tokens(), EPS);
    clock.advanceMillis(4_000);
    assertEquals(0.0, bucket.tokens(), EPS);
    assertTrue(bucket.acquire(1, 0) < 0);
  }

  @Test
  void configureKeepsTheBalanceNeitherRefillingNorEmptying() {
    bucket.acquire(5, 0); // 3 left
    bucket.configure(100, 50, 10);
    assertEquals(3.0, bucket.tokens(), EPS);
    assertEquals(100.0, bucket.ratePerSec(), EPS);
    assertEquals(50.0, bucket.capacity(), EPS);
    clock.advanceMillis(100);
    assertEquals(13.0, bucket.tokens(), EPS, "the new rate applies from now on");
  }

  @Test
  void configureClampsTheBalanceToTheNewCapacityAndDebt() {
    bucket.configure(4, 2, 16);
    assertEquals(2.0, bucket.tokens(), EPS);
    bucket.settle(14); // -12
    bucket.configure(4, 2, 5);
    assertEquals(-5.0, bucket.tokens(), EPS);
  }

  @Test
  void configureSettlesTheRefillAtTheOldRateFirst() {
    bucket.acquire(8, 0);
    clock.advanceMillis(1_000); // 4 tokens at the old rate
    bucket.configure(1_000, 100, 16);
    assertEquals(4.0, bucket.tokens(), EPS);
  }

  @Test
  void configureRejectsNonsense() {
    assertThrows(IllegalArgumentException.class, () -> bucket.configure(0, 1, 0));
    assertThrows(IllegalArgumentException.class, () -> bucket.configure(1, 0, 0));
    assertThrows(IllegalArgumentException.class, () -> bucket.configure(1, 1, -1));
    assertEquals(4.0, bucket.ratePerSec(), EPS, "a rejected configure changes nothing");
  }

  @Test
  void aRefundNeverReturnsTokensThatADebtCapForgave() {
    // capacity 8, max debt 16: a charge of 50 takes 24 (8 -> -16) and forgives 26
    bucket.settle(50);
    assertEquals(-16.0, bucket.tokens(), EPS);
    // refunding 49 of it (the request was cheaper than charged) first repays the 26 forgiven
    bucket.settle(-49);
    assertEquals(-16.0 + 23, bucket.tokens(), EPS, "net charge 1, but only 24 was ever taken");
  }

  @Test
  void aFullBucketForgetsWhatWasForgiven() {
    bucket.settle(50);
    clock.advanceMillis(6_000); // refills 24: back to full
    assertEquals(8.0, bucket.tokens(), EPS);
    bucket.acquire(4, 0);
    bucket.settle(-2);
    assertEquals(6.0, bucket.tokens(), EPS, "an ordinary refund after the debt was paid off");
  }

  @Test
  void aQueueReservationBelowMaxDebtIsNotForgivenByALaterSettle() {
    bucket.acquire(8, 0); // 0 left
    assertEquals(2_000 * MS, bucket.acquire(20, 10_000 * MS), "waits until the bucket would be full");
    assertEquals(-20.0, bucket.tokens(), EPS, "the whole cost is reserved, past the debt floor");
    bucket.settle(1);
    assertEquals(-21.0, bucket.tokens(), EPS, "a charge never forgives a reservation");
    // the next waiter queues behind all of it: deficit 1 - (-21) = 22 -> 5.5 s
    assertEquals(5_500 * MS, bucket.acquire(1, 10_000 * MS));
  }

  @Test
  void aQueueReservationBelowMaxDebtSurvivesAReconfigure() {
    bucket.acquire(8, 0);
    bucket.acquire(20, 10_000 * MS);
    bucket.configure(4, 8, 16);
    assertEquals(-20.0, bucket.tokens(), EPS);
    clock.advanceMillis(5_000);
    assertEquals(0.0, bucket.tokens(), EPS, "the refill pays for the reservation first");
  }

  @Test
  void aRefundedReservationGivesBackExactlyItsTokens() {
    bucket.acquire(3, 0); // 5 left
    bucket.acquire(6, 10_000 * MS); // -1
    bucket.settle(-6); // the waiter was shed
    assertEquals(5.0, bucket.tokens(), EPS);
  }
}
