package io.mproxy.server.it.mysql;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mproxy.core.config.ListenerConfig;
import io.mproxy.core.config.ProxyConfig;
import io.mproxy.protocol.mysql.MysqlProtocolAdapter;
import io.mproxy.server.config.ConfigLoader;
import io.mproxy.server.config.LoadResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/** config/mysql.yaml loads without problems; bad MySQL options are reported by key. */
class ExampleConfigTest {

  private static Path repoFile(String relative) {
    for (Path dir = Path.of("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
      if (Files.exists(dir.resolve(relative))) {
        return dir.resolve(relative);
      }
    }
    throw new IllegalStateException(relative + " not found above " + Path.of("").toAbsolutePath());
  }

  @Test
  void exampleLoadsCleanly() {
    LoadResult result = new ConfigLoader(List.of(new MysqlProtocolAdapter())).load(repoFile("config/mysql.yaml"));
    assertEquals(List.of(), result.problems());
    ProxyConfig config = result.config();
    ListenerConfig listener = config.listeners().get(0);
    assertEquals("mysql", listener.protocol());
    assertEquals(30000L, ((Number) listener.options().get("query_timeout_ms")).longValue());
    assertEquals("transaction", config.clusters().get("mysql-main").pool().mode());
  }

  @Test
  void aListenerWithoutAuthIsPassthroughAndBackendTlsIsChecked() {
    String yaml = """
        listeners:
          - { name: m, protocol: mysql, bind: 127.0.0.1:0, cluster: c }
        clusters:
          c:
            protocol: mysql
            backends: [ { address: 127.0.0.1:3306 } ]
            tls: { mode: sometimes }
        """;
    LoadResult result = new ConfigLoader(List.of(new MysqlProtocolAdapter())).parse("m.yaml", yaml);
    String problems = result.problems().toString();
    assertTrue(problems.contains("tls.mode: 'sometimes' is not one of disable, prefer, require, verify-full"), problems);
    assertTrue(!problems.contains("passthrough"), "passthrough listeners are accepted: " + problems);
    LoadResult ok = new ConfigLoader(List.of(new MysqlProtocolAdapter())).parse("m.yaml",
        yaml.replace("sometimes", "require"));
    assertEquals(List.of(), ok.problems());
  }

  @Test
  void badOptionsAreReportedByKey() {
    String yaml = """
        listeners:
          - name: m
            protocol: mysql
            bind: 127.0.0.1:0
            cluster: c
            auth: { mode: terminate, users: [ { name: a, password: b } ] }
            auth_plugin: sha256_password
            query_timeout_ms: -1
        clusters:
          c:
            protocol: mysql
            backends: [ { address: 127.0.0.1:3306 } ]
            pool: { mode: statement }
        """;
    LoadResult result = new ConfigLoader(List.of(new MysqlProtocolAdapter())).parse("m.yaml", yaml);
    String problems = result.problems().toString();
    assertTrue(problems.contains("auth_plugin: sha256_password (expected: mysql_native_password or caching_sha2_password)"),
        problems);
    assertTrue(problems.contains("query_timeout_ms: -1"), problems);
    assertTrue(problems.contains("pool.mode: statement (expected: session or transaction)"), problems);
  }
}
