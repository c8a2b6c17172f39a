package io.mproxy.server.admin;

import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mproxy.server.demo.Demo;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The dashboard in a real browser (headless Debian chromium) against a running proxy with
 * traffic (the demo: H2's PG server, mproxy, three tenants): the page loads from the jar's
 * resources, shows every resource group of the proxy with its counters, the backend and the top
 * fingerprints, keeps polling, and a later load shows the counters moved.
 */
class DashboardChromiumTest {

  private static final long BUDGET_MILLIS = 5_000;

  @Test
  void showsTheGroupsOfARunningProxyAndUpdates() throws Exception {
    try (Demo demo = Demo.start(0, 0, 7)) {
      String first = HeadlessChromium.dumpDom(demo.dashboardUrl(), BUDGET_MILLIS);
      for (String group : new String[] {"default", "interactive", "batch", "adhoc"}) {
        assertTrue(first.contains("data-group=\"" + group + "\""), "group row " + group + " missing:\n" + first);
      }
      int refreshes = Integer.parseInt(attr(first, "data-refreshes"));
      assertTrue(refreshes >= 2, "the page refreshed " + refreshes + " times in " + BUDGET_MILLIS + " ms:\n" + first);
      assertTrue(first.contains("127.0.0.1:") && first.contains(">up<"), "backend row with health up:\n" + first);
      assertTrue(first.contains("SELECT"), "top fingerprints missing:\n" + first);
      String admittedBefore = cell(first, "interactive", "admitted");

      String second = HeadlessChromium.dumpDom(demo.dashboardUrl(), BUDGET_MILLIS);
      String admittedAfter = cell(second, "interactive", "admitted");
      assertNotEquals(admittedBefore, admittedAfter, "interactive's admitted count did not move:\n" + second);
      String batchRow = row(second, "batch");
      assertTrue(batchRow.contains("queue_full") || batchRow.contains("ru_limit"),
          "batch's shed by reason missing:\n" + batchRow);
    }
  }

  private static String attr(String dom, String name) {
    Matcher m = Pattern.compile(name + "=\"([^\"]*)\"").matcher(dom);
    assertTrue(m.find(), name + " missing:\n" + dom);
    return m.group(1);
  }

  private static String row(String dom, String group) {
    Matcher row = Pattern.compile("<tr data-group=\"" + group + "\">(.*?)</tr>", Pattern.DOTALL).matcher(dom);
    assertTrue(row.find(), "row " + group + " missing:\n" + dom);
    return row.group(1);
  }

  /** The text of the cell with class {@code cls} in the row of {@code group}. */
  private static String cell(String dom, String group, String cls) {
    String row = row(dom, group);
    Matcher c = Pattern.compile("<td class=\"num " + cls + "[^\"]*\">([^<]*)</td>").matcher(row);
    assertTrue(c.find(), cls + " cell missing in " + row);
    return c.group(1);
  }
}
