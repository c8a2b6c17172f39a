package io.mproxy.server.config;

import io.mproxy.core.config.HostPort;
import io.mproxy.server.config.YamlNode.Entry;
import io.mproxy.server.config.YamlNode.ListNode;
import io.mproxy.server.config.YamlNode.MapNode;
import io.mproxy.server.config.YamlNode.Scalar;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.TreeSet;
import java.util.stream.Collectors;

/**
 * Typed, checked access to the keys of one YAML mapping. A value of the wrong type or out of
 * range is reported at the value and read as absent (so the caller's default applies and binding
 * goes on to find more problems); a key written as null also reads as absent. Each reader knows
 * its section's keys, in the order the docs list them, for {@link #rejectUnknownKeys}.
 */
final class MapReader {

  private final MapNode node;
  private final Problems problems;
  private final List<String> keys;

  MapReader(MapNode node, Problems problems, List<String> keys) {
    this.node = node;
    this.problems = problems;
    this.keys = List.copyOf(keys);
  }

  Mark mark() {
    return node.mark();
  }

  /** The value under {@code key}, unless missing or null. */
  Optional<YamlNode> value(String key) {
    Entry e = node.entries().get(key);
    return e == null || e.value().isNull() ? Optional.empty() : Optional.of(e.value());
  }

  boolean has(String key) {
    return value(key).isPresent();
  }

  /** Where the value of {@code key} is written, or the mapping itself when it is not. */
  Mark valueMark(String key) {
    Entry e = node.entries().get(key);
    return e == null ? node.mark() : e.value().mark();
  }

  void report(Mark at, String message) {
    problems.report(at, message);
  }

  /** Reports {@code key: missing (expected: ...)} at the mapping. */
  void reportMissing(String key, String expected) {
    problems.report(node.mark(), key + ": missing (expected: " + expected + ")");
  }

  // ---- scalars

  Optional<String> string(String key) {
    return scalar(key, "a string").map(Scalar::text);
  }

  String string(String key, String defaultValue) {
    return string(key).orElse(defaultValue);
  }

  /** A string that must be given and not blank; reports {@code missing} otherwise. */
  Optional<String> requiredString(String key, String expected) {
    if (!has(key)) {
      reportMissing(key, expected);
      return Optional.empty();
    }
    Optional<String> text = string(key);
    if (text.isPresent() && text.get().isBlank()) {
      report(valueMark(key), key + ": '" + text.get() + "' (expected: " + expected + ")");
      return Optional.empty();
    }
    return text;
  }

  Optional<Long> integer(String key, Range range) {
    Optional<Scalar> scalar = scalar(key, "an integer");
    if (scalar.isEmpty()) {
      return Optional.empty();
    }
    Scalar s = scalar.get();
    if (s.kind() != Scalar.Kind.INTEGER) {
      return typeError(s, key, "an integer");
    }
    if (s.value() instanceof BigInteger || !range.contains((long) (Long) s.value())) {
      report(s.mark(), key + ": " + s.text() + " (expected: " + range + ")");
      return Optional.empty();
    }
    return Optional.of((Long) s.value());
  }

  long integer(String key, long defaultValue, Range range) {
    return integer(key, range).orElse(defaultValue);
  }

  Optional<Integer> int32(String key, Range range) {
    return integer(key, range).flatMap(v -> fitsInt(key, v, valueMark(key), valueText(key)));
  }

  int int32(String key, int defaultValue, Range range) {
    return int32(key, range).orElse(defaultValue);
  }

  Optional<Double> number(String key, Range range) {
    Optional<Scalar> scalar = scalar(key, "a number");
    if (scalar.isEmpty()) {
      return Optional.empty();
    }
    Scalar s = scalar.get();
    if (s.kind() != Scalar.Kind.INTEGER && s.kind() != Scalar.Kind.FLOAT) {
      return typeError(s, key, "a number");
    }
    double value = ((Number) s.value()).doubleValue();
    if (!Double.isFinite(value)) {
      return typeError(s, key, "a finite number");
    }
    if (!range.contains(value)) {
      report(s.mark(), key + ": " + s.text() + " (expected: " + range + ")");
      return Optional.empty();
    }
    return Optional.of(value);
  }

  double number(String key, double defaultValue, Range range) {
    return number(key, range).orElse(defaultValue);
  }

  boolean bool(String key, boolean defaultValue) {
    Optional<Scalar> scalar = scalar(key, "true or false");
    if (scalar.isEmpty()) {
      return defaultValue;
    }
    if (scalar.get().kind() != Scalar.Kind.BOOLEAN) {
      return this.<Boolean>typeError(scalar.get(), key, "true or false").orElse(defaultValue);
    }
    return (Boolean) scalar.get().value();
  }

  /** One of an enum's constants, written in lower case (any case is accepted). */
  <E extends Enum<E>> Optional<E> choice(String key, Class<E> type) {
    List<String> names = new ArrayList<>();
    for (E constant : type.getEnumConstants()) {
      names.add(constant.name().toLowerCase(Locale.ROOT));
    }
    return oneOf(key, names).map(name -> Enum.valueOf(type, name.toUpperCase(Locale.ROOT)));
  }

  <E extends Enum<E>> E choice(String key, Class<E> type, E defaultValue) {
    return choice(key, type).orElse(defaultValue);
  }

  /** One of the given words (any case accepted), returned as listed. */
  Optional<String> oneOf(String key, List<String> allowed) {
    String expected = "one of: " + String.join(", ", allowed);
    Optional<Scalar> scalar = scalar(key, expected);
    if (scalar.isEmpty()) {
      return Optional.empty();
    }
    Scalar s = scalar.get();
    for (String word : allowed) {
      if (word.equalsIgnoreCase(s.text())) {
        return Optional.of(word);
      }
    }
    report(s.mark(), key + ": " + s.describe() + " (expected " + expected + ")");
    return Optional.empty();
  }

  /** A {@code host:port} whose port lies in {@code ports}; absent when not given. */
  Optional<HostPort> hostPort(String key, Range ports) {
    Optional<Scalar> scalar = scalar(key, "host:port");
    if (scalar.isEmpty()) {
      return Optional.empty();
    }
    Scalar s = scalar.get();
    HostPort address;
    try {
      address = HostPort.parse(s.text());
    } catch (IllegalArgumentException e) {
      report(s.mark(), key + ": " + e.getMessage());
      return Optional.empty();
    }
    if (!ports.contains(address.port())) {
      report(s.mark(), key + ": port " + address.port() + " (expected: " + ports + ")");
      return Optional.empty();
    }
    return Optional.of(address);
  }

  Optional<HostPort> requiredHostPort(String key, Range ports) {
    if (!has(key)) {
      reportMissing(key, "host:port");
      return Optional.empty();
    }
    return hostPort(key, ports);
  }

  /** A byte size: a plain integer, or a string such as {@code 64mb} (see {@link ByteSize}). */
  int size(String key, int defaultValue, Range range) {
    Optional<Scalar> scalar = scalar(key, ByteSize.EXPECTED);
    if (scalar.isEmpty()) {
      return defaultValue;
    }
    Scalar s = scalar.get();
    if (s.kind() == Scalar.Kind.INTEGER) {
      return int32(key, defaultValue, range);
    }
    OptionalLong bytes = s.kind() == Scalar.Kind.STRING ? ByteSize.parse(s.text()) : OptionalLong.empty();
    if (bytes.isEmpty()) {
      return this.<Integer>typeError(s, key, ByteSize.EXPECTED).orElse(defaultValue);
    }
    if (!range.contains(bytes.getAsLong())) {
      report(s.mark(), key + ": " + s.describe() + " (expected: " + range + ")");
      return defaultValue;
    }
    return fitsInt(key, bytes.getAsLong(), s.mark(), s.describe()).orElse(defaultValue);
  }

  // ---- collections

  Optional<MapNode> mapping(String key) {
    Optional<YamlNode> value = value(key);
    if (value.isEmpty()) {
      return Optional.empty();
    }
    if (value.get() instanceof MapNode map) {
      return Optional.of(map);
    }
    return typeError(value.get(), key, "a mapping");
  }

  /** A nested section with its own keys. */
  Optional<MapReader> section(String key, List<String> sectionKeys) {
    return mapping(key).map(map -> new MapReader(map, problems, sectionKeys));
  }

  Optional<ListNode> list(String key) {
    Optional<YamlNode> value = value(key);
    if (value.isEmpty()) {
      return Optional.empty();
    }
    if (value.get() instanceof ListNode list) {
      return Optional.of(list);
    }
    return typeError(value.get(), key, "a list");
  }

  // ---- keys beyond the common ones

  /** Reports every key that is neither one of this section's keys nor in {@code extraKeys}. */
  void rejectUnknownKeys(Collection<String> extraKeys) {
    List<String> expected = new ArrayList<>(keys);
    new TreeSet<>(extraKeys).stream().filter(k -> !keys.contains(k)).forEach(expected::add);
    String list = String.join(", ", expected);
    for (Entry e : node.entries().values()) {
      if (!expected.contains(e.key())) {
        report(e.keyMark(), "unknown key '" + e.key() + "' (expected one of: " + list + ")");
      }
    }
  }

  void rejectUnknownKeys() {
    rejectUnknownKeys(List.of());
  }

  /** The given protocol option keys that are set (and not null), as plain Java values. */
  Map<String, Object> options(Collection<String> optionKeys) {
    Map<String, Object> options = new LinkedHashMap<>();
    for (Entry e : node.entries().values()) {
      if (optionKeys.contains(e.key()) && !keys.contains(e.key()) && !e.value().isNull()) {
        options.put(e.key(), e.value().toJava());
      }
    }
    return options;
  }

  /**
   * Where a {@code key: message} problem from a protocol adapter belongs: at the key's value
   * when this mapping has that key, else at the mapping.
   */
  Mark locate(String keyedMessage) {
    int colon = keyedMessage.indexOf(':');
    if (colon <= 0) {
      return node.mark();
    }
    String key = keyedMessage.substring(0, colon).strip();
    int dot = key.indexOf('.');
    if (!node.entries().containsKey(key) && dot > 0) {
      key = key.substring(0, dot);
    }
    return valueMark(key);
  }

  static String joinSorted(Collection<String> names) {
    return names.isEmpty() ? "none" : names.stream().sorted().collect(Collectors.joining(", "));
  }

  // ---- helpers

  private Optional<Scalar> scalar(String key, String expected) {
    Optional<YamlNode> value = value(key);
    if (value.isEmpty()) {
      return Optional.empty();
    }
    if (value.get() instanceof Scalar s) {
      return Optional.of(s);
    }
    return typeError(value.get(), key, expected);
  }

  private <T> Optional<T> typeError(YamlNode value, String key, String expected) {
    String expectation = expected.startsWith("one of:") ? "expected " + expected : "expected: " + expected;
    report(value.mark(), key + ": " + value.describe() + " (" + expectation + ")");
    return Optional.empty();
  }

  private Optional<Integer> fitsInt(String key, long value, Mark at, String written) {
    if (value > Integer.MAX_VALUE || value < Integer.MIN_VALUE) {
      report(at, key + ": " + written + " (expected: <= " + Integer.MAX_VALUE + ")");
      return Optional.empty();
    }
    return Optional.of((int) value);
  }

  private String valueText(String key) {
    return value(key).map(v -> v instanceof Scalar s ? s.text() : v.describe()).orElse("");
  }
}
