package io.mproxy.protocol.postgres;

import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** Typed reads of protocol options, each problem reported as {@code key: message}. */
final class PgOptions {

  private PgOptions() {
  }

  static String string(Map<String, Object> o, String key, String dflt, List<String> problems) {
    Object v = o.get(key);
    if (v == null) {
      return dflt;
    }
    if (v instanceof String s) {
      return s;
    }
    problems.add(key + ": must be a string");
    return dflt;
  }

  static int integer(Map<String, Object> o, String key, int dflt, int min, int max, List<String> problems) {
    Object v = o.get(key);
    if (v == null) {
      return dflt;
    }
    if (v instanceof Number n && n.doubleValue() == Math.rint(n.doubleValue())
        && n.longValue() >= min && n.longValue() <= max) {
      return n.intValue();
    }
    problems.add(key + ": " + v + " (expected an integer " + min + ".." + max + ")");
    return dflt;
  }

  static Set<String> stringSet(Map<String, Object> o, String key, List<String> problems) {
    Object v = o.get(key);
    if (v == null) {
      return Set.of();
    }
    if (v instanceof Collection<?> c) {
      Set<String> out = new LinkedHashSet<>();
      for (Object e : c) {
        if (e instanceof String s) {
          out.add(s.toLowerCase(java.util.Locale.ROOT));
        } else {
          problems.add(key + ": every entry must be a string");
        }
      }
      return Set.copyOf(out);
    }
    problems.add(key + ": must be a list of names");
    return Set.of();
  }
}
