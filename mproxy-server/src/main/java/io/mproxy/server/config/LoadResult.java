package io.mproxy.server.config;

import io.mproxy.core.config.ProxyConfig;
import java.util.List;
import java.util.Objects;
import java.util.stream.Collectors;

/**
 * What loading a config file gave: a validated {@link ProxyConfig}, or every problem found in it
 * (never an empty list). An invalid file never yields a partial config.
 */
public sealed interface LoadResult permits LoadResult.Valid, LoadResult.Invalid {

  static LoadResult valid(ProxyConfig config) {
    return new Valid(config, ObservabilityConfig.DEFAULT);
  }

  static LoadResult valid(ProxyConfig config, ObservabilityConfig observability) {
    return new Valid(config, observability);
  }

  static LoadResult invalid(List<ConfigProblem> problems) {
    return new Invalid(problems);
  }

  boolean isValid();

  /** The config; throws {@link IllegalStateException} listing the problems when invalid. */
  ProxyConfig config();

  /** The problems, in file order; empty when valid. */
  List<ConfigProblem> problems();

  /** The {@code logging:} and {@code telemetry:} sections; the defaults when invalid. */
  default ObservabilityConfig observability() {
    return ObservabilityConfig.DEFAULT;
  }

  /** The file bound to a valid configuration. */
  record Valid(ProxyConfig config, ObservabilityConfig observability) implements LoadResult {

    public Valid {
      Objects.requireNonNull(config, "config");
      Objects.requireNonNull(observability, "observability");
    }

    public Valid(ProxyConfig config) {
      this(config, ObservabilityConfig.DEFAULT);
    }

    @Override
    public boolean isValid() {
      return true;
    }

    @Override
    public List<ConfigProblem> problems() {
      return List.of();
    }
  }

  /** The file has at least one problem. */
  record Invalid(List<ConfigProblem> problems) implements LoadResult {

    public Invalid {
      problems = List.copyOf(problems);
      if (problems.isEmpty()) {
        throw new IllegalArgumentException("an invalid result needs at least one problem");
      }
    }

    @Override
    public boolean isValid() {
      return false;
    }

    @Override
    public ProxyConfig config() {
      throw new IllegalStateException("invalid configuration:\n" + problems.stream()
          .map(ConfigProblem::toString).collect(Collectors.joining("\n")));
    }
  }
}
