package io.mproxy.server.metrics;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.MultiGauge;
import io.micrometer.core.instrument.Tags;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.function.ToDoubleFunction;

/**
 * One gauge name whose label sets follow the running configuration (backends, groups,
 * listeners come and go on reload). A {@link MultiGauge} underneath; {@link #update} replaces its
 * rows only when the set of rows changed, so the steady state re-registers nothing per scrape.
 * Not thread-safe: {@link RuntimeGauges} serialises calls.
 */
final class GaugeFamily {

  private final MultiGauge gauge;
  private Set<Row<?>> current = Set.of();

  GaugeFamily(MeterRegistry registry, String name, String description) {
    this.gauge = MultiGauge.builder(name).description(description).register(registry);
  }

  /** Makes {@code rows} the family's series; rows no longer listed are removed. */
  void update(List<Row<?>> rows) {
    Set<Row<?>> next = new HashSet<>(rows);
    if (next.equals(current)) {
      return;
    }
    List<MultiGauge.Row<?>> gaugeRows = new ArrayList<>(rows.size());
    for (Row<?> r : rows) {
      gaugeRows.add(r.toGaugeRow());
    }
    gauge.register(gaugeRows, true);
    current = next;
  }

  static <T> Row<T> row(Tags tags, T source, ToDoubleFunction<T> value) {
    return new Row<>(tags, source, value);
  }

  /**
   * One series: its tags and the live object its value is read from at scrape time. Two rows are
   * the same when their tags are equal and their sources are equal (identity for live objects,
   * component equality for records), so a rebuilt cluster or group replaces its series.
   */
  static final class Row<T> {
    final Tags tags;
    final T source;
    final ToDoubleFunction<T> value;

    Row(Tags tags, T source, ToDoubleFunction<T> value) {
      this.tags = tags;
      this.source = source;
      this.value = value;
    }

    MultiGauge.Row<T> toGaugeRow() {
      return MultiGauge.Row.of(tags, source, value);
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof Row<?> other && tags.equals(other.tags) && Objects.equals(source, other.source);
    }

    @Override
    public int hashCode() {
      return tags.hashCode() * 31 + Objects.hashCode(source);
    }
  }
}
