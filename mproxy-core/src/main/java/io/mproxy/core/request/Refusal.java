package io.mproxy.core.request;

/**
 * Why core refused a request, in a form every protocol turns into its own error reply.
 * {@link #message()} is the text after the protocol's error prefix, always starting {@code mproxy:}.
 *
 * @param retryAfterMs when a retry may succeed, or -1 when unknown
 */
public record Refusal(String group, ShedReason reason, Outcome outcome, long retryAfterMs, String detail) {

  public static Refusal rejected(String group, ShedReason reason, long retryAfterMs, String detail) {
    return new Refusal(group, reason, Outcome.REJECTED, retryAfterMs, detail);
  }

  public String message() {
    StringBuilder sb = new StringBuilder(96)
        .append("mproxy: ").append(outcome.label())
        .append(" group=").append(group)
        .append(" reason=").append(reason.label());
    if (retryAfterMs >= 0) {
      sb.append(" retry_after_ms=").append(retryAfterMs);
    }
    if (detail != null && !detail.isEmpty()) {
      sb.append(" (").append(detail).append(')');
    }
    return sb.toString();
  }
}
