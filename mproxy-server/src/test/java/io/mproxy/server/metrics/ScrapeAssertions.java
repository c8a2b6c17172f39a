package io.mproxy.server.metrics;

import static org.junit.jupiter.api.Assertions.fail;

import java.util.Arrays;
import java.util.stream.Collectors;

/** Checks on Prometheus text: whole sample lines, exactly as scraped. */
public final class ScrapeAssertions {

  private ScrapeAssertions() {
  }

  /** Fails unless {@code scrape} has the line {@code sample} (name, labels in order, value). */
  public static void assertSample(String scrape, String sample) {
    if (scrape.lines().noneMatch(sample::equals)) {
      fail("no line '" + sample + "' in the scrape; lines of that metric:\n" + linesOf(scrape, metricOf(sample)));
    }
  }

  /** Fails when any sample line of {@code scrape} starts with {@code prefix}. */
  public static void assertNoSample(String scrape, String prefix) {
    String found = scrape.lines().filter(l -> l.startsWith(prefix)).collect(Collectors.joining("\n"));
    if (!found.isEmpty()) {
      fail("unexpected lines starting with '" + prefix + "':\n" + found);
    }
  }

  /** The sample lines of one metric family, for failure messages. */
  public static String linesOf(String scrape, String metric) {
    return Arrays.stream(scrape.split("\n"))
        .filter(l -> l.startsWith(metric))
        .collect(Collectors.joining("\n"));
  }

  private static String metricOf(String sample) {
    int brace = sample.indexOf('{');
    int space = sample.indexOf(' ');
    int end = brace >= 0 ? brace : space >= 0 ? space : sample.length();
    return sample.substring(0, end);
  }
}
