package io.mproxy.server.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mproxy.server.Transport;
import java.util.List;
import java.util.Optional;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

/**
 * {@code server.transport}: every documented value binds as written, anything else is refused
 * with the accepted list, and a named transport that cannot run is refused with Netty's cause
 * (availability injected here; {@code TransportUnavailableAtStartTest} disables the real one).
 */
class TransportConfigTest {

  private static final String REST = """
      listeners:
        - { name: cache, protocol: redis, bind: 127.0.0.1:0, cluster: main }
      clusters:
        main:
          protocol: redis
          backends: [ { address: 127.0.0.1:6379 } ]
      """;

  private static final Function<Transport, Optional<Throwable>> ALL_AVAILABLE = t -> Optional.empty();

  private static LoadResult load(String server, Function<Transport, Optional<Throwable>> availability) {
    ConfigLoader loader = new ConfigLoader(List.of(TestAdapter.redis()), availability);
    return loader.parse("t.yaml", (server == null ? "" : "server: " + server + "\n") + REST);
  }

  @Test
  void theDefaultIsAuto() {
    assertEquals("auto", load(null, ALL_AVAILABLE).config().server().transport());
    assertEquals("auto", load("{ io_threads: 2 }", ALL_AVAILABLE).config().server().transport());
  }

  @Test
  void everyDocumentedValueBindsAsWritten() {
    for (String value : List.of("auto", "epoll", "io_uring", "nio")) {
      LoadResult r = load("{ transport: " + value + " }", ALL_AVAILABLE);
      assertTrue(r.isValid(), () -> value + ": " + r.problems());
      assertEquals(value, r.config().server().transport());
    }
    assertEquals("io_uring", load("{ transport: IO_URING }", ALL_AVAILABLE).config().server().transport());
  }

  @Test
  void anUnknownValueIsRefusedWithTheAcceptedOnes() {
    LoadResult r = load("{ transport: kqueue }", ALL_AVAILABLE);
    assertFalse(r.isValid());
    assertEquals(1, r.problems().size(), r.problems()::toString);
    String problem = r.problems().get(0).toString();
    assertTrue(problem.startsWith("t.yaml:1:"), problem);
    assertTrue(problem.contains("transport: 'kqueue'") || problem.contains("transport: kqueue"), problem);
    assertTrue(problem.contains("auto, epoll, io_uring, nio"), problem);
  }

  @Test
  void anUnavailableTransportIsRefusedNamingTheCause() {
    Throwable cause = new UnsupportedOperationException("io_uring_setup: Operation not permitted");
    Function<Transport, Optional<Throwable>> noUring =
        t -> t == Transport.IO_URING ? Optional.of(cause) : Optional.empty();
    LoadResult r = load("{ transport: io_uring }", noUring);
    assertFalse(r.isValid());
    String problem = r.problems().get(0).toString();
    assertTrue(problem.contains("transport io_uring is not available"), problem);
    assertTrue(problem.contains("io_uring_setup: Operation not permitted"), problem);

    assertTrue(load("{ transport: epoll }", noUring).isValid(), "epoll is still there");
  }

  @Test
  void autoIsNeverRefusedEvenWithNoNativeTransport() {
    Function<Transport, Optional<Throwable>> javaOnly =
        t -> t == Transport.NIO ? Optional.empty() : Optional.of(new UnsatisfiedLinkError("no native library"));
    LoadResult auto = load("{ transport: auto }", javaOnly);
    assertTrue(auto.isValid(), auto.problems()::toString);
    assertFalse(load("{ transport: epoll }", javaOnly).isValid());
    assertTrue(load("{ transport: nio }", javaOnly).isValid());
  }
}
