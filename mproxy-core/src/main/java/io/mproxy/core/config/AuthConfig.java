package io.mproxy.core.config;

import java.util.List;
import java.util.Optional;

/**
 * How clients log in to a listener. {@code terminate}: mproxy checks the users below and logs in
 * to backends with the cluster's own credentials. {@code passthrough}: no proxy-side check
 * (for Redis: clients need no password).
 */
public record AuthConfig(Mode mode, List<UserConfig> users) {

  public static final AuthConfig PASSTHROUGH = new AuthConfig(Mode.PASSTHROUGH, List.of());

  public AuthConfig {
    users = List.copyOf(users);
  }

  public enum Mode { TERMINATE, PASSTHROUGH }

  public boolean terminates() {
    return mode == Mode.TERMINATE;
  }

  public Optional<UserConfig> user(String name) {
    for (UserConfig u : users) {
      if (u.name().equals(name)) {
        return Optional.of(u);
      }
    }
    return Optional.empty();
  }

  /** A user known to the proxy: a plain password, or a SCRAM verifier for protocols that use one. */
  public record UserConfig(String name, String password, String scramVerifier) {
    @Override
    public String toString() {
      return "UserConfig[name=" + name + ", password=<redacted>]";
    }
  }
}
