package io.mproxy.core.request;

/**
 * Who a client is, as far as classification can tell: the listener it came in on, the user it
 * authenticated as, the database it asked for and the application name it gave. Any may be null.
 */
public record TenantIdentity(String listener, String user, String database, String application) {

  public TenantIdentity withUser(String u) {
    return new TenantIdentity(listener, u, database, application);
  }

  public TenantIdentity withDatabase(String d) {
    return new TenantIdentity(listener, user, d, application);
  }

  public TenantIdentity withApplication(String a) {
    return new TenantIdentity(listener, user, database, a);
  }
}
