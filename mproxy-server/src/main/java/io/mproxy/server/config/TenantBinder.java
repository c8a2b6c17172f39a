package io.mproxy.server.config;

import io.mproxy.core.config.Priority;
import io.mproxy.core.config.ResourceGroupConfig;
import io.mproxy.core.config.TenantRule;
import io.mproxy.server.config.YamlNode.ListNode;
import io.mproxy.server.config.YamlNode.MapNode;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Binds the {@code tenants:} rules, in order (first match wins). A rule without {@code match}
 * matches everyone; a rule without {@code group} puts its tenants in {@code default}.
 */
final class TenantBinder {

  static final List<String> KEYS = List.of("match", "group", "priority", "allow_hints");
  static final List<String> MATCH_KEYS = List.of("listener", "user", "database", "application");

  /** A bound rule; the marks are null when the key was not written (nothing to cross-check). */
  record Bound(TenantRule rule, Mark groupMark, Mark listenerMark) {
  }

  private final Problems problems;

  TenantBinder(Problems problems) {
    this.problems = problems;
  }

  List<Bound> bindAll(MapReader top) {
    List<Bound> rules = new ArrayList<>();
    Optional<ListNode> list = top.list("tenants");
    if (list.isEmpty()) {
      return rules;
    }
    for (YamlNode item : list.get().items()) {
      if (item instanceof MapNode map) {
        rules.add(bind(new MapReader(map, problems, KEYS)));
      } else {
        problems.report(item.mark(),
            "tenants: " + item.describe() + " (expected: a mapping with match and group)");
      }
    }
    return rules;
  }

  private Bound bind(MapReader t) {
    Optional<MapReader> match = t.section("match", MATCH_KEYS);
    String listener = match.flatMap(m -> m.string("listener")).orElse(null);
    String user = match.flatMap(m -> m.string("user")).orElse(null);
    String database = match.flatMap(m -> m.string("database")).orElse(null);
    String application = match.flatMap(m -> m.string("application")).orElse(null);
    match.ifPresent(MapReader::rejectUnknownKeys);
    Optional<String> group = t.has("group")
        ? t.requiredString("group", "the name of a resource group") : Optional.empty();
    Priority priority = t.choice("priority", Priority.class).orElse(null);
    String hints = t.oneOf("allow_hints", List.of("true", "false", "shadow")).orElse("false");
    t.rejectUnknownKeys();

    TenantRule rule = new TenantRule(listener, user, database, application,
        group.orElse(ResourceGroupConfig.DEFAULT_GROUP), priority, !hints.equals("false"),
        hints.equals("shadow"));
    Mark groupMark = group.isPresent() ? t.valueMark("group") : null;
    Mark listenerMark = listener != null ? match.get().valueMark("listener") : null;
    return new Bound(rule, groupMark, listenerMark);
  }
}
