package io.mproxy.server.it;

import io.mproxy.server.it.RespConnection.RespError;
import io.mproxy.testkit.RedisServer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.List;

/**
 * Looks at the backend itself, bypassing the proxy: what {@code INFO} and {@code CLIENT LIST}
 * say about the clients connected to it. Each call opens its own short connection, which the
 * answers leave out.
 */
final class RedisDirect {

  private RedisDirect() {
  }

  /** A field of {@code INFO section}, e.g. {@code ("clients", "blocked_clients")}. */
  static String info(RedisServer redis, String section, String field) {
    String text = (String) call(redis, "INFO", section);
    for (String line : text.split("\r?\n")) {
      if (line.startsWith(field + ":")) {
        return line.substring(field.length() + 1).strip();
      }
    }
    throw new AssertionError("INFO " + section + " has no field " + field + ":\n" + text);
  }

  /** The lines of {@code CLIENT LIST} other than the connection asking. */
  static List<String> otherClients(RedisServer redis) {
    try (RespConnection c = open(redis)) {
      long self = (Long) c.call("CLIENT", "ID");
      String list = (String) c.call("CLIENT", "LIST");
      return list.lines().filter(l -> !l.startsWith("id=" + self + " ")).toList();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static Object call(RedisServer redis, String... command) {
    try (RespConnection c = open(redis)) {
      return c.call(command);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static RespConnection open(RedisServer redis) throws IOException {
    RespConnection c = RespConnection.open(redis.host(), redis.port());
    if (redis.password().isPresent()) {
      Object ok = c.call("AUTH", redis.password().get());
      if (ok instanceof RespError e) {
        c.close();
        throw new AssertionError("AUTH to the backend failed: " + e.message());
      }
    }
    return c;
  }
}
