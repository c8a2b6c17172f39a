package io.mproxy.core.config;

/** What mproxy logs in to a cluster's backends with; user may be null (Redis without ACL users). */
public record Credentials(String user, String password) {

  public static final Credentials NONE = new Credentials(null, null);

  public boolean present() {
    return password != null;
  }

  @Override
  public String toString() {
    return "Credentials[user=" + user + ", password=<redacted>]";
  }
}
