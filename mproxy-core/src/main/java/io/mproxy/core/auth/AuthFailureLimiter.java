package io.mproxy.core.auth;

import io.mproxy.core.config.ClientLimits;
import io.mproxy.core.time.Clock;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * Slows password guessing: after {@code auth_max_failures} failed logins from one source address
 * within {@code auth_failure_window_ms}, every login attempt from that address is refused without
 * looking at its credentials for {@code auth_block_ms}. Every protocol's login path asks
 * {@link #refusal} before it checks a password and reports {@link #failed} when one is wrong, so
 * the rule is the same whatever the wire protocol.
 *
 * <p>The table of addresses is bounded ({@code maxTracked}): when it is full, entries whose window
 * and block have both ended are swept (at most once per window), and an address that still finds
 * no room is not tracked (fail open, counted through {@link Events#untracked}) rather than letting
 * a spray of source addresses grow memory without bound. Thread-safe; called on event loops.
 */
public final class AuthFailureLimiter {

  /** Where the limiter reports what it did (metrics); every method must be cheap. */
  public interface Events {
    /** A login failed and was counted against its address. */
    void failed();

    /** A login attempt was refused because its address is blocked. */
    void blocked();

    /** A failure could not be counted because the address table is full. */
    default void untracked() {
    }
  }

  /** Never refuses, counts nothing: for listeners that do not check logins. */
  public static final AuthFailureLimiter NONE = new AuthFailureLimiter(null, () -> null, 0, null);

  private static final Events SILENT = new Events() {
    @Override
    public void failed() {
    }

    @Override
    public void blocked() {
    }
  };

  private final Clock clock;
  private final Supplier<ClientLimits> limits;
  private final int maxTracked;
  private final Events events;
  private final ConcurrentHashMap<InetAddress, Entry> entries = new ConcurrentHashMap<>();
  private volatile long lastSweepNanos;

  /**
   * @param limits read on every call, so a reload applies at once
   * @param maxTracked the most addresses remembered at a time
   */
  public AuthFailureLimiter(Clock clock, Supplier<ClientLimits> limits, int maxTracked, Events events) {
    this.clock = clock;
    this.limits = limits;
    this.maxTracked = maxTracked;
    this.events = events == null ? SILENT : events;
    this.lastSweepNanos = clock == null ? 0 : clock.nanoTime() - TimeUnit.DAYS.toNanos(1);
  }

  /**
   * Empty when a login from {@code from} may be checked; otherwise the text of the protocol's
   * authentication error (starting with {@code mproxy:}, saying when to retry).
   */
  public Optional<String> refusal(SocketAddress from) {
    InetAddress address = addressOf(from);
    if (address == null || clock == null) {
      return Optional.empty();
    }
    Entry e = entries.get(address);
    if (e == null) {
      return Optional.empty();
    }
    long left = e.blockedFor(clock.nanoTime());
    if (left <= 0) {
      return Optional.empty();
    }
    events.blocked();
    long seconds = Math.max(1, TimeUnit.NANOSECONDS.toSeconds(left + 999_999_999L));
    return Optional.of("mproxy: too many failed logins from " + address.getHostAddress()
        + "; refused for " + seconds + " s more");
  }

  /** A login from {@code from} failed (wrong password, unknown user). */
  public void failed(SocketAddress from) {
    InetAddress address = addressOf(from);
    ClientLimits l = limits.get();
    if (address == null || clock == null || l == null) {
      return;
    }
    long now = clock.nanoTime();
    Entry e = entries.get(address);
    if (e == null) {
      if (entries.size() >= maxTracked) {
        sweep(now, l);
      }
      if (entries.size() >= maxTracked) {
        events.untracked();
        events.failed();
        return;
      }
      e = entries.computeIfAbsent(address, a -> new Entry());
    }
    e.failed(now, l.authMaxFailures(), TimeUnit.MILLISECONDS.toNanos(l.authFailureWindowMs()),
        TimeUnit.MILLISECONDS.toNanos(l.authBlockMs()));
    events.failed();
  }

  /** Addresses currently remembered (bounded by {@code maxTracked}). */
  public int tracked() {
    return entries.size();
  }

  private void sweep(long now, ClientLimits l) {
    long window = TimeUnit.MILLISECONDS.toNanos(Math.min(l.authFailureWindowMs(), l.authBlockMs()));
    if (now - lastSweepNanos < window) {
      return;
    }
    lastSweepNanos = now;
    long windowNanos = TimeUnit.MILLISECONDS.toNanos(l.authFailureWindowMs());
    entries.entrySet().removeIf(en -> en.getValue().expired(now, windowNanos));
  }

  private static InetAddress addressOf(SocketAddress from) {
    return from instanceof InetSocketAddress a ? a.getAddress() : null;
  }

  /** Failures of one address in the current window, and the end of its block. */
  private static final class Entry {
    private int failures;
    private long windowStart;
    private long blockedUntil;
    private boolean blocked;

    synchronized void failed(long now, int max, long windowNanos, long blockNanos) {
      if (failures == 0 || now - windowStart >= windowNanos) {
        failures = 0;
        windowStart = now;
      }
      failures++;
      if (failures >= max) {
        failures = 0;
        blocked = true;
        blockedUntil = now + blockNanos;
      }
    }

    synchronized long blockedFor(long now) {
      if (!blocked) {
        return 0;
      }
      long left = blockedUntil - now;
      if (left <= 0) {
        blocked = false;
      }
      return left;
    }

    synchronized boolean expired(long now, long windowNanos) {
      boolean blockOver = !blocked || blockedUntil - now <= 0;
      boolean windowOver = failures == 0 || now - windowStart >= windowNanos;
      return blockOver && windowOver;
    }
  }
}
