package io.mproxy.server.metrics;

import io.micrometer.core.instrument.util.TimeUtils;
import io.mproxy.core.telemetry.PerThreadHistogram;
import io.prometheus.metrics.model.registry.MultiCollector;
import io.prometheus.metrics.model.snapshots.ClassicHistogramBuckets;
import io.prometheus.metrics.model.snapshots.Exemplars;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot.GaugeDataPointSnapshot;
import io.prometheus.metrics.model.snapshots.HistogramSnapshot;
import io.prometheus.metrics.model.snapshots.HistogramSnapshot.HistogramDataPointSnapshot;
import io.prometheus.metrics.model.snapshots.Labels;
import io.prometheus.metrics.model.snapshots.MetricMetadata;
import io.prometheus.metrics.model.snapshots.MetricSnapshots;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

/**
 * Publishes per-thread request-duration histograms ({@link PerThreadHistogram}) to the
 * Prometheus registry at scrape time as the very series a Micrometer timer with the same bucket
 * boundaries gave: {@code <name>_bucket{…,le}}, {@code _count}, {@code _sum} in seconds and the
 * gauge {@code <name>_max}. It exists because a Micrometer timer cannot be fed per-thread counts:
 * each of its recordings updates shared adders, a compare-and-set maximum and an atomic bucket
 * array on the event loop. Values are converted with Micrometer's own {@link TimeUtils}, so the
 * rendered numbers are the ones the timer rendered.
 */
final class RequestDurationCollector implements MultiCollector {

  private final String name;
  private final String help;
  private final List<Series> series = new CopyOnWriteArrayList<>();
  private final double[] upperBoundsSeconds;

  /**
   * @param name the Prometheus base name, e.g. {@code mproxy_request_duration_seconds}
   * @param boundsNanos the finite bucket bounds every series uses
   */
  RequestDurationCollector(String name, String help, long[] boundsNanos) {
    this.name = name;
    this.help = help;
    this.upperBoundsSeconds = new double[boundsNanos.length + 1];
    for (int i = 0; i < boundsNanos.length; i++) {
      upperBoundsSeconds[i] = seconds(boundsNanos[i]);
    }
    upperBoundsSeconds[boundsNanos.length] = Double.POSITIVE_INFINITY;
  }

  /** Adds one labelled series (label names and values in the same order). */
  void add(List<String> labelNames, List<String> labelValues, PerThreadHistogram histogram, long createdMillis) {
    series.add(new Series(Labels.of(labelNames, labelValues), histogram, createdMillis));
  }

  @Override
  public MetricSnapshots collect() {
    if (series.isEmpty()) {
      return new MetricSnapshots();
    }
    List<HistogramDataPointSnapshot> points = new ArrayList<>(series.size());
    List<GaugeDataPointSnapshot> maxima = new ArrayList<>(series.size());
    for (Series s : series) {
      PerThreadHistogram.Snapshot snap = s.histogram.snapshot();
      ClassicHistogramBuckets buckets = ClassicHistogramBuckets.of(upperBoundsSeconds, snap.bucketCounts());
      points.add(new HistogramDataPointSnapshot(buckets, seconds(snap.sumNanos()), s.labels, Exemplars.EMPTY,
          s.createdMillis));
      maxima.add(new GaugeDataPointSnapshot(seconds(snap.maxNanos()), s.labels, null));
    }
    return new MetricSnapshots(
        new HistogramSnapshot(new MetricMetadata(name, help, null), points),
        new GaugeSnapshot(new MetricMetadata(name + "_max", help, null), maxima));
  }

  private static double seconds(double nanos) {
    return TimeUtils.nanosToUnit(nanos, TimeUnit.SECONDS);
  }

  private record Series(Labels labels, PerThreadHistogram histogram, long createdMillis) {
  }
}
