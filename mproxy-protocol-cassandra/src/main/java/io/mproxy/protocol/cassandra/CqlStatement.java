package io.mproxy.protocol.cassandra;

import io.mproxy.core.request.RequestKind;
import io.mproxy.core.sql.SqlDialect;
import io.mproxy.core.sql.SqlFingerprint;
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * What the proxy needs to know of one CQL statement text: its verb, how it is metered (SELECT →
 * read; INSERT, UPDATE, DELETE, BATCH → write; USE → session; DDL and role statements → admin),
 * its fingerprint (literals replaced by {@code ?}: strings, numbers, UUIDs, blobs, booleans) and
 * whether it reads the cluster topology tables the proxy rewrites.
 */
record CqlStatement(String verb, RequestKind kind, String fingerprint, Topology topology, String useKeyspace) {

  /** The system tables that describe the cluster to drivers. */
  enum Topology { NONE, LOCAL, PEERS }

  private static final Pattern UUID = Pattern.compile(
      "\\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\\b");
  private static final Pattern BLOB = Pattern.compile("\\b0[xX][0-9a-fA-F]*\\b");
  private static final Pattern BOOLEAN = Pattern.compile("(?i)(?<![\\w.\"])(true|false)(?![\\w\"])");
  private static final Pattern LOCAL = Pattern.compile("(?is)\\bfrom\\s+(\"?system\"?)\\s*\\.\\s*\"?local\"?(\\s|;|$)");
  private static final Pattern PEERS = Pattern.compile("(?is)\\bfrom\\s+(\"?system\"?)\\s*\\.\\s*\"?peers(_v2)?\"?(\\s|;|$)");
  private static final Pattern USE = Pattern.compile("(?is)^\\s*use\\s+(\"((?:[^\"]|\"\")+)\"|[A-Za-z0-9_]+)\\s*;?\\s*$");

  static CqlStatement of(String cql) {
    String verb = verb(cql);
    RequestKind kind = switch (verb) {
      case "SELECT" -> RequestKind.READ;
      case "INSERT", "UPDATE", "DELETE", "BEGIN", "APPLY" -> RequestKind.WRITE;
      case "USE" -> RequestKind.SESSION;
      case "CREATE", "ALTER", "DROP", "TRUNCATE", "GRANT", "REVOKE", "LIST" -> RequestKind.ADMIN;
      default -> RequestKind.READ;
    };
    Topology topology = Topology.NONE;
    if (kind == RequestKind.READ) {
      if (LOCAL.matcher(cql).find()) {
        topology = Topology.LOCAL;
      } else if (PEERS.matcher(cql).find()) {
        topology = Topology.PEERS;
      }
    }
    String useKeyspace = null;
    if (kind == RequestKind.SESSION) {
      var m = USE.matcher(cql);
      if (m.matches()) {
        useKeyspace = m.group(2) != null ? m.group(2).replace("\"\"", "\"") : m.group(1).toLowerCase(Locale.ROOT);
      }
    }
    return new CqlStatement(verb.equals("BEGIN") ? "BATCH" : verb, kind, fingerprint(cql), topology, useKeyspace);
  }

  /** The statement's shape: comments dropped, literals replaced, whitespace and case normalised. */
  static String fingerprint(String cql) {
    String s = UUID.matcher(cql).replaceAll("0");
    s = BLOB.matcher(s).replaceAll("0");
    s = BOOLEAN.matcher(s).replaceAll("0");
    return SqlFingerprint.of(SqlDialect.POSTGRES, s);
  }

  /** The first keyword after comments and whitespace, upper-case; empty when there is none. */
  static String verb(String cql) {
    int i = 0;
    int n = cql.length();
    while (i < n) {
      char c = cql.charAt(i);
      if (Character.isWhitespace(c) || c == '(') {
        i++;
      } else if (cql.startsWith("--", i) || cql.startsWith("//", i)) {
        int nl = cql.indexOf('\n', i);
        i = nl < 0 ? n : nl + 1;
      } else if (cql.startsWith("/*", i)) {
        int end = cql.indexOf("*/", i + 2);
        i = end < 0 ? n : end + 2;
      } else {
        break;
      }
    }
    int start = i;
    while (i < n && Character.isLetter(cql.charAt(i))) {
      i++;
    }
    return cql.substring(start, i).toUpperCase(Locale.ROOT);
  }
}
