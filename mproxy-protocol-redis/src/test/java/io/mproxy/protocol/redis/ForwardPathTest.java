package io.mproxy.protocol.redis;

import io.mproxy.core.testing.LoopbackListener;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mproxy.core.request.Outcome;
import io.mproxy.testkit.RedisServer;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The forward path end to end, on real sockets in front of a real redis-server, with a pool of
 * one backend connection that every client shares. On one event loop each reply is copied from
 * the backend connection's read buffer straight into its client's outgoing buffer; on two, some
 * replies are handed across loops as retained slices. Either way every client must get exactly
 * the bytes the server sent for its own commands, in order, and error replies must count as
 * errors.
 */
class ForwardPathTest {

  private static final String NOT_AN_INTEGER = "-ERR value is not an integer or out of range\r\n";
  private static RedisServer redis;

  @BeforeAll
  static void startRedis() {
    redis = RedisServer.start();
    assertEquals("OK", redis.cli("SET", "fp:text", "not a number"));
  }

  @AfterAll
  static void stopRedis() {
    if (redis != null) {
      redis.close();
    }
  }

  @ParameterizedTest(name = "{0} event loop(s)")
  @ValueSource(ints = {1, 2})
  void twoClientsPipeliningOverOneSharedBackendConnectionGetTheirOwnRepliesInOrder(int loops)
      throws Exception {
    int clients = 2;
    int commands = 600;
    try (LoopbackListener proxy = MiniProxy.start(redis.host(), redis.port(), loops, 1)) {
      ExecutorService threads = Executors.newFixedThreadPool(clients);
      try {
        CountDownLatch go = new CountDownLatch(1);
        List<Future<Integer>> results = new ArrayList<>();
        for (int c = 0; c < clients; c++) {
          int client = c;
          results.add(threads.submit(() -> pipeline(proxy.port(), loops + ":" + client, commands, go)));
        }
        go.countDown();
        int errors = 0;
        for (Future<Integer> r : results) {
          errors += r.get(60, TimeUnit.SECONDS);
        }
        assertEquals(errors, proxy.completed(Outcome.ERROR), "error replies counted as errors");
        assertEquals((long) clients * commands - errors, proxy.completed(Outcome.OK));
      } finally {
        threads.shutdownNow();
      }
      long proxyConnections = redis.cli("CLIENT", "LIST").lines().count() - 1;
      assertEquals(1, proxyConnections, "the two clients shared one backend connection");
    }
  }

  /**
   * Sends {@code n} commands (SET, GET of what was set, and every seventh an INCR that the server
   * refuses) as one pipeline, then checks every reply; returns how many were errors.
   */
  private static int pipeline(int port, String tag, int n, CountDownLatch go) throws Exception {
    try (RespSocket s = new RespSocket("127.0.0.1", port)) {
      List<String[]> cmds = new ArrayList<>();
      List<String> expected = new ArrayList<>();
      int errors = 0;
      for (int i = 0; i < n; i++) {
        String key = "fp:" + tag + ":" + (i / 2);
        String value = "v-" + tag + "-" + i + "-" + "x".repeat(i % 40);
        if (i % 7 == 6) {
          cmds.add(new String[] {"INCR", "fp:text"});
          expected.add(NOT_AN_INTEGER);
          errors++;
        } else if (i % 2 == 0) {
          cmds.add(new String[] {"SET", key, value});
          expected.add("+OK\r\n");
        } else {
          String set = "v-" + tag + "-" + (i - 1) + "-" + "x".repeat((i - 1) % 40);
          boolean wasSet = (i - 1) % 7 != 6;
          cmds.add(new String[] {"GET", key});
          expected.add(wasSet ? bulk(set) : "$-1\r\n");
        }
      }
      go.await(10, TimeUnit.SECONDS);
      s.send(cmds.toArray(String[][]::new));
      for (int i = 0; i < n; i++) {
        assertEquals(expected.get(i), s.read(), "reply " + i + " of client " + tag);
      }
      return errors;
    }
  }

  @ParameterizedTest(name = "{0} event loop(s)")
  @ValueSource(ints = {1, 2})
  void aReplyLargerThanTheReadBufferKeepsItsPlaceInAPipeline(int loops) throws Exception {
    String big = "0123456789abcdef".repeat(3 * 1024 * 1024 / 16 + 7);
    try (LoopbackListener proxy = MiniProxy.start(redis.host(), redis.port(), loops, 1);
        RespSocket s = new RespSocket("127.0.0.1", proxy.port())) {
      s.send(new String[] {"SET", "fp:big", big}, new String[] {"SET", "fp:small", "s"});
      assertEquals("+OK\r\n", s.read());
      assertEquals("+OK\r\n", s.read());
      s.send(new String[] {"PING"}, new String[] {"GET", "fp:big"}, new String[] {"GET", "fp:small"},
          new String[] {"INCR", "fp:text"}, new String[] {"GET", "fp:big"}, new String[] {"PING"});
      assertEquals("+PONG\r\n", s.read());
      assertEquals(bulk(big), s.read());
      assertEquals(bulk("s"), s.read());
      assertEquals(NOT_AN_INTEGER, s.read());
      assertEquals(bulk(big), s.read());
      assertEquals("+PONG\r\n", s.read());
      assertEquals(1, proxy.completed(Outcome.ERROR));
    }
  }

  /**
   * An ordinary command seen before (routed by its description alone) must still follow the
   * session's state: no reply awaited under {@code CLIENT REPLY OFF} or for the one
   * {@code CLIENT REPLY SKIP} skips, and in subscribed mode its reply and the messages after it
   * are told apart. If GET, SET or PING took the ordinary path regardless, the replies would
   * shift by one or the message would be dropped as an unexpected reply.
   */
  @Test
  void ordinaryCommandsSeenBeforeStillFollowReplyModeAndSubscriptions() throws Exception {
    try (LoopbackListener proxy = MiniProxy.start(redis.host(), redis.port(), 1, 1);
        RespSocket s = new RespSocket("127.0.0.1", proxy.port())) {
      s.send(new String[] {"SET", "fp:mode", "m"}, new String[] {"GET", "fp:mode"}, new String[] {"PING"});
      assertEquals("+OK\r\n", s.read());
      assertEquals(bulk("m"), s.read());
      assertEquals("+PONG\r\n", s.read());
      s.send(new String[] {"CLIENT", "REPLY", "OFF"}, new String[] {"GET", "fp:mode"},
          new String[] {"SET", "fp:mode", "off"}, new String[] {"CLIENT", "REPLY", "ON"},
          new String[] {"GET", "fp:mode"}, new String[] {"ECHO", "after-off"});
      assertEquals("+OK\r\n", s.read());
      assertEquals(bulk("off"), s.read());
      assertEquals(bulk("after-off"), s.read());
      // every command answered or silenced: none still waits for a reply that was never sent
      assertEquals(9, proxy.completed(Outcome.OK));
      s.send(new String[] {"CLIENT", "REPLY", "SKIP"}, new String[] {"SET", "fp:mode", "skip"},
          new String[] {"GET", "fp:mode"}, new String[] {"ECHO", "after-skip"});
      assertEquals(bulk("skip"), s.read());
      assertEquals(bulk("after-skip"), s.read());
      assertEquals(13, proxy.completed(Outcome.OK));
      s.send(new String[] {"SUBSCRIBE", "fp:channel"}, new String[] {"PING"});
      assertEquals("*3\r\n$9\r\nsubscribe\r\n$10\r\nfp:channel\r\n:1\r\n", s.read());
      assertEquals("*2\r\n$4\r\npong\r\n$0\r\n\r\n", s.read());
      assertEquals("1", redis.cli("PUBLISH", "fp:channel", "hello"));
      assertEquals("*3\r\n$7\r\nmessage\r\n$10\r\nfp:channel\r\n$5\r\nhello\r\n", s.read());
      s.send(new String[] {"PING"});
      assertEquals("*2\r\n$4\r\npong\r\n$0\r\n\r\n", s.read());
      assertEquals("1", redis.cli("PUBLISH", "fp:channel", "again"));
      assertEquals("*3\r\n$7\r\nmessage\r\n$10\r\nfp:channel\r\n$5\r\nagain\r\n", s.read());
    }
  }

  /**
   * Pipelined commands that arrive in one read, and replies that arrive in one read, share one
   * clock reading (core ReadBatch) instead of taking one each for arrival, admission, dispatch
   * and completion. Reading the clock per step cost about four readings per command; with the
   * batch, 200 commands in one write are timed with a few dozen at most, however the kernel
   * splits the bytes.
   */
  @Test
  void commandsAndRepliesReadTogetherShareOneClockReading() throws Exception {
    int commands = 200;
    try (LoopbackListener proxy = MiniProxy.start(redis.host(), redis.port(), 1, 1);
        RespSocket s = new RespSocket("127.0.0.1", proxy.port())) {
      s.send(new String[] {"PING"});
      assertEquals("+PONG\r\n", s.read());
      String[][] batch = new String[commands][];
      for (int i = 0; i < commands; i++) {
        batch[i] = new String[] {"GET", "fp:text"};
      }
      long before = proxy.clockReadings();
      s.send(batch);
      for (int i = 0; i < commands; i++) {
        assertEquals(bulk("not a number"), s.read());
      }
      long readings = proxy.clockReadings() - before;
      assertTrue(readings < commands / 2, readings + " clock readings for " + commands + " pipelined commands");
      assertEquals(commands + 1, proxy.completed(Outcome.OK));
    }
  }

  /**
   * A backend that logs the proxy in, takes three pipelined GETs, sends half of the first reply
   * and closes: each of the three is answered with the proxy's error, none is dropped.
   */
  @Test
  void aBackendClosingMidReplyAnswersEveryOutstandingCommandWithAnError() throws Exception {
    try (ServerSocket backend = new ServerSocket(0, 10, InetAddress.getLoopbackAddress())) {
      CompletableFuture<Void> script = CompletableFuture.runAsync(() -> {
        try (Socket conn = backend.accept()) {
          conn.setSoTimeout(20_000);
          InputStream in = conn.getInputStream();
          OutputStream out = conn.getOutputStream();
          readUntil(in, "HELLO", 1);
          out.write("*2\r\n$7\r\nversion\r\n$5\r\n7.0.0\r\n".getBytes(StandardCharsets.US_ASCII));
          out.flush();
          readUntil(in, "GET", 3);
          out.write("$10\r\nhel".getBytes(StandardCharsets.US_ASCII));
          out.flush();
        } catch (IOException e) {
          throw new IllegalStateException("scripted backend: " + e, e);
        }
      });
      try (LoopbackListener proxy = MiniProxy.start("127.0.0.1", backend.getLocalPort(), 1, 1);
          RespSocket s = new RespSocket("127.0.0.1", proxy.port())) {
        s.send(new String[] {"GET", "a"}, new String[] {"GET", "b"}, new String[] {"GET", "c"});
        for (int i = 0; i < 3; i++) {
          String reply = s.read();
          assertTrue(reply.startsWith("-") && reply.contains("backend_unavailable"),
              "reply " + i + ": " + reply);
        }
        script.get(20, TimeUnit.SECONDS);
        assertEquals(3, proxy.completed(Outcome.ERROR));
        assertEquals(0, proxy.completed(Outcome.OK));
      }
    }
  }

  /** Reads from {@code in} until {@code word} has been seen {@code times} times. */
  private static void readUntil(InputStream in, String word, int times) throws IOException {
    ByteArrayOutputStream seen = new ByteArrayOutputStream();
    byte[] buf = new byte[1024];
    while (count(seen.toString(StandardCharsets.US_ASCII), word) < times) {
      int n = in.read(buf);
      if (n < 0) {
        throw new IOException("closed before " + times + "x " + word + ": " + seen);
      }
      seen.write(buf, 0, n);
    }
  }

  private static int count(String text, String word) {
    int n = 0;
    for (int i = text.indexOf(word); i >= 0; i = text.indexOf(word, i + 1)) {
      n++;
    }
    return n;
  }

  private static String bulk(String s) {
    return "$" + s.getBytes(StandardCharsets.UTF_8).length + "\r\n" + s + "\r\n";
  }
}
