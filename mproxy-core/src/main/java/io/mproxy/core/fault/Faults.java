package io.mproxy.core.fault;

import java.util.List;

/**
 * The catalogue of fault points. Each is checked where the fault would happen for real; the
 * simulation (mproxy-sim) arms them per seed. Adding a point: declare it here, check
 * {@code Faults.X.fires()} at the spot (one line), and list it in docs/simulation.md.
 */
public final class Faults {

  /** Gateway: a queued request's wake-up runs late (a busy or descheduled event loop). */
  public static final FaultPoint QUEUE_WAKE_LATE = new FaultPoint("admission.queue_wake_late",
      "a queued admission wakes up to 50 ms late");

  /** Gateway: one in-flight latency tick is skipped (the timer thread was late). */
  public static final FaultPoint RU_TICK_SKIPPED = new FaultPoint("admission.ru_tick_skipped",
      "a periodic in-flight RU tick does nothing; the next tick must catch up");

  /** Session: the settle of a finished request ({@code Ticket.complete}) is delayed. */
  public static final FaultPoint SETTLE_DELAYED = new FaultPoint("admission.settle_delayed",
      "the ticket of a finished request settles up to 100 ms after the reply");

  /** Pool: opening a backend connection fails although the backend is up. */
  public static final FaultPoint POOL_OPEN_FAILS = new FaultPoint("pool.open_fails",
      "a connection open fails as if refused");

  /** Gossip: a message between proxy nodes is dropped. */
  public static final FaultPoint GOSSIP_DROPPED = new FaultPoint("gossip.message_dropped",
      "a gossip message between proxy nodes is lost");

  /** Gossip: a message between proxy nodes arrives late. */
  public static final FaultPoint GOSSIP_DELAYED = new FaultPoint("gossip.message_delayed",
      "a gossip message arrives up to 2 s late");

  private static final List<FaultPoint> ALL = List.of(QUEUE_WAKE_LATE, RU_TICK_SKIPPED,
      SETTLE_DELAYED, POOL_OPEN_FAILS, GOSSIP_DROPPED, GOSSIP_DELAYED);

  private Faults() {
  }

  /** Every point, in a fixed order (the order a simulation arms them in). */
  public static List<FaultPoint> all() {
    return ALL;
  }

  /** The extra wake-up delay for a queued admission: 0 unless {@link #QUEUE_WAKE_LATE} fires. */
  public static long queueWakeDelayNanos() {
    return QUEUE_WAKE_LATE.fires() ? (long) (QUEUE_WAKE_LATE.draw() * 50_000_000L) : 0L;
  }
}
