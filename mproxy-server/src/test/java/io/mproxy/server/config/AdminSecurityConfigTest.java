package io.mproxy.server.config;

import static io.mproxy.server.config.Configs.LOADER;
import static io.mproxy.server.config.Configs.problems;
import static io.mproxy.server.config.Configs.valid;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.mproxy.core.config.AdminConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/**
 * The admin API stays on loopback unless a token protects it, and a config file holding secrets
 * that others can read is flagged when it is loaded.
 */
class AdminSecurityConfigTest {

  private static final String LISTENER = """
      listeners:
        - { name: cache, protocol: redis, bind: 127.0.0.1:0, cluster: c }
      clusters:
        c: { protocol: redis, backends: [ { address: 127.0.0.1:6379 } ] }
      """;

  @Test
  void adminBindsToLoopbackByDefault() {
    AdminConfig admin = valid(LISTENER).admin();
    assertEquals("127.0.0.1", admin.bind().host());
    assertFalse(admin.requiresToken());
    assertTrue(AdminConfig.isLoopback(AdminConfig.DEFAULT.bind().host()));
  }

  @Test
  void aNonLoopbackBindWithoutATokenIsAConfigErrorAtTheBind() {
    assertEquals(List.of("t.yaml:1:16: bind: 0.0.0.0:9901 is not a loopback address: set admin.token"
            + " (clients then send 'Authorization: Bearer <token>') or bind to 127.0.0.1"),
        problems("admin: { bind: 0.0.0.0:9901 }\n" + LISTENER));
    assertEquals(1, problems("admin:\n  bind: 10.1.2.3:9901\n" + LISTENER).size());
    assertEquals(1, problems("admin: { bind: 'admin.example.com:9901' }\n" + LISTENER).size());
  }

  @Test
  void loopbackBindsNeedNoToken() {
    for (String bind : List.of("127.0.0.1:0", "127.8.9.1:0", "localhost:0", "'[::1]:0'")) {
      AdminConfig admin = valid("admin: { bind: " + bind + " }\n" + LISTENER).admin();
      assertNull(admin.token(), bind);
    }
  }

  @Test
  void aTokenOpensOtherAddressesAndIsNeverPrinted() {
    AdminConfig admin = valid("admin: { bind: 0.0.0.0:9901, token: 0123456789abcdef-secret }\n"
        + LISTENER).admin();
    assertEquals("0123456789abcdef-secret", admin.token());
    assertTrue(admin.requiresToken());
    assertFalse(admin.toString().contains("secret"), admin.toString());
    assertFalse(valid("admin: { bind: 0.0.0.0:9901, token: 0123456789abcdef-secret }\n" + LISTENER)
        .toString().contains("0123456789abcdef"));
  }

  @Test
  void aShortOrBlankTokenIsRefused() {
    assertEquals(List.of("t.yaml:1:37: token: too short (expected: a bearer token of at least 16"
        + " characters)"), problems("admin: { bind: 0.0.0.0:9901, token: short }\n" + LISTENER));
    assertEquals(1, problems("admin: { bind: 127.0.0.1:9901, token: '  ' }\n" + LISTENER).size());
  }

  @Test
  void secretsReadableByGroupOrOthersAreWarnedAboutWhenLoading(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("mproxy.yaml");
    Files.writeString(file, LISTENER.replace("protocol: redis, backends",
        "protocol: redis, credentials: { password: hunter2-backend }, backends"));
    Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-r--r--"));

    Logger logger = (Logger) LoggerFactory.getLogger(ConfigLoader.class);
    ListAppender<ILoggingEvent> appender = new ListAppender<>();
    appender.start();
    logger.addAppender(appender);
    try {
      assertTrue(LOADER.load(file).isValid(), "a warning does not refuse the file");
      List<ILoggingEvent> warnings = appender.list.stream()
          .filter(e -> e.getLevel() == Level.WARN).toList();
      assertEquals(1, warnings.size(), appender.list.toString());
      String message = warnings.get(0).getFormattedMessage();
      assertTrue(message.contains("readable by its group and others"), message);
      assertTrue(message.contains("chmod 600"), message);
      assertFalse(message.contains("hunter2"), "the warning never shows the secret: " + message);

      appender.list.clear();
      Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
      assertTrue(LOADER.load(file).isValid());
      assertEquals(List.of(), appender.list.stream().filter(e -> e.getLevel() == Level.WARN).toList());
    } finally {
      logger.detachAppender(appender);
    }
  }

  @Test
  void onlyFilesWithSecretsAreFlagged(@TempDir Path dir) throws Exception {
    Path plain = dir.resolve("plain.yaml");
    Files.writeString(plain, LISTENER + "# password: in a comment only\n");
    Files.setPosixFilePermissions(plain, PosixFilePermissions.fromString("rw-rw-rw-"));
    assertTrue(ConfigLoader.secretsReadableByOthers(plain, Files.readString(plain)).isEmpty());

    Path verifier = dir.resolve("verifier.yaml");
    Files.writeString(verifier, "users: [ { name: a, scram_verifier: 'SCRAM-SHA-256$x' } ]\n");
    Files.setPosixFilePermissions(verifier, PosixFilePermissions.fromString("rw-r-----"));
    String warning = ConfigLoader.secretsReadableByOthers(verifier, Files.readString(verifier))
        .orElseThrow();
    assertTrue(warning.contains("'scram_verifier'") && warning.contains("its group")
        && !warning.contains("others"), warning);
  }
}
