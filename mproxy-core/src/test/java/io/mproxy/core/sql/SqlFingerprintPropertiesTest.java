package io.mproxy.core.sql;

import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

/** A statement's fingerprint does not depend on the literal values in it. */
class SqlFingerprintPropertiesTest {

  /** Statements with holes: {N} takes a number, {S} a string, {L} a parenthesized list of both. */
  private static final List<String> TEMPLATES = List.of(
      "SELECT * FROM orders WHERE id = {N} AND status = {S}",
      "select a, b from t where a > {N} and b like {S} limit {N}",
      "UPDATE accounts SET balance = balance - {N} WHERE id = {N}",
      "INSERT INTO t (a, b) VALUES ({N}, {S}), ({N}, {S})",
      "DELETE FROM t WHERE id IN {L} AND x <> {S}",
      "SELECT x FROM t WHERE y IN {L} /*+ hint */ ORDER BY z DESC",
      "SELECT {N} + {N}, {N} * {N}, ({N}), f({S}, {N})");

  /** A template and one filling of it. */
  record Filled(String template, String sql) {}

  @Provide
  Arbitrary<Filled> postgresStatement() {
    return Arbitraries.of(TEMPLATES).flatMap(t -> fill(t, SqlDialect.POSTGRES));
  }

  @Provide
  Arbitrary<Filled> mysqlStatement() {
    return Arbitraries.of(TEMPLATES).flatMap(t -> fill(t, SqlDialect.MYSQL));
  }

  @Property(tries = 300)
  void postgresFingerprintIgnoresLiteralValues(@ForAll("postgresStatement") Filled f) {
    check(SqlDialect.POSTGRES, f);
  }

  @Property(tries = 300)
  void mysqlFingerprintIgnoresLiteralValues(@ForAll("mysqlStatement") Filled f) {
    check(SqlDialect.MYSQL, f);
  }

  /** Equal to the fingerprint of the same template filled with fixed literals, and literal-free. */
  private static void check(SqlDialect dialect, Filled f) {
    String canonical = f.template().replace("{N}", "0").replace("{S}", "'s'").replace("{L}", "(1)");
    String expected = SqlFingerprint.of(dialect, canonical);
    String actual = SqlFingerprint.of(dialect, f.sql());
    if (!expected.equals(actual)) {
      throw new AssertionError("fingerprint of\n  " + f.sql() + "\nis\n  " + actual + "\nnot\n  " + expected);
    }
    if (actual.contains("'") || actual.matches("(?s).*\\d.*")) {
      throw new AssertionError("a literal leaked into " + actual);
    }
  }

  private static Arbitrary<String> number() {
    return Arbitraries.oneOf(
        Arbitraries.longs().map(l -> Long.toString(l)),
        Arbitraries.doubles().between(-1e9, 1e9).map(d -> Double.toString(d).replace("E", "e")),
        Arbitraries.integers().between(0, 1000).map(i -> i + ".5"));
  }

  private static Arbitrary<String> string(SqlDialect dialect) {
    Arbitrary<String> raw = Arbitraries.strings().ofMaxLength(30);
    if (dialect == SqlDialect.MYSQL) {
      return raw.map(s -> "'" + s.replace("\\", "\\\\").replace("'", "\\'") + "'");
    }
    return raw.map(s -> "'" + s.replace("'", "''") + "'");
  }

  private static Arbitrary<Filled> fill(String template, SqlDialect dialect) {
    Arbitrary<String> list = Arbitraries.oneOf(number(), string(dialect)).list()
        .ofMinSize(1).ofMaxSize(20).map(items -> "(" + String.join(", ", items) + ")");
    return Combinators.combine(number().list().ofSize(8), string(dialect).list().ofSize(8),
        list.list().ofSize(8)).as((n, s, l) -> {
          StringBuilder out = new StringBuilder();
          int[] used = new int[3];
          for (int i = 0; i < template.length(); i++) {
            char c = template.charAt(i);
            if (c == '{') {
              char hole = template.charAt(i + 1);
              out.append(switch (hole) {
                case 'N' -> n.get(used[0]++);
                case 'S' -> s.get(used[1]++);
                default -> l.get(used[2]++);
              });
              i += 2;
            } else {
              out.append(c);
            }
          }
          return new Filled(template, out.toString());
        });
  }
}
