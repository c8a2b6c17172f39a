package io.mproxy.protocol.cassandra;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mproxy.core.config.AuthConfig;
import io.mproxy.core.config.BackendConfig;
import io.mproxy.core.config.BalancerConfig;
import io.mproxy.core.config.ClusterConfig;
import io.mproxy.core.config.Credentials;
import io.mproxy.core.config.HealthConfig;
import io.mproxy.core.config.HostPort;
import io.mproxy.core.config.ListenerConfig;
import io.mproxy.core.config.PoolConfig;
import io.mproxy.core.config.RuWeights;
import io.mproxy.testkit.TestCertificates;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The Cassandra {@code tls} options as configuration checks see them: a listener's cert and key
 * must build a working server context, a cluster's mode must be one TLS from the first byte can
 * honour ({@code prefer} is refused) and {@code verify-full} needs a CA.
 */
class CassandraTlsOptionsTest {

  private static TestCertificates first;
  private static TestCertificates second;
  private final CassandraProtocolAdapter adapter = new CassandraProtocolAdapter();

  @BeforeAll
  static void certificates() {
    first = TestCertificates.create();
    second = TestCertificates.create();
  }

  @AfterAll
  static void delete() {
    try (TestCertificates a = first; TestCertificates b = second) {
      // files deleted
    }
  }

  private static ListenerConfig listener(Map<String, Object> options) {
    return new ListenerConfig("cql", "cassandra", new HostPort("127.0.0.1", 0), "c", AuthConfig.PASSTHROUGH, 100,
        64 * 1024, options);
  }

  private static ClusterConfig cluster(Map<String, Object> options) {
    return new ClusterConfig("c", "cassandra", Credentials.NONE,
        List.of(new BackendConfig(new HostPort("127.0.0.1", 9042), BackendConfig.Role.PRIMARY)),
        BalancerConfig.DEFAULT, PoolConfig.DEFAULT, RuWeights.DEFAULT, HealthConfig.DEFAULT, options);
  }

  @Test
  void listenerWithCertAndKeyIsAcceptedAndServesTls() {
    ListenerConfig l = listener(Map.of("tls", Map.of("cert", first.certificate().toString(),
        "key", first.privateKey().toString())));
    assertEquals(List.of(), adapter.validate(l));
    assertNotNull(adapter.serverTls(l), "a TLS listener");
    assertTrue(adapter.listenerOptionKeys().contains("tls"));
  }

  @Test
  void listenerWithoutTlsIsPlain() {
    ListenerConfig l = listener(Map.of());
    assertEquals(List.of(), adapter.validate(l));
    assertNull(adapter.serverTls(l));
  }

  @Test
  void listenerWithoutKeyIsRefused() {
    List<String> problems = adapter.validate(listener(Map.of("tls", Map.of("cert", first.certificate().toString()))));
    assertTrue(problems.stream().anyMatch(p -> p.startsWith("tls.key")), problems.toString());
  }

  @Test
  void listenerWithTheKeyOfAnotherCertificateIsRefused() {
    List<String> problems = adapter.validate(listener(Map.of("tls", Map.of("cert", first.certificate().toString(),
        "key", second.privateKey().toString()))));
    assertTrue(problems.stream().anyMatch(p -> p.startsWith("tls")), problems.toString());
  }

  @Test
  void listenerProblemsOfBothOptionsAreReported() {
    List<String> problems = adapter.validate(listener(Map.of("compression", "snappy", "tls", "yes")));
    assertEquals(2, problems.size(), problems.toString());
  }

  @Test
  void clusterRequireAndVerifyFullWithCaAreAccepted() {
    assertTrue(adapter.clusterOptionKeys().contains("tls"));
    assertEquals(List.of(), adapter.validate(cluster(Map.of("tls", Map.of("mode", "require")))));
    assertEquals(List.of(), adapter.validate(cluster(Map.of("tls",
        Map.of("mode", "verify-full", "ca", first.certificate().toString())))));
    assertEquals(List.of(), adapter.validate(cluster(Map.of("tls", Map.of("mode", "disable")))));
  }

  @Test
  void clusterPreferIsRefused() {
    List<String> problems = adapter.validate(cluster(Map.of("tls", Map.of("mode", "prefer"))));
    assertEquals(1, problems.size(), problems.toString());
    assertTrue(problems.get(0).contains("prefer"), problems.toString());
  }

  @Test
  void clusterVerifyFullWithoutCaIsRefused() {
    List<String> problems = adapter.validate(cluster(Map.of("tls", Map.of("mode", "verify-full"))));
    assertTrue(problems.stream().anyMatch(p -> p.startsWith("tls.ca")), problems.toString());
  }
}
