package io.mproxy.core.auth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mproxy.core.config.ClientLimits;
import io.mproxy.core.time.ManualClock;
import java.net.InetSocketAddress;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

class AuthFailureLimiterTest {

  private final ManualClock clock = new ManualClock();
  private final AtomicInteger failed = new AtomicInteger();
  private final AtomicInteger blocked = new AtomicInteger();
  private final AtomicInteger untracked = new AtomicInteger();
  private final AtomicReference<ClientLimits> limits =
      new AtomicReference<>(new ClientLimits(0, 10_000, 3, 1_000, 5_000));
  private final AuthFailureLimiter.Events events = new AuthFailureLimiter.Events() {
    @Override
    public void failed() {
      failed.incrementAndGet();
    }

    @Override
    public void blocked() {
      blocked.incrementAndGet();
    }

    @Override
    public void untracked() {
      untracked.incrementAndGet();
    }
  };

  private static InetSocketAddress from(String ip) {
    return new InetSocketAddress(ip, 40000);
  }

  @Test
  void blocksAnAddressAfterMaxFailuresInTheWindowAndOnlyThatAddress() {
    AuthFailureLimiter limiter = new AuthFailureLimiter(clock, limits::get, 100, events);
    for (int i = 0; i < 2; i++) {
      assertTrue(limiter.refusal(from("10.0.0.1")).isEmpty());
      limiter.failed(from("10.0.0.1"));
    }
    assertTrue(limiter.refusal(from("10.0.0.1")).isEmpty(), "2 failures of 3 allowed");
    limiter.failed(new InetSocketAddress("10.0.0.1", 40001));
    String why = limiter.refusal(from("10.0.0.1")).orElseThrow();
    assertTrue(why.startsWith("mproxy: too many failed logins from 10.0.0.1"), why);
    assertTrue(why.contains("5 s"), why);
    assertTrue(limiter.refusal(from("10.0.0.2")).isEmpty(), "another address is not blocked");
    assertEquals(3, failed.get());
    assertEquals(1, blocked.get());
  }

  @Test
  void theBlockEndsAfterBlockMs() {
    AuthFailureLimiter limiter = new AuthFailureLimiter(clock, limits::get, 100, events);
    for (int i = 0; i < 3; i++) {
      limiter.failed(from("10.0.0.1"));
    }
    clock.advanceMillis(4_999);
    assertTrue(limiter.refusal(from("10.0.0.1")).isPresent());
    clock.advanceMillis(1);
    assertTrue(limiter.refusal(from("10.0.0.1")).isEmpty());
    limiter.failed(from("10.0.0.1"));
    assertTrue(limiter.refusal(from("10.0.0.1")).isEmpty(), "counting starts again after a block");
  }

  @Test
  void failuresSpreadWiderThanTheWindowNeverBlock() {
    AuthFailureLimiter limiter = new AuthFailureLimiter(clock, limits::get, 100, events);
    for (int i = 0; i < 20; i++) {
      limiter.failed(from("10.0.0.1"));
      limiter.failed(from("10.0.0.1"));
      clock.advanceMillis(1_000);
      assertTrue(limiter.refusal(from("10.0.0.1")).isEmpty(), "round " + i);
    }
  }

  @Test
  void aReloadedLimitAppliesToTheNextFailure() {
    AuthFailureLimiter limiter = new AuthFailureLimiter(clock, limits::get, 100, events);
    limiter.failed(from("10.0.0.1"));
    limits.set(new ClientLimits(0, 10_000, 2, 1_000, 5_000));
    limiter.failed(from("10.0.0.1"));
    assertTrue(limiter.refusal(from("10.0.0.1")).isPresent());
  }

  @Test
  void theAddressTableIsBoundedAndSweepsExpiredEntries() {
    AuthFailureLimiter limiter = new AuthFailureLimiter(clock, limits::get, 4, events);
    for (int i = 1; i <= 10; i++) {
      limiter.failed(from("10.0.1." + i));
    }
    assertEquals(4, limiter.tracked());
    assertEquals(6, untracked.get());
    assertEquals(10, failed.get(), "untracked failures are still counted");
    clock.advanceMillis(1_000);
    limiter.failed(from("10.0.2.1"));
    assertEquals(1, limiter.tracked(), "expired windows were swept to make room");
  }

  @Test
  void addressesThatAreNotInetAndTheNoneLimiterAreNeverRefused() {
    AuthFailureLimiter limiter = new AuthFailureLimiter(clock, limits::get, 4, events);
    for (int i = 0; i < 10; i++) {
      limiter.failed(new io.netty.channel.local.LocalAddress("x"));
      AuthFailureLimiter.NONE.failed(from("10.0.0.1"));
    }
    assertFalse(limiter.refusal(new io.netty.channel.local.LocalAddress("x")).isPresent());
    assertFalse(AuthFailureLimiter.NONE.refusal(from("10.0.0.1")).isPresent());
    assertEquals(0, failed.get());
  }
}
