package io.mproxy.core.classify;

import io.mproxy.core.config.Priority;
import io.mproxy.core.config.ProxyConfig;
import io.mproxy.core.config.ResourceGroupConfig;
import io.mproxy.core.config.TenantRule;
import io.mproxy.core.request.TenantIdentity;
import java.util.List;
import java.util.Objects;

/**
 * Tenant → resource group: the first rule whose every given match key equals the tenant's
 * value wins; no match → group {@code default}. Immutable; rebuilt on reload.
 */
public final class TenantClassifier {

  private final List<TenantRule> rules;
  private final ProxyConfig config;

  public TenantClassifier(ProxyConfig config) {
    this.config = config;
    this.rules = config.tenants();
  }

  public Classification classify(TenantIdentity t) {
    for (int i = 0; i < rules.size(); i++) {
      TenantRule r = rules.get(i);
      if (matches(r, t)) {
        ResourceGroupConfig g = config.group(r.group());
        Priority p = r.priority() != null ? r.priority() : g.priority();
        return new Classification(g.name(), p, r.allowHints(), i, r.hintsShadow());
      }
    }
    ResourceGroupConfig d = config.group(ResourceGroupConfig.DEFAULT_GROUP);
    return new Classification(d.name(), d.priority(), false, -1);
  }

  private static boolean matches(TenantRule r, TenantIdentity t) {
    return keyMatches(r.listener(), t.listener())
        && keyMatches(r.user(), t.user())
        && keyMatches(r.database(), t.database())
        && keyMatches(r.application(), t.application());
  }

  private static boolean keyMatches(String wanted, String actual) {
    return wanted == null || Objects.equals(wanted, actual);
  }
}
