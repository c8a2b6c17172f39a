package io.mproxy.server.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mproxy.testkit.ExternalCommand;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A native transport that cannot load stops the daemon at start with Netty's own cause, and
 * {@code check} reports it the same way; only {@code auto} falls back. The JVM is a real child
 * started with {@code -Dio.netty.transport.noNative=true}, Netty's switch that makes every native
 * transport unavailable, so this exercises the real availability probe, not an injected one.
 */
class TransportUnavailableAtStartTest {

  private static final Duration TIMEOUT = Duration.ofSeconds(60);
  private static final String REST = """
      admin: { bind: 127.0.0.1:0 }
      listeners:
        - { name: cache, protocol: redis, bind: 127.0.0.1:0, cluster: main }
      clusters:
        main:
          protocol: redis
          backends: [ { address: 127.0.0.1:1 } ]
      """;

  @TempDir
  Path dir;

  private ExternalCommand.Result mproxyWithoutNative(String transport, String... command) throws Exception {
    Path file = dir.resolve(transport + ".yaml");
    Files.writeString(file, "server: { watch_config: false, transport: " + transport + " }\n" + REST,
        StandardCharsets.UTF_8);
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    List<String> line = new java.util.ArrayList<>(List.of(java, "-Xmx128m", "-XX:TieredStopAtLevel=1",
        "-Dio.netty.transport.noNative=true", "-cp", System.getProperty("java.class.path"), "io.mproxy.server.Main"));
    line.addAll(List.of(command));
    line.addAll(List.of("--config", file.toString()));
    return ExternalCommand.run(line, TIMEOUT);
  }

  @Test
  void runRefusesToStartOnAnUnavailableIoUringNamingNettysCause() throws Exception {
    ExternalCommand.Result r = mproxyWithoutNative("io_uring", "run");
    assertEquals(1, r.exitCode(), r::describe);
    assertTrue(r.stderr().contains("transport: transport io_uring is not available in this process"), r::describe);
    assertTrue(r.stderr().contains("Native transport was explicit disabled"), r::describe);
    assertFalse(r.stdout().contains("listener cache"), "no listener was bound: " + r.describe());
  }

  @Test
  void checkReportsAnUnavailableEpollAtItsLine() throws Exception {
    ExternalCommand.Result r = mproxyWithoutNative("epoll", "check");
    assertEquals(1, r.exitCode(), r::describe);
    assertTrue(r.stderr().contains("epoll.yaml:1:"), r::describe);
    assertTrue(r.stderr().contains("transport epoll is not available in this process"), r::describe);
  }

  @Test
  void checkAcceptsAutoAndNioWithoutNativeTransports() throws Exception {
    assertEquals(0, mproxyWithoutNative("auto", "check").exitCode());
    assertEquals(0, mproxyWithoutNative("nio", "check").exitCode());
  }
}
