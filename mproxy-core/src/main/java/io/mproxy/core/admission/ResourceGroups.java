package io.mproxy.core.admission;

import io.mproxy.core.config.ResourceGroupConfig;
import io.mproxy.core.time.Clock;
import java.util.Collection;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * All live resource groups. A reload reconfigures existing groups in place (keeping their
 * balance, so a reload neither refills nor empties a bucket), adds new ones and drops removed ones.
 */
public final class ResourceGroups {

  private final Clock clock;
  private final Map<String, ResourceGroup> groups = new ConcurrentHashMap<>();

  public ResourceGroups(Clock clock, Map<String, ResourceGroupConfig> initial) {
    this.clock = clock;
    apply(initial);
  }

  /** Applies a new set of group configs; returns the names of groups that changed. */
  public synchronized java.util.Set<String> apply(Map<String, ResourceGroupConfig> configs) {
    java.util.Set<String> changed = new java.util.TreeSet<>();
    for (ResourceGroupConfig c : configs.values()) {
      ResourceGroup existing = groups.get(c.name());
      if (existing == null) {
        groups.put(c.name(), new ResourceGroup(c, clock));
        changed.add(c.name());
      } else if (!existing.config().equals(c)) {
        existing.reconfigure(c);
        changed.add(c.name());
      }
    }
    groups.keySet().removeIf(name -> {
      boolean implicitDefault = name.equals(ResourceGroupConfig.DEFAULT_GROUP)
          && !configs.containsKey(name) && groups.get(name).config().equals(ResourceGroupConfig.unlimitedDefault());
      boolean gone = !configs.containsKey(name) && !implicitDefault;
      if (gone) {
        changed.add(name);
      }
      return gone;
    });
    if (!groups.containsKey(ResourceGroupConfig.DEFAULT_GROUP)) {
      groups.put(ResourceGroupConfig.DEFAULT_GROUP,
          new ResourceGroup(ResourceGroupConfig.unlimitedDefault(), clock));
    }
    return changed;
  }

  /** The named group, or the default group when that name is unknown. */
  public ResourceGroup get(String name) {
    ResourceGroup g = name == null ? null : groups.get(name);
    return g != null ? g : groups.get(ResourceGroupConfig.DEFAULT_GROUP);
  }

  /** Whether a group of that name is configured (hints may only name existing groups). */
  public boolean exists(String name) {
    return name != null && groups.containsKey(name);
  }

  public Collection<ResourceGroup> all() {
    return groups.values();
  }

  /** Charges every group for the latency its requests accrued in flight since the last tick. */
  public void tick() {
    tick(clock.nanoTime());
  }

  void tick(long now) {
    for (ResourceGroup g : groups.values()) {
      g.tick();
      Codel c = g.codel();
      if (c != null) {
        c.tick(now);
      }
    }
  }
}
