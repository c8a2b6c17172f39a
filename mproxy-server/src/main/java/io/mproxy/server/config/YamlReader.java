package io.mproxy.server.config;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLParser;
import com.fasterxml.jackson.dataformat.yaml.snakeyaml.error.MarkedYAMLException;
import io.mproxy.server.config.YamlNode.Entry;
import io.mproxy.server.config.YamlNode.ListNode;
import io.mproxy.server.config.YamlNode.MapNode;
import io.mproxy.server.config.YamlNode.Scalar;
import java.io.IOException;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Reads YAML text into a {@link YamlNode} tree with Jackson's streaming parser, keeping each
 * token's position. Aliases resolve to their anchored node; duplicate keys are reported (the
 * first one wins); a syntax error is reported once, where the parser found it.
 */
final class YamlReader {

  private static final YAMLFactory FACTORY = YAMLFactory.builder()
      .enable(YAMLParser.Feature.EMPTY_STRING_AS_NULL)
      .build();

  private final Problems problems;
  private final Map<String, YamlNode> anchors = new HashMap<>();

  private YamlReader(Problems problems) {
    this.problems = problems;
  }

  /** The document's root (an empty mapping for an empty file), or empty on a syntax error. */
  static Optional<YamlNode> read(String yamlText, Problems problems) {
    return new YamlReader(problems).document(yamlText);
  }

  private Optional<YamlNode> document(String yamlText) {
    try (YAMLParser parser = FACTORY.createParser(yamlText)) {
      JsonToken first = parser.nextToken();
      if (first == null) {
        return Optional.of(MapNode.empty(Mark.START));
      }
      YamlNode root = node(parser);
      if (parser.nextToken() != null) {
        problems.report(mark(parser), "a second YAML document (expected: one document per file)");
      }
      return Optional.of(root);
    } catch (MarkedYAMLException e) {
      problems.report(markOf(e), syntaxMessage(e));
    } catch (JsonProcessingException e) {
      problems.report(markOf(e.getLocation()), "YAML: " + firstLine(e.getOriginalMessage()));
    } catch (IOException e) {
      problems.report(Mark.START, "YAML: " + e.getMessage());
    }
    return Optional.empty();
  }

  private YamlNode node(YAMLParser parser) throws IOException {
    Mark mark = mark(parser);
    if (parser.isCurrentAlias()) {
      return alias(parser.getText(), mark);
    }
    String anchor = parser.getObjectId();
    JsonToken token = parser.currentToken();
    YamlNode node = switch (token) {
      case START_OBJECT -> mapping(parser, mark);
      case START_ARRAY -> sequence(parser, mark);
      case VALUE_STRING -> new Scalar(mark, Scalar.Kind.STRING, parser.getText(), parser.getText());
      case VALUE_NUMBER_INT -> new Scalar(mark, Scalar.Kind.INTEGER, parser.getText(),
          integer(parser.getNumberValue()));
      case VALUE_NUMBER_FLOAT -> new Scalar(mark, Scalar.Kind.FLOAT, parser.getText(),
          parser.getDoubleValue());
      case VALUE_TRUE -> new Scalar(mark, Scalar.Kind.BOOLEAN, parser.getText(), Boolean.TRUE);
      case VALUE_FALSE -> new Scalar(mark, Scalar.Kind.BOOLEAN, parser.getText(), Boolean.FALSE);
      case VALUE_NULL -> new Scalar(mark, Scalar.Kind.NULL, "null", null);
      default -> throw new IllegalStateException("unexpected YAML token " + token + " at " + mark);
    };
    if (anchor != null) {
      anchors.put(anchor, node);
    }
    return node;
  }

  private MapNode mapping(YAMLParser parser, Mark mark) throws IOException {
    Map<String, Entry> entries = new LinkedHashMap<>();
    while (parser.nextToken() == JsonToken.FIELD_NAME) {
      String key = parser.currentName();
      Mark keyMark = mark(parser);
      parser.nextToken();
      YamlNode value = node(parser);
      Entry first = entries.get(key);
      if (first != null) {
        problems.report(keyMark,
            "duplicate key '" + key + "' (first at line " + first.keyMark().line() + ")");
      } else {
        entries.put(key, new Entry(key, keyMark, value));
      }
    }
    return new MapNode(mark, entries);
  }

  private ListNode sequence(YAMLParser parser, Mark mark) throws IOException {
    List<YamlNode> items = new ArrayList<>();
    while (parser.nextToken() != JsonToken.END_ARRAY) {
      items.add(node(parser));
    }
    return new ListNode(mark, items);
  }

  private YamlNode alias(String name, Mark mark) {
    YamlNode target = anchors.get(name);
    if (target == null) {
      problems.report(mark, "alias '*" + name + "' has no anchor '&" + name + "' before it");
      return new Scalar(mark, Scalar.Kind.NULL, "null", null);
    }
    return target.at(mark);
  }

  private static Object integer(Number n) {
    if (n instanceof BigInteger big) {
      return big.bitLength() < Long.SIZE ? (Object) big.longValue() : big;
    }
    return n.longValue();
  }

  private static Mark mark(YAMLParser parser) {
    return markOf(parser.currentTokenLocation());
  }

  private static Mark markOf(JsonLocation location) {
    if (location == null || location.getLineNr() < 1) {
      return Mark.START;
    }
    return new Mark(location.getLineNr(), Math.max(1, location.getColumnNr()));
  }

  private static Mark markOf(MarkedYAMLException e) {
    var problemMark = e.getProblemMark();
    if (problemMark == null) {
      return markOf(e.getLocation());
    }
    return new Mark(problemMark.getLine() + 1, problemMark.getColumn() + 1);
  }

  private static String syntaxMessage(MarkedYAMLException e) {
    String problem = e.getProblem() != null ? e.getProblem() : firstLine(e.getOriginalMessage());
    StringBuilder message = new StringBuilder("YAML syntax error: ").append(problem.strip());
    var contextMark = e.getContextMark();
    if (e.getContext() != null && contextMark != null) {
      message.append(" (").append(e.getContext().strip())
          .append(" started at line ").append(contextMark.getLine() + 1)
          .append(", column ").append(contextMark.getColumn() + 1).append(')');
    }
    return message.toString();
  }

  private static String firstLine(String text) {
    if (text == null) {
      return "unreadable input";
    }
    int newline = text.indexOf('\n');
    return (newline < 0 ? text : text.substring(0, newline)).strip();
  }
}
