package io.mproxy.server.usage;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.List;
import java.util.Locale;

/**
 * {@code /api/usage} as JSON (one array per dimension) or CSV (one row per name, for
 * spreadsheets and billing imports). Field and column names are part of the admin contract.
 */
public final class UsageDocument {

  /** The CSV header line. */
  public static final String CSV_HEADER = "window_start_unix_ms,window_end_unix_ms,dimension,name,ru,requests";

  private UsageDocument() {
  }

  public static ObjectNode json(ObjectMapper mapper, UsageMeter.Report r) {
    ObjectNode root = mapper.createObjectNode();
    root.put("window_start_unix_ms", r.fromMillis());
    root.put("window_end_unix_ms", r.toMillis());
    root.put("ru_total", round(r.totalRu()));
    root.put("requests_total", r.totalRequests());
    rows(root.putArray("tenants"), "tenant", r.rows().get(UsageMeter.Dimension.TENANT));
    rows(root.putArray("groups"), "group", r.rows().get(UsageMeter.Dimension.GROUP));
    rows(root.putArray("fingerprints"), "fingerprint", r.rows().get(UsageMeter.Dimension.FINGERPRINT));
    return root;
  }

  private static void rows(ArrayNode out, String field, List<UsageMeter.Row> rows) {
    for (UsageMeter.Row row : rows) {
      out.addObject().put(field, row.name()).put("ru", round(row.ru())).put("requests", row.requests());
    }
  }

  public static String csv(UsageMeter.Report r) {
    StringBuilder b = new StringBuilder(CSV_HEADER).append('\n');
    for (UsageMeter.Dimension d : UsageMeter.Dimension.values()) {
      for (UsageMeter.Row row : r.rows().get(d)) {
        b.append(r.fromMillis()).append(',').append(r.toMillis()).append(',')
            .append(d.name().toLowerCase(Locale.ROOT)).append(',').append(csvField(row.name())).append(',')
            .append(round(row.ru())).append(',').append(row.requests()).append('\n');
      }
    }
    return b.toString();
  }

  /**
   * RFC 4180: quoted when it holds a comma, quote or line break; quotes doubled. A name that a
   * spreadsheet would run as a formula (it starts with {@code = + - @}; fingerprints come from
   * client SQL) is prefixed with {@code '}.
   */
  static String csvField(String raw) {
    String s = !raw.isEmpty() && "=+-@".indexOf(raw.charAt(0)) >= 0 ? "'" + raw : raw;
    if (s.indexOf(',') < 0 && s.indexOf('"') < 0 && s.indexOf('\n') < 0 && s.indexOf('\r') < 0) {
      return s;
    }
    return '"' + s.replace("\"", "\"\"") + '"';
  }

  static double round(double v) {
    return Double.isFinite(v) ? Math.round(v * 1000) / 1000.0 : 0;
  }
}
