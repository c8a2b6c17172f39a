package io.mproxy.server.config;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One value of the located YAML tree the loader binds from: every node remembers where it was
 * written, so every problem can name a line and column. YAML nulls are {@link Scalar}s of kind
 * {@link Scalar.Kind#NULL}; the tree holds no Java nulls.
 */
sealed interface YamlNode permits YamlNode.MapNode, YamlNode.ListNode, YamlNode.Scalar {

  Mark mark();

  /** How the node reads in a message: a scalar as written, a collection by its kind. */
  String describe();

  /** The plain Java value: String, Long/BigInteger, Double, Boolean, null, List or Map. */
  Object toJava();

  /** The same node reported at another place (an alias is reported where it is used). */
  YamlNode at(Mark mark);

  default boolean isNull() {
    return this instanceof Scalar s && s.kind() == Scalar.Kind.NULL;
  }

  /** A mapping key with its position and value. */
  record Entry(String key, Mark keyMark, YamlNode value) {
  }

  /** A mapping, in document order. */
  record MapNode(Mark mark, Map<String, Entry> entries) implements YamlNode {

    public MapNode {
      entries = Collections.unmodifiableMap(new LinkedHashMap<>(entries));
    }

    static MapNode empty(Mark mark) {
      return new MapNode(mark, Map.of());
    }

    @Override
    public String describe() {
      return "a mapping";
    }

    @Override
    public Object toJava() {
      Map<String, Object> map = new LinkedHashMap<>();
      entries.forEach((k, e) -> map.put(k, e.value().toJava()));
      return Collections.unmodifiableMap(map);
    }

    @Override
    public MapNode at(Mark newMark) {
      return new MapNode(newMark, entries);
    }
  }

  /** A sequence. */
  record ListNode(Mark mark, List<YamlNode> items) implements YamlNode {

    public ListNode {
      items = List.copyOf(items);
    }

    @Override
    public String describe() {
      return "a list";
    }

    @Override
    public Object toJava() {
      List<Object> list = new ArrayList<>(items.size());
      items.forEach(i -> list.add(i.toJava()));
      return Collections.unmodifiableList(list);
    }

    @Override
    public ListNode at(Mark newMark) {
      return new ListNode(newMark, items);
    }
  }

  /**
   * A scalar: {@code text} as written (for messages and string-typed keys) and {@code value} as
   * YAML typed it (String, Long or BigInteger, Double, Boolean, or null).
   */
  record Scalar(Mark mark, Kind kind, String text, Object value) implements YamlNode {

    enum Kind { STRING, INTEGER, FLOAT, BOOLEAN, NULL }

    @Override
    public String describe() {
      return switch (kind) {
        case STRING -> "'" + text + "'";
        case NULL -> "null";
        default -> text;
      };
    }

    @Override
    public Object toJava() {
      return value;
    }

    @Override
    public Scalar at(Mark newMark) {
      return new Scalar(newMark, kind, text, value);
    }
  }
}
