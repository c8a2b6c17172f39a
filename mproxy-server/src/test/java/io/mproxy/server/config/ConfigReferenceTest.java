package io.mproxy.server.config;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.mproxy.core.spi.ProtocolAdapter;
import io.mproxy.server.Daemon;
import java.io.IOException;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

/**
 * docs/configuration.md documents every key the config binders accept: each key, written as
 * its dotted path in backticks (`pool.max_size`, `auth.users[].password`), appears in the
 * section of the page that covers its part of the file (the `## ` heading naming it, possibly
 * followed by a remark: "## `codel` (optional)"). Protocol
 * keys (each adapter's listener and cluster option keys) appear in the `## Protocol options:
 * PROTOCOL` section. The failure lists every missing entry, as `section: key`.
 *
 * <p>A second check keeps the list honest: every {@code static final List<String>} constant in
 * this package whose name ends in {@code KEYS} (or is {@code SECTIONS}) must be used here, so a
 * binder that gains a key list without a line below fails, naming the constant.
 */
class ConfigReferenceTest {

  private static final Path DOC = Path.of("..", "docs", "configuration.md");

  /** Heading (text after "## ") → dotted keys documented under it. */
  private final Map<String, Set<String>> expected = new LinkedHashMap<>();
  private final Map<List<String>, Boolean> used = new IdentityHashMap<>();

  private void keys(String heading, String prefix, List<String> keys) {
    used.put(keys, true);
    Set<String> set = expected.computeIfAbsent(heading, h -> new TreeSet<>());
    keys.forEach(k -> set.add(prefix + k));
  }

  private void enumerate() {
    keys("Top-level sections", "", ConfigBinder.SECTIONS);
    keys("`server`", "", ConfigBinder.SERVER_KEYS);
    keys("`admin`", "", ConfigBinder.ADMIN_KEYS);
    keys("`listeners[]`", "", ListenerBinder.KEYS);
    keys("`listeners[]`", "auth.", ListenerBinder.AUTH_KEYS);
    keys("`listeners[]`", "auth.users[].", ListenerBinder.USER_KEYS);
    keys("`clusters.NAME`", "", ClusterBinder.KEYS);
    keys("`clusters.NAME`", "credentials.", ClusterBinder.CREDENTIAL_KEYS);
    keys("`clusters.NAME`", "backends[].", ClusterBinder.BACKEND_KEYS);
    keys("`clusters.NAME`", "balancer.", ClusterBinder.BALANCER_KEYS);
    keys("`clusters.NAME`", "pool.", ClusterBinder.POOL_KEYS);
    keys("`clusters.NAME`", "ru.", ClusterBinder.RU_KEYS);
    keys("`clusters.NAME`", "health.", ClusterBinder.HEALTH_KEYS);
    keys("`clusters.NAME`", "circuit.", ClusterBinder.CIRCUIT_KEYS);
    keys("`clusters.NAME`", "shuffle_shard.", ClusterBinder.SHUFFLE_SHARD_KEYS);
    used.put(ClusterBinder.STRATEGIES, true); // values of balancer.strategy, not keys
    keys("`resource_groups.NAME`", "", ResourceGroupBinder.KEYS);
    keys("`resource_groups.NAME`", "codel.", ResourceGroupBinder.GROUP_CODEL_KEYS);
    keys("`tenants[]`", "", TenantBinder.KEYS);
    keys("`tenants[]`", "match.", TenantBinder.MATCH_KEYS);
    keys("`cluster`", "", FleetBinder.KEYS);
    keys("`codel`", "", ResourceGroupBinder.GLOBAL_CODEL_KEYS);
    keys("`runaway`", "", RunawayBinder.KEYS);
    keys("`runaway`", "rules[].", RunawayBinder.RULE_KEYS);
    keys("`runaway`", "rules[].match.", RunawayBinder.MATCH_KEYS);
    keys("`logging`", "", ObservabilityBinder.LOGGING_KEYS);
    keys("`logging`", "access_log.", ObservabilityBinder.ACCESS_LOG_KEYS);
    keys("`telemetry`", "", ObservabilityBinder.TELEMETRY_KEYS);
    keys("`telemetry`", "otlp.", ObservabilityBinder.OTLP_KEYS);
    keys("`telemetry`", "otlp.traces.", ObservabilityBinder.TRACES_KEYS);
    keys("`telemetry`", "otlp.metrics.", ObservabilityBinder.METRICS_KEYS);
    for (ProtocolAdapter a : Daemon.discoverAdapters()) {
      String heading = "Protocol options: " + a.protocol();
      keys(heading, "listeners[].", List.copyOf(a.listenerOptionKeys()));
      keys(heading, "clusters.NAME.", List.copyOf(a.clusterOptionKeys()));
    }
  }

  @Test
  void everyAcceptedKeyHasAnEntry() throws IOException {
    enumerate();
    Map<String, String> sections = sections(Files.readString(DOC, StandardCharsets.UTF_8));
    List<String> missing = new ArrayList<>();
    expected.forEach((heading, keys) -> {
      String body = section(sections, heading);
      for (String key : keys) {
        if (body == null || !body.contains("`" + key + "`")) {
          missing.add((body == null ? "(no section '## " + heading + "') " : "") + heading + ": `" + key + "`");
        }
      }
    });
    if (!missing.isEmpty()) {
      fail(missing.size() + " config key(s) have no entry in docs/configuration.md (add a table row with the"
          + " key in backticks under the named '## ' heading):\n  " + String.join("\n  ", missing));
    }
  }

  @Test
  void everyKeyListOfTheBindersIsEnumerated() throws IllegalAccessException {
    enumerate();
    List<String> unlisted = new ArrayList<>();
    for (Class<?> c : classesOfThisPackage()) {
      for (Field f : c.getDeclaredFields()) {
        boolean keyList = f.getName().endsWith("KEYS") || f.getName().equals("SECTIONS")
            || f.getName().equals("STRATEGIES");
        if (Modifier.isStatic(f.getModifiers()) && List.class.isAssignableFrom(f.getType()) && keyList) {
          f.setAccessible(true);
          if (!used.containsKey(f.get(null))) {
            unlisted.add(c.getSimpleName() + "." + f.getName());
          }
        }
      }
    }
    assertTrue(unlisted.isEmpty(), "key lists not enumerated in ConfigReferenceTest.enumerate(): " + unlisted);
  }

  /** Every top-level class compiled into this package of the main code (the binders among them). */
  private static List<Class<?>> classesOfThisPackage() {
    List<Class<?>> out = new ArrayList<>();
    try {
      Path dir = Path.of(ConfigBinder.class.getProtectionDomain().getCodeSource().getLocation().toURI())
          .resolve(ConfigBinder.class.getPackageName().replace('.', '/'));
      try (var files = Files.list(dir)) {
        for (Path f : files.toList()) {
          String name = f.getFileName().toString();
          if (name.endsWith(".class") && !name.contains("$")) {
            out.add(Class.forName(ConfigBinder.class.getPackageName() + "." + name.substring(0, name.length() - 6)));
          }
        }
      }
    } catch (Exception e) {
      throw new IllegalStateException("cannot list the classes of " + ConfigBinder.class.getPackageName(), e);
    }
    assertTrue(out.size() > 5, "found " + out);
    return out;
  }

  /** The section whose heading is {@code heading} or starts with it and a space ("`codel` (optional)"). */
  private static String section(Map<String, String> sections, String heading) {
    for (Map.Entry<String, String> e : sections.entrySet()) {
      if (e.getKey().equals(heading) || e.getKey().startsWith(heading + " ")) {
        return e.getValue();
      }
    }
    return null;
  }

  /** The page split at "## " headings: heading text → body up to the next "## ". */
  private static Map<String, String> sections(String doc) {
    Map<String, String> out = new LinkedHashMap<>();
    String heading = null;
    StringBuilder body = new StringBuilder();
    for (String line : doc.split("\n", -1)) {
      if (line.startsWith("## ")) {
        if (heading != null) {
          out.put(heading, body.toString());
        }
        heading = line.substring(3).trim();
        body.setLength(0);
      } else {
        body.append(line).append('\n');
      }
    }
    if (heading != null) {
      out.put(heading, body.toString());
    }
    return out;
  }
}
