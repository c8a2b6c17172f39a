package io.mproxy.protocol.redis;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mproxy.core.fingerprint.FingerprintStats;
import io.mproxy.core.testing.LoopbackListener;
import io.mproxy.testkit.Eventually;
import io.mproxy.testkit.RedisServer;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * What the admin API's top shapes read (the gateway's fingerprint store) after commands sent
 * through the proxy to a real redis-server: one-key commands whose keys differ only in their
 * digits (the memo's hits, compared in the read buffer), keys that differ from the remembered one
 * by a letter in the last bytes, binary keys, and commands written a few bytes at a time so that keys
 * straddle the proxy's reads. Every shape must be the one the rules give, counted once per
 * command.
 */
class FingerprintThroughProxyTest {

  private static RedisServer redis;

  @BeforeAll
  static void start() {
    redis = RedisServer.start();
  }

  @AfterAll
  static void stop() {
    if (redis != null) {
      redis.close();
    }
  }

  @Test
  void topShapesCountEveryCommandUnderItsShapeWhereverItsKeyLay() throws Exception {
    Map<String, Integer> expected = new LinkedHashMap<>();
    ByteArrayOutputStream whole = new ByteArrayOutputStream();
    ByteArrayOutputStream split = new ByteArrayOutputStream();
    int sent = 0;
    for (int i = 0; i < 40; i++) {
      ByteArrayOutputStream to = i % 2 == 0 ? whole : split;
      to.writeBytes(command("GET", ascii(String.format("key:%012d", i * 7919))));
      to.writeBytes(command("SET", ascii("user:" + i + ":profile"), ascii("v")));
      to.writeBytes(command("GET", new byte[] {'b', ':', 0, (byte) 0xff, (byte) ('0' + i % 10), 'x'}));
      to.writeBytes(command("GET", ascii("session:" + "9f86d081884c7d65".substring(i % 8) + "abcdef01".substring(0, i % 8))));
      to.writeBytes(command("STRLEN", ascii("k" + "x".repeat(i) + i)));
      // nine bytes: the memo's last word is partial; a letter where the remembered key had a digit
      to.writeBytes(command("GET", ascii(String.format("u:%07d", i * 31))));
      to.writeBytes(command("GET", ascii(String.format("u:%06dq", i))));
      sent += 7;
    }
    expected.put("GET key:?", 40);
    expected.put("SET user:?:profile", 40);
    expected.put("GET b:??x", 40);
    expected.put("GET session:?", 40);
    expected.put("GET u:?", 40);
    expected.put("GET u:?q", 40);
    for (int i = 0; i < 40; i++) {
      expected.merge("STRLEN k" + "x".repeat(i) + "?", 1, Integer::sum);
    }

    try (LoopbackListener proxy = MiniProxy.start(redis.host(), redis.port(), 1, 1);
        RespSocket s = new RespSocket("127.0.0.1", proxy.port())) {
      s.sendRaw(whole.toByteArray(), Integer.MAX_VALUE);
      // five bytes per write: keys straddle the proxy's reads (a cumulated buffer)
      s.sendRaw(split.toByteArray(), 5);
      for (int i = 0; i < sent; i++) {
        String reply = s.read();
        assertTrue(!reply.startsWith("-"), "reply " + i + ": " + reply);
      }
      Eventually.assertWithin(Duration.ofSeconds(20), () -> {
        Map<String, Long> counted = new TreeMap<>();
        List<FingerprintStats> top = proxy.gateway().fingerprints().top(1_000);
        for (FingerprintStats f : top) {
          counted.put(f.fingerprint(), f.count());
        }
        Map<String, Long> want = new TreeMap<>();
        expected.forEach((k, v) -> want.put(k, (long) v));
        assertEquals(want, counted);
      });
    }
  }

  private static byte[] ascii(String s) {
    return s.getBytes(StandardCharsets.US_ASCII);
  }

  private static byte[] command(Object... words) {
    ByteArrayOutputStream buf = new ByteArrayOutputStream();
    buf.writeBytes(("*" + words.length + "\r\n").getBytes(StandardCharsets.US_ASCII));
    for (Object w : words) {
      byte[] b = w instanceof byte[] bytes ? bytes : ((String) w).getBytes(StandardCharsets.US_ASCII);
      buf.writeBytes(("$" + b.length + "\r\n").getBytes(StandardCharsets.US_ASCII));
      buf.writeBytes(b);
      buf.writeBytes("\r\n".getBytes(StandardCharsets.US_ASCII));
    }
    return buf.toByteArray();
  }
}
