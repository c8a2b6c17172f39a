package io.mproxy.core.hint;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.mproxy.core.classify.Classification;
import io.mproxy.core.config.Priority;
import io.mproxy.core.request.Request;
import io.mproxy.core.request.RequestKind;
import io.mproxy.core.request.TenantIdentity;
import io.mproxy.core.sql.SqlDialect;
import java.util.Set;
import org.junit.jupiter.api.Test;

class HintPolicyTest {

  private static final Set<String> GROUPS = Set.of("default", "batch");

  private static Request request(String sql) {
    Request r = new Request(new TenantIdentity("l", "u", "d", "a"), RequestKind.READ, "SELECT", "fp", 10,
        1_000_000L, true);
    return r.hints(HintParser.fromSql(SqlDialect.POSTGRES, sql));
  }

  @Test
  void appliesPriorityGroupAndTimeoutWhenAllowed() {
    Request r = request("/* mproxy: priority=low group=batch timeout_ms=300 */ SELECT 1");
    HintPolicy.Decision d = HintPolicy.apply(r, new Classification("default", Priority.HIGH, true, 0), GROUPS::contains);
    assertEquals(HintPolicy.Result.APPLIED, d.result());
    assertEquals("batch", d.classification().group());
    assertEquals(Priority.LOW, d.classification().priority());
    assertEquals(1_000_000L + 300_000_000L, r.deadlineNanos());
  }

  @Test
  void ignoresEverythingWithoutAllowHints() {
    Request r = request("/* mproxy: priority=high group=batch timeout_ms=300 */ SELECT 1");
    Classification c = new Classification("default", Priority.LOW, false, 0);
    HintPolicy.Decision d = HintPolicy.apply(r, c, GROUPS::contains);
    assertEquals(HintPolicy.Result.IGNORED, d.result());
    assertEquals(c, d.classification());
    assertEquals(0, r.deadlineNanos());
  }

  @Test
  void inShadowAHintIsCountedAsWouldApplyAndChangesNothing() {
    Request r = request("/* mproxy: priority=low group=batch timeout_ms=300 */ SELECT 1");
    Classification c = new Classification("default", Priority.HIGH, true, 0, true);
    HintPolicy.Decision d = HintPolicy.apply(r, c, GROUPS::contains);
    assertEquals(HintPolicy.Result.SHADOW, d.result());
    assertEquals(c, d.classification());
    assertEquals(0, r.deadlineNanos(), "no deadline in shadow");
    Request useless = request("/* mproxy: group=nope */ SELECT 1");
    assertEquals(HintPolicy.Result.IGNORED, HintPolicy.apply(useless, c, GROUPS::contains).result());
  }

  @Test
  void anUnknownGroupIsIgnoredButTheRestApplies() {
    Request r = request("/* mproxy: group=nope priority=high */ SELECT 1");
    HintPolicy.Decision d = HintPolicy.apply(r, new Classification("default", Priority.LOW, true, 0), GROUPS::contains);
    assertEquals(HintPolicy.Result.APPLIED, d.result());
    assertEquals("default", d.classification().group());
    assertEquals(Priority.HIGH, d.classification().priority());
  }

  @Test
  void onlyAnUnknownGroupIsIgnored() {
    Request r = request("/* mproxy: group=nope */ SELECT 1");
    assertEquals(HintPolicy.Result.IGNORED,
        HintPolicy.apply(r, new Classification("default", Priority.LOW, true, 0), GROUPS::contains).result());
  }

  @Test
  void noHintsIsNone() {
    Request r = request("SELECT 1");
    assertEquals(HintPolicy.Result.NONE,
        HintPolicy.apply(r, new Classification("default", Priority.LOW, true, 0), GROUPS::contains).result());
  }
}
