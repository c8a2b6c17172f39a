package io.mproxy.server.config;

import io.mproxy.core.config.RunawayConfig;
import io.mproxy.core.config.RunawayRule;
import io.mproxy.core.config.RunawayRule.Action;
import io.mproxy.core.config.RunawayRule.Mode;
import io.mproxy.server.config.YamlNode.ListNode;
import io.mproxy.server.config.YamlNode.MapNode;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Binds the top-level {@code runaway: { rules: [...] }}. Each rule needs a unique {@code name}
 * and something to match (a {@code fingerprint}, {@code ru_above} or {@code elapsed_ms_above});
 * {@code cancel} needs {@code elapsed_ms_above} (it stops requests that run that long), and
 * {@code throttle} needs {@code throttle_ru_per_sec}. Group names are checked by the caller.
 */
final class RunawayBinder {

  static final List<String> KEYS = List.of("rules");
  static final List<String> RULE_KEYS = List.of("name", "match", "ru_above", "elapsed_ms_above", "action",
      "throttle_ru_per_sec", "cooldown_ms", "mode");
  static final List<String> MATCH_KEYS = List.of("fingerprint", "group");

  /** A bound rule with where its group was written (null when none), for the reference check. */
  record Bound(RunawayRule rule, Mark groupMark) {
  }

  private final Problems problems;

  RunawayBinder(Problems problems) {
    this.problems = problems;
  }

  List<Bound> bind(MapReader top) {
    List<Bound> out = new ArrayList<>();
    Optional<MapReader> section = top.section("runaway", KEYS);
    if (section.isEmpty()) {
      return out;
    }
    MapReader r = section.get();
    Optional<ListNode> list = r.list("rules");
    r.rejectUnknownKeys();
    if (list.isEmpty()) {
      return out;
    }
    Map<String, Mark> names = new HashMap<>();
    for (YamlNode item : list.get().items()) {
      if (!(item instanceof MapNode map)) {
        problems.report(item.mark(), "rules: " + item.describe()
            + " (expected: a mapping like { name: slow, elapsed_ms_above: 5000, action: cancel })");
        continue;
      }
      MapReader rule = new MapReader(map, problems, RULE_KEYS);
      Bound b = rule(rule);
      if (b == null) {
        continue;
      }
      Mark first = names.putIfAbsent(b.rule().name(), rule.valueMark("name"));
      if (first != null) {
        rule.report(rule.valueMark("name"), "name: '" + b.rule().name() + "' is already used (first at line "
            + first.line() + ")");
      }
      out.add(b);
    }
    return out;
  }

  static RunawayConfig config(List<Bound> bound) {
    return new RunawayConfig(bound.stream().map(Bound::rule).toList());
  }

  private Bound rule(MapReader r) {
    Optional<String> name = r.requiredString("name", "a rule name");
    Optional<MapReader> match = r.section("match", MATCH_KEYS);
    String fingerprint = match.flatMap(m -> m.string("fingerprint")).orElse(null);
    String group = match.flatMap(m -> m.string("group")).orElse(null);
    Mark groupMark = group != null ? match.get().valueMark("group") : null;
    match.ifPresent(MapReader::rejectUnknownKeys);
    double ruAbove = r.number("ru_above", 0, Range.greaterThan(0));
    long elapsedAbove = r.integer("elapsed_ms_above", 0, Range.greaterThan(0));
    Action action = r.choice("action", Action.class, Action.WATCH);
    double throttle = r.number("throttle_ru_per_sec", 0, Range.greaterThan(0));
    long cooldown = r.integer("cooldown_ms", RunawayRule.DEFAULT_COOLDOWN_MS, Range.greaterThan(0));
    Mode mode = r.choice("mode", Mode.class, Mode.ENFORCE);
    r.rejectUnknownKeys();
    if (fingerprint == null && ruAbove <= 0 && elapsedAbove <= 0 && !r.has("ru_above")
        && !r.has("elapsed_ms_above")) {
      r.report(r.mark(), "runaway rule" + name.map(n -> " '" + n + "'").orElse("")
          + ": matches nothing (expected: match.fingerprint, ru_above or elapsed_ms_above)");
    }
    if (action == Action.CANCEL && elapsedAbove <= 0 && !r.has("elapsed_ms_above")) {
      r.report(r.valueMark("action"), "action: cancel needs elapsed_ms_above (expected: how long a request may run)");
    }
    if (action == Action.THROTTLE && !r.has("throttle_ru_per_sec")) {
      r.reportMissing("throttle_ru_per_sec", "> 0 with action: throttle");
    }
    if (name.isEmpty()) {
      return null;
    }
    return new Bound(new RunawayRule(name.get(), fingerprint, group, ruAbove, elapsedAbove, action, throttle,
        cooldown, mode), groupMark);
  }
}
