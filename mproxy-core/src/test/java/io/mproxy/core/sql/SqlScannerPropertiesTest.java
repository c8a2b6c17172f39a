package io.mproxy.core.sql;

import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.StringLength;

/** The scanner, fingerprint and classifier terminate and never throw, whatever the input. */
class SqlScannerPropertiesTest {

  @Provide
  Arbitrary<String> sqlish() {
    return Arbitraries.strings()
        .withChars("'\"`$-/*#?@:;,.()[]{}\\!+=<>|&^%~ \n\t01239eExXbBnNuU_aSELCTIN")
        .withChars('\u00ad', '\u00e9', '\ud83d', '\ude00', '\u0000')
        .ofMinLength(0).ofMaxLength(200);
  }

  @Property(tries = 2000)
  void scannerTerminatesWithinBoundsOnSqlishInput(@ForAll("sqlish") String sql) {
    for (SqlDialect d : SqlDialect.values()) {
      checkScan(d, sql);
    }
  }

  @Property(tries = 500)
  void scannerTerminatesWithinBoundsOnAnyString(@ForAll @StringLength(max = 300) String sql) {
    for (SqlDialect d : SqlDialect.values()) {
      checkScan(d, sql);
    }
  }

  @Property(tries = 1000)
  void fingerprintAndClassifierNeverThrow(@ForAll("sqlish") String sql) {
    for (SqlDialect d : SqlDialect.values()) {
      String fp = SqlFingerprint.of(d, sql);
      if (fp.length() > SqlFingerprint.MAX_LENGTH + SqlFingerprint.TRUNCATION_MARKER.length()) {
        throw new AssertionError("fingerprint too long: " + fp.length());
      }
      SqlClassification c = SqlClassifier.classify(d, sql);
      if (c.kind() == null || c.verb() == null || c.statementCount() < 0) {
        throw new AssertionError("incomplete classification " + c);
      }
    }
  }

  private static void checkScan(SqlDialect d, String sql) {
    SqlScanner s = new SqlScanner(d, sql);
    int tokens = 0;
    int lastEnd = 0;
    while (s.next()) {
      if (s.start() < lastEnd || s.end() <= s.start() || s.end() > sql.length()) {
        throw new AssertionError(d + ": bad token [" + s.start() + "," + s.end() + ") after " + lastEnd);
      }
      lastEnd = s.end();
      if (++tokens > sql.length()) {
        throw new AssertionError(d + ": more tokens than characters");
      }
    }
  }
}
