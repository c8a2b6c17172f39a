package io.mproxy.server.config;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mproxy.core.config.ProxyConfig;
import java.util.List;

/** Loads YAML text as {@code t.yaml} with the redis and postgres test adapters. */
final class Configs {

  static final ConfigLoader LOADER =
      new ConfigLoader(List.of(TestAdapter.redis(), TestAdapter.postgres()));

  private Configs() {
  }

  /** The problems as {@code FILE:LINE:COL: message}, in file order; empty when valid. */
  static List<String> problems(String yaml) {
    return LOADER.parse("t.yaml", yaml).problems().stream().map(ConfigProblem::toString).toList();
  }

  static ProxyConfig valid(String yaml) {
    LoadResult result = LOADER.parse("t.yaml", yaml);
    assertTrue(result.isValid(), () -> "expected valid, got " + result.problems());
    return result.config();
  }
}
