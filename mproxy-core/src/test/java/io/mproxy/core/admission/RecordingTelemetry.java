package io.mproxy.core.admission;

import io.mproxy.core.config.Priority;
import io.mproxy.core.request.Outcome;
import io.mproxy.core.request.ShedReason;
import io.mproxy.core.telemetry.Telemetry;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/** A {@link Telemetry} that keeps every event, for assertions. */
final class RecordingTelemetry implements Telemetry {

  record Completed(String listener, String protocol, String group, Outcome outcome, long durationNanos) {
  }

  record Charged(String group, boolean write, double ru) {
  }

  record Shed(String group, Priority priority, ShedReason reason) {
  }

  record QueueWait(String group, Priority priority, long nanos) {
  }

  final List<Completed> completed = new CopyOnWriteArrayList<>();
  final List<Charged> charged = new CopyOnWriteArrayList<>();
  final List<Shed> shed = new CopyOnWriteArrayList<>();
  final List<QueueWait> queueWaits = new CopyOnWriteArrayList<>();
  final List<Shed> wouldShed = new CopyOnWriteArrayList<>();
  /** "rule/action/mode" per runaway action. */
  final List<String> runaway = new CopyOnWriteArrayList<>();

  @Override
  public void runawayAction(String rule, String action, String mode) {
    runaway.add(rule + "/" + action + "/" + mode);
  }

  /** {@code group:result} per hinted request. */
  final List<String> hints = new CopyOnWriteArrayList<>();

  @Override
  public void hint(String group, String result) {
    hints.add(group + ":" + result);
  }

  @Override
  public void wouldShed(String group, Priority priority, ShedReason reason) {
    wouldShed.add(new Shed(group, priority, reason));
  }

  @Override
  public void requestCompleted(String listener, String protocol, String group, Outcome outcome,
      long durationNanos) {
    completed.add(new Completed(listener, protocol, group, outcome, durationNanos));
  }

  @Override
  public void ruCharged(String group, boolean write, double ru) {
    charged.add(new Charged(group, write, ru));
  }

  @Override
  public void shed(String group, Priority priority, ShedReason reason) {
    shed.add(new Shed(group, priority, reason));
  }

  @Override
  public void queueWait(String group, Priority priority, long nanos) {
    queueWaits.add(new QueueWait(group, priority, nanos));
  }
}
