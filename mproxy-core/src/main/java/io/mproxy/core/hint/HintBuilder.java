package io.mproxy.core.hint;

import io.mproxy.core.config.Priority;
import java.util.Locale;

/**
 * Collects hint key/value pairs from whatever syntax carried them (a comment's
 * {@code key=value} words, a Mongo sub-document, Redis arguments). Known keys: {@code priority}
 * (high|normal|low), {@code group} (a resource group name), {@code timeout_ms} (1 ..
 * {@link QueryHints#MAX_TIMEOUT_MS}). Not thread-safe; one per parse.
 */
public final class HintBuilder {

  /** Group names longer than this are not a group any configuration has. */
  static final int MAX_GROUP_LENGTH = 128;

  private Priority priority;
  private String group;
  private long timeoutMs;
  private int unknownKeys;
  private int badValues;

  /** Records one pair; keys are case-insensitive, values are trimmed. */
  public HintBuilder put(String key, String value) {
    if (key == null) {
      unknownKeys++;
      return this;
    }
    String v = value == null ? "" : value.trim();
    switch (key.trim().toLowerCase(Locale.ROOT)) {
      case "priority" -> priority(v);
      case "group", "resource_group" -> group(v);
      case "timeout_ms", "timeout" -> timeout(v);
      default -> unknownKeys++;
    }
    return this;
  }

  /** Whether any pair was recorded, understood or not. */
  public boolean touched() {
    return priority != null || group != null || timeoutMs > 0 || unknownKeys > 0 || badValues > 0;
  }

  public QueryHints build() {
    if (!touched()) {
      return QueryHints.NONE;
    }
    return new QueryHints(priority, group, timeoutMs, unknownKeys, badValues);
  }

  private void priority(String v) {
    switch (v.toLowerCase(Locale.ROOT)) {
      case "high" -> priority = Priority.HIGH;
      case "normal" -> priority = Priority.NORMAL;
      case "low" -> priority = Priority.LOW;
      default -> badValues++;
    }
  }

  private void group(String v) {
    if (v.isEmpty() || v.length() > MAX_GROUP_LENGTH) {
      badValues++;
      return;
    }
    for (int i = 0; i < v.length(); i++) {
      char c = v.charAt(i);
      if (!(Character.isLetterOrDigit(c) || c == '_' || c == '-' || c == '.')) {
        badValues++;
        return;
      }
    }
    group = v;
  }

  private void timeout(String v) {
    if (v.isEmpty() || v.length() > 12) {
      badValues++;
      return;
    }
    long ms = 0;
    for (int i = 0; i < v.length(); i++) {
      char c = v.charAt(i);
      if (c < '0' || c > '9') {
        badValues++;
        return;
      }
      ms = ms * 10 + (c - '0');
    }
    if (ms <= 0 || ms > QueryHints.MAX_TIMEOUT_MS) {
      badValues++;
      return;
    }
    timeoutMs = ms;
  }
}
