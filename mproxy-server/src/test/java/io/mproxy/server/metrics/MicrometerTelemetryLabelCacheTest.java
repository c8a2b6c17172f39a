package io.mproxy.server.metrics;

import static io.mproxy.server.metrics.ScrapeAssertions.assertSample;

import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.mproxy.core.request.Outcome;
import java.lang.ref.Reference;
import org.junit.jupiter.api.Test;

/**
 * The meters of a label set are found again by the identity of its strings: many label sets
 * sharing the cache's few slots, and equal labels in other string objects, must still land in
 * exactly their own series.
 */
class MicrometerTelemetryLabelCacheTest {

  @Test
  void manyLabelSetsInterleavedEachCountOnlyTheirOwn() {
    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    MicrometerTelemetry telemetry = new MicrometerTelemetry(registry);
    int groups = 150;
    String[] names = new String[groups];
    for (int g = 0; g < groups; g++) {
      names[g] = "group-" + g;
    }
    String[] listeners = {"l1", "l2"};
    String[] protocols = {"redis", "postgres"};
    for (int round = 0; round < groups; round++) {
      for (int g = round; g < groups; g++) {
        // group g is recorded g + 1 times on each listener/protocol; every other round with a
        // fresh but equal string, as a reloaded configuration would give
        String group = round % 2 == 0 ? names[g] : new String(names[g].toCharArray());
        for (int l = 0; l < listeners.length; l++) {
          telemetry.requestCompleted(listeners[l], protocols[l], group, Outcome.OK, 1_000);
        }
        telemetry.ruCharged(group, false, 0.5);
      }
    }
    telemetry.requestCompleted(null, "redis", null, Outcome.ERROR, 1_000);
    String s = registry.scrape();
    for (int g = 0; g < groups; g++) {
      for (int l = 0; l < listeners.length; l++) {
        assertSample(s, "mproxy_requests_total{group=\"group-" + g + "\",listener=\"" + listeners[l]
            + "\",outcome=\"ok\",protocol=\"" + protocols[l] + "\"} " + (g + 1) + ".0");
      }
      assertSample(s, "mproxy_ru_total{group=\"group-" + g + "\",kind=\"read\"} " + (g + 1) * 0.5);
    }
    assertSample(s, "mproxy_requests_total{group=\"\",listener=\"\",outcome=\"error\",protocol=\"redis\"} 1.0");
    // the counters hold their meters weakly: the telemetry (which holds them) must outlive the scrape
    Reference.reachabilityFence(telemetry);
  }
}
