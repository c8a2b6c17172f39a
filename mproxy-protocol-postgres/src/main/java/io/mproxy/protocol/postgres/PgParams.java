package io.mproxy.protocol.postgres;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * A client's session settings — from its start-up packet (including {@code options=-c x=y}) and
 * from the parameters the server reported after the client changed them — and the SQL that makes
 * a backend connection's settings equal to them. This is how settings survive transaction pooling:
 * every connection a client is handed first gets its settings.
 */
final class PgParams {

  /** Start-up keys that are not settings. */
  private static final Set<String> NOT_SETTINGS = Set.of("user", "database", "options", "replication");

  /** Settings the server reports with ParameterStatus when they change (GUC_REPORT). */
  static final Set<String> REPORTED = Set.of("application_name", "client_encoding", "datestyle",
      "intervalstyle", "timezone", "standard_conforming_strings", "integer_datetimes",
      "default_transaction_read_only", "in_hot_standby");

  private final Map<String, String> desired = new LinkedHashMap<>();
  /**
   * {@link #desired} as arrays, rebuilt when it changes: {@link #sync} runs for every lease of a
   * connection (every transaction in transaction mode), and walking the map made two iterators.
   */
  private String[] names = new String[0];
  private String[] values = new String[0];
  private boolean changed;

  /**
   * Reads the start-up packet's parameters: every key but user/database/options is a setting; the
   * {@code options} value's {@code -c name=value} / {@code --name=value} pairs are settings too.
   * Names in {@code ignored} are dropped. Returns a problem message, or null.
   */
  String startup(Map<String, String> params, Set<String> ignored) {
    for (Map.Entry<String, String> e : params.entrySet()) {
      String name = e.getKey().toLowerCase(Locale.ROOT);
      if (NOT_SETTINGS.contains(name) || ignored.contains(name)) {
        if ("replication".equals(name) && !ignored.contains(name)) {
          return "replication connections are not supported through mproxy";
        }
        continue;
      }
      String problem = put(name, e.getValue());
      if (problem != null) {
        return problem;
      }
    }
    String options = params.get("options");
    if (options != null && !ignored.contains("options")) {
      return options(options, ignored);
    }
    return null;
  }

  private String options(String options, Set<String> ignored) {
    List<String> words = splitOptions(options);
    for (int i = 0; i < words.size(); i++) {
      String w = words.get(i);
      String pair;
      if ("-c".equals(w) && i + 1 < words.size()) {
        pair = words.get(++i);
      } else if (w.startsWith("-c")) {
        pair = w.substring(2);
      } else if (w.startsWith("--")) {
        pair = w.substring(2);
      } else {
        return "unsupported startup option '" + w + "' (only -c name=value is supported)";
      }
      int eq = pair.indexOf('=');
      if (eq <= 0) {
        return "invalid startup option '" + pair + "'";
      }
      String name = pair.substring(0, eq).replace('-', '_').toLowerCase(Locale.ROOT);
      if (ignored.contains(name)) {
        continue;
      }
      String problem = put(name, pair.substring(eq + 1));
      if (problem != null) {
        return problem;
      }
    }
    return null;
  }

  /** libpq's rules: words split on spaces, a backslash escapes the next character. */
  private static List<String> splitOptions(String s) {
    List<String> out = new ArrayList<>();
    StringBuilder cur = new StringBuilder();
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c == '\\' && i + 1 < s.length()) {
        cur.append(s.charAt(++i));
      } else if (Character.isWhitespace(c)) {
        if (cur.length() > 0) {
          out.add(cur.toString());
          cur.setLength(0);
        }
      } else {
        cur.append(c);
      }
    }
    if (cur.length() > 0) {
      out.add(cur.toString());
    }
    return out;
  }

  private String put(String name, String value) {
    if (!validName(name)) {
      return "invalid parameter name '" + name + "'";
    }
    desired.put(name, value);
    changed = true;
    return null;
  }

  /** The server reported a changed setting while this client held the connection. */
  void reported(String name, String value) {
    String n = name.toLowerCase(Locale.ROOT);
    if (REPORTED.contains(n) && validName(n) && !value.equals(desired.put(n, value))) {
      changed = true;
    }
  }

  String application() {
    return desired.get("application_name");
  }

  Map<String, String> desired() {
    return desired;
  }

  /**
   * One simple-query text that turns {@code applied} (what the connection has now, as set by
   * clients) into this client's settings, or null when they already match. {@code applied} is
   * updated to the result.
   */
  String sync(Map<String, String> applied) {
    if (matches(applied)) {
      return null;
    }
    StringBuilder set = null;
    for (Map.Entry<String, String> e : desired.entrySet()) {
      if (e.getValue().equals(applied.get(e.getKey()))) {
        continue;
      }
      set = set == null ? new StringBuilder("SELECT ") : set.append(", ");
      set.append("pg_catalog.set_config(").append(literal(e.getKey())).append(", ")
          .append(literal(e.getValue())).append(", false)");
    }
    StringBuilder reset = null;
    for (String name : applied.keySet()) {
      if (!desired.containsKey(name)) {
        reset = reset == null ? new StringBuilder() : reset;
        reset.append("RESET ").append(name).append(";");
      }
    }
    if (set == null && reset == null) {
      return null;
    }
    applied.clear();
    applied.putAll(desired);
    StringBuilder sql = new StringBuilder();
    if (set != null) {
      sql.append(set).append(';');
    }
    if (reset != null) {
      sql.append(reset);
    }
    return sql.toString();
  }

  /**
   * Whether {@code applied} holds exactly the desired settings, without an iterator: every desired
   * name has its value there, and there are as many entries (so no other name is set).
   */
  private boolean matches(Map<String, String> applied) {
    if (changed) {
      names = desired.keySet().toArray(new String[0]);
      values = desired.values().toArray(new String[0]);
      changed = false;
    }
    if (applied.size() != names.length) {
      return false;
    }
    for (int i = 0; i < names.length; i++) {
      if (!values[i].equals(applied.get(names[i]))) {
        return false;
      }
    }
    return true;
  }

  static boolean validName(String name) {
    if (name.isEmpty() || name.length() > 63) {
      return false;
    }
    for (int i = 0; i < name.length(); i++) {
      char c = name.charAt(i);
      if (!(c >= 'a' && c <= 'z') && !(c >= '0' && c <= '9') && c != '_' && c != '.') {
        return false;
      }
    }
    return true;
  }

  static String literal(String s) {
    return "'" + s.replace("'", "''") + "'";
  }
}
