package io.mproxy.protocol.mongo;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mproxy.core.balance.Backend;
import io.mproxy.core.config.BackendConfig;
import io.mproxy.core.config.HostPort;
import io.mproxy.core.time.ManualClock;
import org.junit.jupiter.api.Test;

class RoutingDirectoryTest {

  private static final ManualClock CLOCK = new ManualClock();
  private static final Backend A = new Backend(new BackendConfig(new HostPort("127.0.0.1", 1), BackendConfig.Role.PRIMARY), CLOCK);
  private static final Backend B = new Backend(new BackendConfig(new HostPort("127.0.0.1", 2), BackendConfig.Role.PRIMARY), CLOCK);

  @Test
  void cursorsMapToTheirOwnerUntilClosed() {
    RoutingDirectory d = new RoutingDirectory();
    d.cursorOpened(11, A);
    d.cursorOpened(22, B);
    d.cursorOpened(0, A);
    assertSame(A, d.cursorOwner(11));
    assertSame(B, d.cursorOwner(22));
    assertNull(d.cursorOwner(0), "cursor id 0 means exhausted and is never stored");
    d.cursorClosed(11);
    assertNull(d.cursorOwner(11));
    assertEquals(1, d.openCursors());
  }

  @Test
  void mapsAreBoundedLeastRecentlyUsedFirst() {
    RoutingDirectory d = new RoutingDirectory(3, 2);
    d.cursorOpened(1, A);
    d.cursorOpened(2, A);
    d.cursorOpened(3, A);
    d.cursorOwner(1);
    d.cursorOpened(4, B);
    assertEquals(3, d.openCursors());
    assertNull(d.cursorOwner(2), "the least recently used cursor went first");
    assertSame(A, d.cursorOwner(1));
    d.transactionStarted("s1", A);
    d.transactionStarted("s2", B);
    d.transactionStarted("s3", B);
    assertNull(d.transactionOwner("s1"));
    assertSame(B, d.transactionOwner("s3"));
  }

  @Test
  void anOrphanIsReleasedOnlyToTheConnectionThatUsedItLast() {
    RoutingDirectory d = new RoutingDirectory();
    d.cursorOpened(7, A, 1);
    d.cursorOpened(8, A, 1);
    d.cursorOpened(9, B, 1);
    assertTrue(d.cursorUsedBy(8, A, 2), "connection 2 continued cursor 8");
    assertFalse(d.cursorUsedBy(9, A, 2), "cursor 9 lives on B, not A");
    assertSame(A, d.releaseOrphan(7, 1));
    assertNull(d.cursorOwner(7), "a released orphan is forgotten");
    assertNull(d.releaseOrphan(8, 1), "connection 1 no longer owns cursor 8");
    assertSame(A, d.cursorOwner(8));
    assertSame(A, d.releaseOrphan(8, 2));
    d.cursorClosed(9);
    assertNull(d.releaseOrphan(9, 1), "a closed cursor is nobody's orphan");
    assertEquals(0, d.openCursors());
  }
}
