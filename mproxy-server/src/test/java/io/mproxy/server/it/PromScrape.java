package io.mproxy.server.it;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One scrape of {@code /metrics} in the Prometheus text format, parsed into samples so tests
 * can ask for a series by name and labels instead of matching text.
 */
public final class PromScrape {

  /** One sample line: {@code name{labels} value}. */
  public record Sample(String name, Map<String, String> labels, double value) {
    boolean matches(Map<String, String> wanted) {
      for (Map.Entry<String, String> e : wanted.entrySet()) {
        if (!e.getValue().equals(labels.get(e.getKey()))) {
          return false;
        }
      }
      return true;
    }
  }

  private final String text;
  private final List<Sample> samples;

  private PromScrape(String text, List<Sample> samples) {
    this.text = text;
    this.samples = List.copyOf(samples);
  }

  public static PromScrape parse(String text) {
    List<Sample> samples = new ArrayList<>();
    for (String line : text.split("\n")) {
      line = line.strip();
      if (line.isEmpty() || line.startsWith("#")) {
        continue;
      }
      samples.add(sample(line));
    }
    return new PromScrape(text, samples);
  }

  /** Every sample named exactly {@code name}. */
  public List<Sample> samples(String name) {
    return samples.stream().filter(s -> s.name().equals(name)).toList();
  }

  /**
   * The sum of the samples named {@code name} whose labels include {@code labels} (given as
   * key, value, key, value…); 0 when there are none.
   */
  public double sum(String name, String... labels) {
    Map<String, String> wanted = labelMap(labels);
    return samples(name).stream().filter(s -> s.matches(wanted)).mapToDouble(Sample::value).sum();
  }

  /** The raw text, for assertion messages. */
  public String text() {
    return text;
  }

  @Override
  public String toString() {
    return text;
  }

  static Map<String, String> labelMap(String... labels) {
    if (labels.length % 2 != 0) {
      throw new IllegalArgumentException("labels come in key, value pairs");
    }
    Map<String, String> m = new LinkedHashMap<>();
    for (int i = 0; i < labels.length; i += 2) {
      m.put(labels[i], labels[i + 1]);
    }
    return m;
  }

  private static Sample sample(String line) {
    int brace = line.indexOf('{');
    int space = line.indexOf(' ');
    if (brace < 0 || (space >= 0 && space < brace)) {
      String[] parts = line.split("\\s+");
      return new Sample(parts[0], Map.of(), value(parts[1], line));
    }
    String name = line.substring(0, brace);
    Map<String, String> labels = new LinkedHashMap<>();
    int i = brace + 1;
    while (line.charAt(i) != '}') {
      int eq = line.indexOf('=', i);
      String key = line.substring(i, eq).strip();
      if (line.charAt(eq + 1) != '"') {
        throw new IllegalArgumentException("unquoted label value in: " + line);
      }
      StringBuilder v = new StringBuilder();
      int j = eq + 2;
      for (; line.charAt(j) != '"'; j++) {
        char c = line.charAt(j);
        if (c == '\\') {
          char next = line.charAt(++j);
          v.append(next == 'n' ? '\n' : next);
        } else {
          v.append(c);
        }
      }
      labels.put(key, v.toString());
      i = j + 1;
      if (line.charAt(i) == ',') {
        i++;
      }
    }
    String rest = line.substring(i + 1).strip().split("\\s+")[0];
    return new Sample(name, labels, value(rest, line));
  }

  private static double value(String v, String line) {
    switch (v) {
      case "+Inf":
        return Double.POSITIVE_INFINITY;
      case "-Inf":
        return Double.NEGATIVE_INFINITY;
      case "NaN":
        return Double.NaN;
      default:
        try {
          return Double.parseDouble(v);
        } catch (NumberFormatException e) {
          throw new IllegalArgumentException("bad sample value in: " + line, e);
        }
    }
  }
}
