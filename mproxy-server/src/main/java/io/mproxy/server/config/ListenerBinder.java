package io.mproxy.server.config;

import io.mproxy.core.config.AuthConfig;
import io.mproxy.core.config.AuthConfig.UserConfig;
import io.mproxy.core.config.ClientLimits;
import io.mproxy.core.config.HostPort;
import io.mproxy.core.config.ListenerConfig;
import io.mproxy.core.spi.ProtocolAdapter;
import io.mproxy.server.config.YamlNode.ListNode;
import io.mproxy.server.config.YamlNode.MapNode;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** Binds the {@code listeners:} list; cross-listener checks are left to {@link ConfigBinder}. */
final class ListenerBinder {

  static final List<String> KEYS = List.of("name", "protocol", "bind", "cluster", "auth",
      "max_client_connections", "max_frame_bytes", "max_accepts_per_sec", "handshake_timeout_ms",
      "auth_max_failures", "auth_failure_window_ms", "auth_block_ms");
  static final List<String> AUTH_KEYS = List.of("mode", "users");
  static final List<String> USER_KEYS = List.of("name", "password", "scram_verifier");
  /** Port 0 (any free port) is allowed so tests can bind ephemeral listeners. */
  static final Range PORTS = Range.between(0, 65535);

  private static final HostPort UNSET = new HostPort("0.0.0.0", 0);

  /**
   * A bound listener with what the cross checks need; {@code name}, {@code bind} and
   * {@code cluster} are null when they were invalid (and already reported).
   */
  record Bound(ListenerConfig config, String name, Mark nameMark, HostPort bind, Mark bindMark,
      String cluster, Mark clusterMark) {
  }

  private final Adapters adapters;
  private final Problems problems;

  ListenerBinder(Adapters adapters, Problems problems) {
    this.adapters = adapters;
    this.problems = problems;
  }

  List<Bound> bindAll(MapReader top) {
    List<Bound> listeners = new ArrayList<>();
    Optional<ListNode> list = top.list("listeners");
    if (list.isEmpty()) {
      return listeners;
    }
    for (YamlNode item : list.get().items()) {
      if (item instanceof MapNode map) {
        listeners.add(bind(new MapReader(map, problems, KEYS)));
      } else {
        problems.report(item.mark(), "listeners: " + item.describe()
            + " (expected: a mapping with name, protocol, bind and cluster)");
      }
    }
    return listeners;
  }

  private Bound bind(MapReader r) {
    Optional<String> name = r.requiredString("name", "a listener name");
    Optional<ProtocolAdapter> adapter = adapters.protocolOf(r);
    Optional<HostPort> bind = r.requiredHostPort("bind", PORTS);
    Optional<String> cluster = r.requiredString("cluster", "the name of a cluster");
    AuthConfig auth = r.section("auth", AUTH_KEYS).map(this::auth).orElse(AuthConfig.PASSTHROUGH);
    int maxClients = r.int32("max_client_connections",
        ListenerConfig.DEFAULT_MAX_CLIENT_CONNECTIONS, Range.atLeast(1));
    int maxFrame = r.size("max_frame_bytes", ListenerConfig.DEFAULT_MAX_FRAME_BYTES, Range.atLeast(1));
    ClientLimits limits = clientLimits(r);
    Map<String, Object> options =
        adapter.map(a -> r.options(a.listenerOptionKeys())).orElse(Map.of());
    adapter.ifPresent(a -> r.rejectUnknownKeys(a.listenerOptionKeys()));

    ListenerConfig config = new ListenerConfig(name.orElse(""),
        adapter.map(ProtocolAdapter::protocol).orElse(""), bind.orElse(UNSET), cluster.orElse(""),
        auth, maxClients, maxFrame, options, limits);
    adapter.ifPresent(a -> Adapters.validate(a, r, () -> a.validate(config)));
    return new Bound(config, name.orElse(null), r.valueMark("name"), bind.orElse(null),
        r.valueMark("bind"), cluster.orElse(null), r.valueMark("cluster"));
  }

  private static ClientLimits clientLimits(MapReader r) {
    int acceptRate = r.int32("max_accepts_per_sec", ClientLimits.DEFAULT_MAX_ACCEPTS_PER_SEC,
        Range.between(0, 10_000_000));
    long handshake = r.integer("handshake_timeout_ms", ClientLimits.DEFAULT_HANDSHAKE_TIMEOUT_MS,
        Range.between(1, 3_600_000));
    int authFailures = r.int32("auth_max_failures", ClientLimits.DEFAULT_AUTH_MAX_FAILURES,
        Range.between(1, 1_000_000));
    long window = r.integer("auth_failure_window_ms", ClientLimits.DEFAULT_AUTH_FAILURE_WINDOW_MS,
        Range.between(1, 86_400_000));
    long block = r.integer("auth_block_ms", ClientLimits.DEFAULT_AUTH_BLOCK_MS,
        Range.between(1, 86_400_000));
    return new ClientLimits(acceptRate, handshake, authFailures, window, block);
  }

  /** {@code mode} defaults to terminate: writing an auth section means mproxy checks logins. */
  private AuthConfig auth(MapReader a) {
    Optional<AuthConfig.Mode> givenMode = a.choice("mode", AuthConfig.Mode.class);
    boolean modeValid = givenMode.isPresent() || !a.has("mode");
    AuthConfig.Mode mode = givenMode.orElse(AuthConfig.Mode.TERMINATE);
    Optional<ListNode> usersNode = a.list("users");
    List<UserConfig> users = usersNode.map(this::users).orElse(List.of());
    a.rejectUnknownKeys();
    boolean listed = usersNode.map(l -> !l.items().isEmpty()).orElse(false);
    if (!modeValid) {
      return new AuthConfig(mode, users);
    }
    if (mode == AuthConfig.Mode.TERMINATE && !listed) {
      if (!a.has("users")) {
        a.reportMissing("users", "at least one user when mode is terminate");
      } else if (usersNode.isPresent()) {
        a.report(usersNode.get().mark(),
            "users: empty (expected: at least one user when mode is terminate)");
      }
    } else if (mode == AuthConfig.Mode.PASSTHROUGH && listed) {
      a.report(usersNode.get().mark(),
          "users: given, but mode is passthrough (expected: mode: terminate, or no users)");
    }
    return new AuthConfig(mode, users);
  }

  private List<UserConfig> users(ListNode list) {
    List<UserConfig> users = new ArrayList<>();
    Map<String, Mark> seen = new HashMap<>();
    for (YamlNode item : list.items()) {
      if (!(item instanceof MapNode map)) {
        problems.report(item.mark(),
            "users: " + item.describe() + " (expected: a mapping with name and password)");
        continue;
      }
      MapReader u = new MapReader(map, problems, USER_KEYS);
      Optional<String> name = u.requiredString("name", "a user name");
      Optional<String> password = u.string("password");
      Optional<String> verifier = u.string("scram_verifier");
      u.rejectUnknownKeys();
      if (!u.has("password") && !u.has("scram_verifier")) {
        u.reportMissing("password", "password or scram_verifier");
      }
      if (name.isPresent()) {
        Mark first = seen.putIfAbsent(name.get(), u.valueMark("name"));
        if (first != null) {
          u.report(u.valueMark("name"),
              "name: '" + name.get() + "' is already used (first at line " + first.line() + ")");
        }
      }
      users.add(new UserConfig(name.orElse(""), password.orElse(null), verifier.orElse(null)));
    }
    return users;
  }
}
