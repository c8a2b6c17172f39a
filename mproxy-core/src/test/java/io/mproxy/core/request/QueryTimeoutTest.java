package io.mproxy.core.request;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mproxy.core.hint.QueryHints;
import io.mproxy.core.time.ManualClock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class QueryTimeoutTest {

  private static final ManualClock AT_5000 = new ManualClock(5_000L, 0);

  private static Request request() {
    return new Request(new TenantIdentity("l", "u", "d", "a"), RequestKind.READ, "GET", "fp", 10, 1_000L, true);
  }

  @Test
  void absentOrZeroMeansNoDeadline() {
    List<String> problems = new ArrayList<>();
    assertFalse(QueryTimeout.parse(Map.of(), problems).enabled());
    assertFalse(QueryTimeout.parse(Map.of("query_timeout_ms", 0), problems).enabled());
    assertEquals(List.of(), problems);
    assertEquals(0, QueryTimeout.NONE.deadlineNanos(request(), AT_5000, 0));
  }

  @Test
  void badValuesAreProblemsAndMeanNone() {
    for (Object bad : List.of(-1, 1.5, "500", (long) Integer.MAX_VALUE + 1)) {
      List<String> problems = new ArrayList<>();
      QueryTimeout t = QueryTimeout.parse(Map.of("query_timeout_ms", bad), problems);
      assertFalse(t.enabled(), String.valueOf(bad));
      assertEquals(1, problems.size(), String.valueOf(bad));
      assertTrue(problems.get(0).startsWith("query_timeout_ms: " + bad), problems.get(0));
    }
  }

  @Test
  void aRequestWithoutHintGetsTheListenerDeadlineFromNowPlusWhatItWaitsByDesign() {
    QueryTimeout t = QueryTimeout.parse(Map.of("query_timeout_ms", 250), new ArrayList<>());
    Request r = request();
    assertEquals(5_000L + 250_000_000L, t.deadlineNanos(r, AT_5000, 0));
    assertEquals(5_000L + 1_250_000_000L, t.deadlineNanos(r, AT_5000, 1_000));
    assertEquals("query_timeout_ms=250", t.setting(r));
    assertFalse(QueryTimeout.hinted(r));
  }

  @Test
  void aHonouredHintsTimeoutWinsEvenWhenLonger() {
    QueryTimeout t = QueryTimeout.parse(Map.of("query_timeout_ms", 250), new ArrayList<>());
    Request r = request().hints(new QueryHints(null, null, 900, 0, 0));
    r.deadlineNanos(1_000L + 900_000_000L);
    assertEquals(1_000L + 900_000_000L, t.deadlineNanos(r, AT_5000, 0));
    assertEquals("timeout_ms=900", t.setting(r));
    assertTrue(QueryTimeout.hinted(r));
  }
}
