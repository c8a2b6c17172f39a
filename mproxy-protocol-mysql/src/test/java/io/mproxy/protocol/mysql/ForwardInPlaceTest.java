package io.mproxy.protocol.mysql;

import io.mproxy.core.testing.LoopbackListener;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mproxy.core.config.Priority;
import io.mproxy.core.config.ResourceGroupConfig;
import io.mproxy.core.request.Outcome;
import io.mproxy.testkit.MariaDbServer;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The forward path of commands read in place, on real sockets in front of a real MariaDB. A
 * command that runs at once is admitted and written to the backend straight from the client's
 * read buffer; one that has to wait (for the only pooled connection, in a resource group's
 * queue, or behind a command of its own client read in the same buffer) must be kept before the
 * buffer is given back, and written once. Not kept, the waiting command is read from a buffer
 * that is no longer its own and is never answered (the read times out); written twice, the table
 * gets a row too many. Each test counts the rows its INSERTs made at the server.
 */
class ForwardInPlaceTest {

  private static MariaDbServer db;

  @BeforeAll
  static void startMariaDb() {
    db = MariaDbServer.start();
    db.sql("CREATE TABLE app.t (tag VARCHAR(32) NOT NULL, n INT NOT NULL);"
        + " CREATE TABLE app.one (id INT PRIMARY KEY, v VARCHAR(16)); INSERT INTO app.one VALUES (1, 'one')");
  }

  @AfterAll
  static void stopMariaDb() {
    if (db != null) {
      db.close();
    }
  }

  private static int rows(String tag) {
    return Integer.parseInt(db.sql("SELECT COUNT(*) FROM app.t WHERE tag = '" + tag + "'").trim());
  }

  private static WireClient client(LoopbackListener proxy) throws Exception {
    return new WireClient(proxy.port()).login(MiniMysqlProxy.USER, MiniMysqlProxy.PASSWORD);
  }

  @Test
  void aCommandWaitingForTheOnlyPooledConnectionIsKeptAndWrittenOnce() throws Exception {
    try (LoopbackListener proxy = MiniMysqlProxy.start(db, 1, 1);
        WireClient holder = client(proxy);
        WireClient waiter = client(proxy)) {
      holder.writePackets(WireClient.query("BEGIN"));
      holder.readOk("BEGIN");
      holder.writePackets(WireClient.query("INSERT INTO t VALUES ('lease', 1)"));
      holder.readOk("the holder's insert");
      // the open transaction keeps the only connection: the waiter's insert waits for it
      waiter.writePackets(WireClient.query("INSERT INTO t VALUES ('lease', 2)"));
      long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
      while (proxy.waitingForConnection() == 0 && System.nanoTime() < until) {
        Thread.sleep(5);
      }
      assertEquals(1, proxy.waitingForConnection(), "the waiter's insert waits for the pooled connection");
      holder.writePackets(WireClient.query("COMMIT"));
      holder.readOk("COMMIT");
      waiter.readOk("the waiter's insert, run once the connection was free");
      waiter.writePackets(WireClient.query("SELECT n FROM t WHERE tag = 'lease' ORDER BY n"));
      List<byte[]> ns = waiter.readResultSet("the rows through the proxy");
      assertEquals(2, ns.size());
      assertEquals(2, rows("lease"), "each insert ran exactly once");
    }
  }

  @Test
  void commandsQueuedByAdmissionAreKeptAndWrittenOnce() throws Exception {
    // an INSERT is charged 6 RU at admission: after the first, each waits about 100 ms in the queue
    ResourceGroupConfig slow = new ResourceGroupConfig(ResourceGroupConfig.DEFAULT_GROUP, 60, 6, Priority.NORMAL,
        ResourceGroupConfig.OnExhausted.QUEUE, 30_000, 100, 6);
    int inserts = 5;
    try (LoopbackListener proxy = MiniMysqlProxy.start(db, 1, 2, slow);
        WireClient c = client(proxy)) {
      for (int i = 0; i < inserts; i++) {
        c.writePackets(WireClient.query("INSERT INTO t VALUES ('queue', " + i + ")"));
        c.readOk("insert " + i);
      }
      assertTrue(proxy.queueWaits() >= inserts - 2, proxy.queueWaits() + " of " + inserts + " inserts waited in the queue");
      assertEquals(inserts, rows("queue"), "each insert ran exactly once");
      assertEquals(inserts, proxy.completed(Outcome.OK));
    }
  }

  @ParameterizedTest(name = "{0} event loop(s)")
  @ValueSource(ints = {1, 2})
  void commandsReadInOneBufferAreKeptAndWrittenOnceInOrder(int loops) throws Exception {
    String tag = "pipe" + loops;
    try (LoopbackListener proxy = MiniMysqlProxy.start(db, loops, 1);
        WireClient c = client(proxy)) {
      long select = c.prepare("SELECT v FROM one WHERE id = 1");
      for (int round = 0; round < 20; round++) {
        c.writePackets(
            WireClient.query("INSERT INTO t VALUES ('" + tag + "', " + (3 * round) + ")"),
            WireClient.execute(select),
            WireClient.query("INSERT INTO t VALUES ('" + tag + "', " + (3 * round + 1) + ")"),
            WireClient.query("SELECT COUNT(*) FROM t WHERE tag = '" + tag + "'"),
            WireClient.query("INSERT INTO t VALUES ('" + tag + "', " + (3 * round + 2) + ")"));
        c.readOk("round " + round + ", first insert");
        List<byte[]> one = c.readResultSet("round " + round + ", execute");
        assertEquals(1, one.size());
        assertTrue(new String(one.get(0), StandardCharsets.UTF_8).endsWith("one"), "the execute's row");
        c.readOk("round " + round + ", second insert");
        List<byte[]> count = c.readResultSet("round " + round + ", count");
        assertEquals(String.valueOf(3 * round + 2), new String(count.get(0), 1, count.get(0).length - 1,
            StandardCharsets.UTF_8), "the rows the count saw in round " + round);
        c.readOk("round " + round + ", third insert");
      }
      assertEquals(60, rows(tag), "each insert ran exactly once");
    }
  }

  /**
   * A command and its answer each take one clock reading for everything the MySQL module times
   * (the command's arrival, admission, dispatch; the answer's completion, the session's
   * activity), because each read of the client's and of the backend's socket is one
   * {@code ReadBatch}: two per execute. Core's pool reads the clock itself when it leases and
   * takes back the connection (two more under transaction pooling), so four in all; reading the
   * clock per step took eight per execute before.
   */
  @Test
  void aPreparedPointSelectTakesOneClockReadingPerRead() throws Exception {
    int executes = 300;
    try (LoopbackListener proxy = MiniMysqlProxy.start(db, 1, 1);
        WireClient c = client(proxy)) {
      long id = c.prepare("SELECT v FROM one WHERE id = 1");
      for (int i = 0; i < 20; i++) {
        c.writePackets(WireClient.execute(id));
        c.readResultSet("warm-up execute " + i);
      }
      long before = proxy.clockReadings();
      for (int i = 0; i < executes; i++) {
        c.writePackets(WireClient.execute(id));
        assertEquals(1, c.readResultSet("execute " + i).size());
      }
      double perExecute = (double) (proxy.clockReadings() - before) / executes;
      assertTrue(perExecute <= 4.05, perExecute + " clock readings per execute");
    }
  }
}
