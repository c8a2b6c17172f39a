package io.mproxy.server.it.faults;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lettuce.core.RedisCommandExecutionException;
import io.lettuce.core.resource.ClientResources;
import io.lettuce.core.resource.DefaultClientResources;
import io.mproxy.testkit.RedisServer;
import io.mproxy.testkit.Signals;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;

/**
 * {@link ProtocolFaultsContract} for Redis: real {@code redis-server}s, Lettuce as the client;
 * the slow request is {@code BLPOP} on an empty list.
 */
class RedisFaultsTest extends FrozenBackendContract {

  private RedisServer victim;
  private RedisServer other;
  private ClientResources resources;

  @Override
  String protocol() {
    return "redis";
  }

  @Override
  void startBackends() {
    victim = RedisServer.start();
    other = RedisServer.start();
    resources = DefaultClientResources.builder().ioThreadPoolSize(2).computationThreadPoolSize(1).build();
  }

  @Override
  void stopBackends() throws Exception {
    try (RedisServer v = victim; RedisServer o = other) {
      resources.shutdown(0, 5, TimeUnit.SECONDS).get(10, TimeUnit.SECONDS);
    }
  }

  @Override
  String victimAddress() {
    return victim.address();
  }

  @Override
  String otherAddress() {
    return other.address();
  }

  @Override
  void killVictim() {
    victim.stop();
  }

  @Override
  void restartVictim() {
    victim.restart();
  }

  @Override
  String listenerYaml(String name, String cluster) {
    return "  - { name: " + name + ", protocol: redis, bind: 127.0.0.1:0, cluster: " + cluster + " }\n";
  }

  @Override
  String clusterYaml(String address) {
    return "    protocol: redis\n"
        + "    backends: [ { address: " + address + ", role: primary } ]\n";
  }

  @Override
  String deadlineListenerYaml(String name, String cluster, long queryTimeoutMs) {
    return "  - { name: " + name + ", protocol: redis, bind: 127.0.0.1:0, cluster: " + cluster
        + ", query_timeout_ms: " + queryTimeoutMs + " }\n";
  }

  @Override
  void freezeVictim() {
    Signals.stop(victim.pid());
  }

  @Override
  void thawVictim() {
    Signals.resume(victim.pid());
  }

  @Override
  void assertTimeoutError(Throwable error, String setting, String when) {
    RedisCommandExecutionException e = assertInstanceOf(RedisCommandExecutionException.class, error,
        when + ": " + error);
    System.out.println("[faults] redis " + when + ": " + oneLine(e));
    assertTrue(e.getMessage().startsWith("mproxy: timeout group=default " + setting), when + ": " + e.getMessage());
  }

  @Override
  FaultClient connect(int port) {
    return LettuceFaultClient.open(resources, port);
  }

  /**
   * On a pipelined connection a late reply cannot be told apart from the next command's: a
   * command the proxy answered with its timeout stays queued on its backend connection, and its
   * late reply is dropped when it comes. Pipelined: a script that keeps the backend busy three
   * times {@code query_timeout_ms} (returning {@code late}) and a {@code GET}; both are answered
   * with the timeout error in order, and the GETs after them answer the key's value, never the
   * script's late {@code late}.
   */
  @Test
  @Order(5)
  void aTimedOutCommandsLateReplyIsNeverTakenForTheNextOnesOnAPipeline() throws Exception {
    victim.cli("SET", "faults:pipe", "value");
    try (Socket s = new Socket("127.0.0.1", port(DEADLINE))) {
      s.setSoTimeout((int) PROMPT.toMillis());
      OutputStream out = s.getOutputStream();
      BufferedInputStream in = new BufferedInputStream(s.getInputStream());
      String busy = "local t0 = redis.call('TIME') local start = t0[1] * 1000000 + t0[2]"
          + " repeat local t = redis.call('TIME') until t[1] * 1000000 + t[2] - start > "
          + (3 * QUERY_TIMEOUT_MS * 1000) + " return 'late'";
      out.write((resp("EVAL", busy, "0") + resp("GET", "faults:pipe")).getBytes(StandardCharsets.UTF_8));
      out.flush();
      String first = readReply(in);
      String second = readReply(in);
      String setting = "query_timeout_ms=" + QUERY_TIMEOUT_MS;
      assertTrue(first.startsWith("-mproxy: timeout group=default " + setting), "the script: " + first);
      assertTrue(second.startsWith("-mproxy: timeout group=default " + setting), "the GET behind it: " + second);
      // GETs behind the script time out too until it ends (or meet a backend the health check
      // marked down meanwhile): each is answered, and the first real answer is the key's value
      String answer = null;
      java.util.List<String> before = new java.util.ArrayList<>();
      for (int i = 0; i < 100 && answer == null; i++) {
        out.write(resp("GET", "faults:pipe").getBytes(StandardCharsets.UTF_8));
        out.flush();
        String r = readReply(in);
        if (r.startsWith("-mproxy: ")) {
          before.add(r);
          Thread.sleep(50);
        } else {
          answer = r;
        }
      }
      assertEquals("$value", answer, "the first GET answered after the busy script is the key's value,"
          + " not the script's late reply; errors before it: " + before);
      out.write(resp("GET", "faults:pipe").getBytes(StandardCharsets.UTF_8));
      out.flush();
      assertEquals("$value", readReply(in), "and so is the next");
      System.out.printf("[faults] redis pipeline: script and GET timed out in order (%s), then GET -> %s%n",
          first, answer);
    }
  }

  private static String resp(String... args) {
    StringBuilder b = new StringBuilder("*").append(args.length).append("\r\n");
    for (String a : args) {
      b.append('$').append(a.getBytes(StandardCharsets.UTF_8).length).append("\r\n").append(a).append("\r\n");
    }
    return b.toString();
  }

  /** One RESP2 reply as text: {@code +s}, {@code -err}, {@code :n}, {@code $bulk} or {@code $nil}. */
  private static String readReply(BufferedInputStream in) throws IOException {
    String line = readLine(in);
    if (line.startsWith("$")) {
      int n = Integer.parseInt(line.substring(1));
      if (n < 0) {
        return "$nil";
      }
      byte[] data = in.readNBytes(n + 2);
      return "$" + new String(data, 0, n, StandardCharsets.UTF_8);
    }
    return line;
  }

  private static String readLine(BufferedInputStream in) throws IOException {
    StringBuilder b = new StringBuilder();
    int c;
    while ((c = in.read()) != '\n') {
      if (c < 0) {
        throw new IOException("connection closed after " + b);
      }
      if (c != '\r') {
        b.append((char) c);
      }
    }
    return b.toString();
  }

  @Override
  void assertProtocolError(Throwable error, String when) {
    RedisCommandExecutionException e = assertInstanceOf(RedisCommandExecutionException.class, error,
        when + ": " + error);
    System.out.println("[faults] redis " + when + ": " + oneLine(e));
    assertTrue(e.getMessage().contains("mproxy:"), when + ": " + e.getMessage());
  }
}
