package io.mproxy.server.it.mongo;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mproxy.core.config.BackendConfig;
import io.mproxy.core.config.ClusterConfig;
import io.mproxy.core.config.ListenerConfig;
import io.mproxy.core.config.ProxyConfig;
import io.mproxy.core.spi.ProtocolAdapter;
import io.mproxy.server.config.ConfigLoader;
import io.mproxy.server.config.LoadResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.ServiceLoader;
import org.junit.jupiter.api.Test;

/** config/mongo.yaml loads with the installed adapters, and bad Mongo options are reported. */
class MongoExampleConfigTest {

  private static List<ProtocolAdapter> adapters() {
    return ServiceLoader.load(ProtocolAdapter.class).stream().map(ServiceLoader.Provider::get).toList();
  }

  @Test
  void exampleConfigLoadsCleanly() {
    LoadResult result = new ConfigLoader(adapters()).load(repoFile("config/mongo.yaml"));
    assertEquals(List.of(), result.problems());
    ProxyConfig config = result.config();
    ListenerConfig listener = config.listeners().get(0);
    assertEquals("mongodb", listener.protocol());
    assertTrue(listener.auth().terminates());
    assertTrue(listener.auth().user("etl").orElseThrow().scramVerifier().startsWith("SCRAM-SHA-256$15000:"));
    ClusterConfig cluster = config.clusters().get(listener.cluster());
    assertEquals(List.of(BackendConfig.Role.PRIMARY, BackendConfig.Role.REPLICA),
        cluster.backends().stream().map(BackendConfig::role).toList());
    assertEquals("SCRAM-SHA-256", cluster.options().get("auth_mechanism"));
  }

  @Test
  void unknownMechanismIsAProblem() {
    String yaml = """
        admin: { bind: 127.0.0.1:0 }
        listeners:
          - { name: m, protocol: mongodb, bind: 127.0.0.1:0, cluster: c }
        clusters:
          c:
            protocol: mongodb
            auth_mechanism: MONGODB-CR
            backends: [ { address: 127.0.0.1:27017, role: primary } ]
        """;
    LoadResult result = new ConfigLoader(adapters()).parse("m.yaml", yaml);
    assertTrue(result.problems().stream().anyMatch(p -> p.toString()
        .contains("auth_mechanism: MONGODB-CR (expected: SCRAM-SHA-256 or SCRAM-SHA-1)")), result.problems().toString());
  }

  @Test
  void aMalformedScramVerifierIsAProblemThatDoesNotEchoTheSecret() {
    String yaml = """
        admin: { bind: 127.0.0.1:0 }
        listeners:
          - name: m
            protocol: mongodb
            bind: 127.0.0.1:0
            cluster: c
            auth:
              users:
                - { name: ok, scram_verifier: "SCRAM-SHA-1$10000:c2FsdHNhbHQ=$AAAAAAAAAAAAAAAAAAAAAAAAAAA=:AAAAAAAAAAAAAAAAAAAAAAAAAAA=" }
                - { name: short, scram_verifier: "SCRAM-SHA-256$15000:c2FsdA==$c2VjcmV0LWtleS1ieXRlcw==:AAAA" }
                - { name: plain, scram_verifier: "my-password" }
        clusters:
          c:
            protocol: mongodb
            backends: [ { address: 127.0.0.1:27017, role: primary } ]
        """;
    LoadResult result = new ConfigLoader(adapters()).parse("m.yaml", yaml);
    String problems = result.problems().toString();
    assertTrue(problems.contains("auth.users.short.scram_verifier: SCRAM-SHA-256: keys:"), problems);
    assertTrue(problems.contains("auth.users.plain.scram_verifier: no mechanism prefix"), problems);
    assertTrue(!problems.contains("auth.users.ok."), "a well-formed SHA-1 verifier is fine: " + problems);
    assertTrue(!problems.contains("my-password") && !problems.contains("c2VjcmV0LWtleS1ieXRlcw"),
        "the secret is not echoed: " + problems);
  }

  private static Path repoFile(String relative) {
    for (Path dir = Path.of("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
      if (Files.exists(dir.resolve(relative))) {
        return dir.resolve(relative);
      }
    }
    throw new AssertionError(relative + " not found above " + Path.of("").toAbsolutePath());
  }
}
