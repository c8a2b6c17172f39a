package io.mproxy.core.classify;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.mproxy.core.config.AdminConfig;
import io.mproxy.core.config.Priority;
import io.mproxy.core.config.ProxyConfig;
import io.mproxy.core.config.ResourceGroupConfig;
import io.mproxy.core.config.ResourceGroupConfig.OnExhausted;
import io.mproxy.core.config.ServerSettings;
import io.mproxy.core.config.TenantRule;
import io.mproxy.core.request.TenantIdentity;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class TenantClassifierTest {

  private static final TenantIdentity ALICE = new TenantIdentity("web", "alice", "shop", "checkout");

  @Test
  void firstMatchingRuleWinsEvenWhenALaterOneIsMoreSpecific() {
    TenantClassifier c = classifier(List.of(
        rule(null, "alice", null, "batch", null),
        rule("web", "alice", "shop", "gold", Priority.HIGH)),
        group("batch", Priority.LOW), group("gold", Priority.HIGH));
    assertEquals(new Classification("batch", Priority.LOW, false, 0), c.classify(ALICE));
  }

  @Test
  void aRulePriorityOverridesTheGroupDefault() {
    TenantClassifier c = classifier(List.of(rule(null, "alice", null, "batch", Priority.HIGH)),
        group("batch", Priority.LOW));
    assertEquals(Priority.HIGH, c.classify(ALICE).priority());
  }

  @Test
  void nullKeysMatchAnythingIncludingAMissingValue() {
    TenantClassifier c = classifier(List.of(rule(null, null, null, "all", null)), group("all", Priority.LOW));
    assertEquals("all", c.classify(new TenantIdentity(null, null, null, null)).group());
  }

  @Test
  void aGivenKeyDoesNotMatchAMissingValue() {
    TenantClassifier c = classifier(List.of(rule(null, "alice", null, "gold", null)), group("gold", Priority.HIGH));
    assertEquals(ResourceGroupConfig.DEFAULT_GROUP, c.classify(ALICE.withUser(null)).group());
  }

  @Test
  void noMatchGivesTheDefaultGroupWithItsPriorityAndNoHints() {
    TenantClassifier c = classifier(List.of(rule("admin", null, null, "gold", null)),
        group("gold", Priority.HIGH), group(ResourceGroupConfig.DEFAULT_GROUP, Priority.LOW));
    assertEquals(new Classification(ResourceGroupConfig.DEFAULT_GROUP, Priority.LOW, false, -1),
        c.classify(ALICE));
  }

  @Test
  void aRuleNamingAnUnknownGroupLandsInTheDefaultGroup() {
    TenantClassifier c = classifier(List.of(rule(null, "alice", null, "ghost", null)));
    Classification got = c.classify(ALICE);
    assertEquals(ResourceGroupConfig.DEFAULT_GROUP, got.group());
    assertEquals(0, got.ruleIndex());
  }

  private static TenantRule rule(String listener, String user, String db, String group, Priority p) {
    return new TenantRule(listener, user, db, null, group, p, group.equals("gold"));
  }

  private static ResourceGroupConfig group(String name, Priority p) {
    return new ResourceGroupConfig(name, 100, 100, p, OnExhausted.REJECT, 0, 0, 100);
  }

  private static TenantClassifier classifier(List<TenantRule> rules, ResourceGroupConfig... groups) {
    Map<String, ResourceGroupConfig> byName = new java.util.HashMap<>();
    for (ResourceGroupConfig g : groups) {
      byName.put(g.name(), g);
    }
    return new TenantClassifier(new ProxyConfig(ServerSettings.DEFAULT, AdminConfig.DEFAULT, List.of(),
        Map.of(), byName, rules));
  }
}
