package io.mproxy.server.metrics;

import static io.mproxy.server.metrics.ScrapeAssertions.assertNoSample;
import static io.mproxy.server.metrics.ScrapeAssertions.assertSample;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;

import io.micrometer.core.instrument.Gauge;
import io.mproxy.core.admission.Ticket;
import io.mproxy.core.config.Priority;
import io.mproxy.core.config.ResourceGroupConfig;
import io.mproxy.core.config.ResourceGroupConfig.OnExhausted;
import io.mproxy.core.request.Outcome;
import io.mproxy.core.request.RequestKind;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Gauges follow the running proxy, including the series that reloads add and remove. */
class RuntimeGaugesTest {

  private final TestRuntime rt = new TestRuntime();
  private final RuntimeGauges gauges = new RuntimeGauges(rt, rt.registry);

  @Test
  void contractGaugesReadTheLiveState() {
    Ticket inflight = rt.admit("app", RequestKind.READ, "GET ?", 16).ticket;
    inflight.dispatched(rt.primary());
    rt.gateway.groups().get("default").share(250);
    gauges.refresh();
    String s = rt.registry.scrape();

    assertSample(s, "mproxy_backend_inflight{backend=\"127.0.0.1:7001\",cluster=\"c1\"} 1.0");
    assertSample(s, "mproxy_backend_inflight{backend=\"127.0.0.1:7002\",cluster=\"c1\"} 0.0");
    for (String state : List.of("idle", "active", "opening")) {
      assertSample(s, "mproxy_pool_connections{backend=\"127.0.0.1:7001\",cluster=\"c1\",state=\"" + state + "\"} 0.0");
    }
    assertSample(s, "mproxy_client_connections{listener=\"l1\"} 3.0");
    assertSample(s, "mproxy_ru_share_per_sec{group=\"default\"} 250.0");
    assertSample(s, "mproxy_ru_share_per_sec{group=\"batch\"} 1.0");
    assertSample(s, "mproxy_cluster_members 1.0");
    assertSample(s, "mproxy_backend_up{backend=\"127.0.0.1:7001\",cluster=\"c1\"} 1.0");
    assertSample(s, "mproxy_group_inflight{group=\"default\"} 1.0");
    assertSample(s, "mproxy_ru_limit_per_sec{group=\"default\"} 1000.0");

    // Values are read at scrape time, without another refresh.
    rt.clock.advanceMillis(1);
    inflight.complete(Outcome.OK, 0);
    rt.primary().markDown("connection refused", 250_000_000L, 10_000_000_000L);
    rt.members(List.of("node-a", "node-b", "node-c"));
    s = rt.registry.scrape();
    assertSample(s, "mproxy_backend_inflight{backend=\"127.0.0.1:7001\",cluster=\"c1\"} 0.0");
    assertSample(s, "mproxy_backend_up{backend=\"127.0.0.1:7001\",cluster=\"c1\"} 0.0");
    assertSample(s, "mproxy_cluster_members 3.0");
  }

  @Test
  void queueAndTokensOfAGroup() {
    rt.admit("slow", RequestKind.READ, "GET ?", 16);
    rt.admit("slow", RequestKind.READ, "GET ?", 16);
    gauges.refresh();
    String s = rt.registry.scrape();
    assertSample(s, "mproxy_queue_depth{group=\"slow\"} 1.0");
    assertSample(s, "mproxy_ru_tokens{group=\"slow\"} -1.0");
  }

  @Test
  void reloadAddsAndRemovesSeries() {
    gauges.refresh();
    Map<String, ResourceGroupConfig> groups = TestRuntime.groups();
    groups.remove("batch");
    groups.put("etl", new ResourceGroupConfig("etl", 50, 100, Priority.LOW, OnExhausted.REJECT, 0, 0, 100));
    rt.gateway.reconfigure(TestRuntime.config(groups), 2);
    rt.clusters(List.of(rt.cluster(TestRuntime.clusterConfig("c2", 8001, 8002))));
    rt.listeners(List.of(new TestRuntime.Listener("l2", "redis", "127.0.0.1:6381", "c2", 7)));
    gauges.refresh();
    String s = rt.registry.scrape();

    assertSample(s, "mproxy_ru_share_per_sec{group=\"etl\"} 50.0");
    assertNoSample(s, "mproxy_ru_share_per_sec{group=\"batch\"}");
    assertNoSample(s, "mproxy_ru_tokens{group=\"batch\"}");
    assertSample(s, "mproxy_backend_inflight{backend=\"127.0.0.1:8001\",cluster=\"c2\"} 0.0");
    assertSample(s, "mproxy_pool_connections{backend=\"127.0.0.1:8002\",cluster=\"c2\",state=\"idle\"} 0.0");
    assertNoSample(s, "mproxy_backend_inflight{backend=\"127.0.0.1:7001\"");
    assertNoSample(s, "mproxy_pool_connections{backend=\"127.0.0.1:7001\"");
    assertSample(s, "mproxy_client_connections{listener=\"l2\"} 7.0");
    assertNoSample(s, "mproxy_client_connections{listener=\"l1\"}");
  }

  @Test
  void unchangedStateRegistersNothingNew() {
    gauges.refresh();
    Gauge before = rt.registry.get("mproxy_backend_inflight").tags("backend", "127.0.0.1:7001").gauge();
    gauges.refresh();
    gauges.refresh();
    assertSame(before, rt.registry.get("mproxy_backend_inflight").tags("backend", "127.0.0.1:7001").gauge());

    // A rebuilt cluster with the same name and backends gets fresh series reading the new objects.
    rt.clusters(List.of(rt.cluster(TestRuntime.clusterConfig("c1", 7001, 7002))));
    gauges.refresh();
    assertNotSame(before, rt.registry.get("mproxy_backend_inflight").tags("backend", "127.0.0.1:7001").gauge());
  }
}
