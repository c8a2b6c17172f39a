package io.mproxy.server.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mproxy.testkit.RedisServer;
import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The stock {@code redis-cli} through the proxy: single commands, repeats, and {@code --pipe}. */
class RedisCliThroughProxyTest {

  private static RedisServer redis;
  private static ProxyFixture proxy;

  @BeforeAll
  static void startProxy() throws Exception {
    redis = RedisServer.start();
    proxy = ProxyFixture.start(ProxyConfigText.forBackend(redis.address()));
  }

  @AfterAll
  static void stopProxy() {
    try (RedisServer r = redis; ProxyFixture p = proxy) {
      // proxy first, then the backend
    }
  }

  @Test
  void pingSetGet() {
    assertEquals("PONG", cli("PING"));
    assertEquals("OK", cli("SET", "cli:k", "hello world"));
    assertEquals("hello world", cli("GET", "cli:k"));
    assertEquals("hello world", redis.cli("GET", "cli:k"), "the value reached the backend");
    assertEquals("", cli("GET", "cli:missing"));
  }

  @Test
  void repeatedCommandsOnOneConnection() {
    String out = cli("-r", "200", "INCR", "cli:counter");
    List<String> expected = IntStream.rangeClosed(1, 200).mapToObj(Integer::toString).toList();
    assertEquals(expected, out.lines().toList());
  }

  @Test
  void pipeModeMassInsert(@TempDir Path dir) throws Exception {
    int n = 5_000;
    StringBuilder commands = new StringBuilder();
    for (int i = 0; i < n; i++) {
      commands.append(new String(RespConnection.encode("SET", "cli:pipe:" + i, "value-" + i), StandardCharsets.UTF_8));
    }
    Path input = dir.resolve("commands.resp");
    Files.writeString(input, commands, StandardCharsets.UTF_8);
    String out = pipe(input, dir.resolve("out.txt"));
    assertTrue(out.contains("errors: 0, replies: " + n), "redis-cli --pipe summary: " + out);
    assertEquals("value-0", cli("GET", "cli:pipe:0"));
    assertEquals("value-" + (n - 1), cli("GET", "cli:pipe:" + (n - 1)));
    assertEquals(Integer.toString(n), redis.cli("EVAL", "return #redis.call('KEYS', 'cli:pipe:*')", "0"));
  }

  private static String cli(String... args) {
    return RedisServer.cliAt(ProxyFixture.HOST, proxy.port(), args);
  }

  /** {@code redis-cli --pipe < input} against the proxy, bounded to 30 s; returns its output. */
  private static String pipe(Path input, Path output) throws IOException, InterruptedException {
    String binary = RedisServer.findBinary("redis-cli").orElseThrow().toString();
    Process p = new ProcessBuilder(binary, "-h", ProxyFixture.HOST, "-p", Integer.toString(proxy.port()), "--pipe")
        .redirectInput(input.toFile())
        .redirectErrorStream(true)
        .redirectOutput(output.toFile())
        .start();
    if (!p.waitFor(30, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new AssertionError("redis-cli --pipe did not finish within 30 s: " + read(output.toFile()));
    }
    String out = read(output.toFile());
    assertEquals(0, p.exitValue(), "redis-cli --pipe exit code; output: " + out);
    return out;
  }

  private static String read(File f) throws IOException {
    return Files.readAllLines(f.toPath(), StandardCharsets.UTF_8).stream().collect(Collectors.joining("\n"));
  }
}
