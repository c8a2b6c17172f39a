package io.mproxy.server.admin;

import java.util.List;

/**
 * What a reload did: applied, with the configuration generation now running; or refused, with
 * the problems found (each as {@code FILE:LINE:COL: message}), the old configuration still running.
 */
public record ReloadResult(boolean ok, long generation, List<String> errors) {

  public ReloadResult {
    errors = List.copyOf(errors);
  }

  public static ReloadResult applied(long generation) {
    return new ReloadResult(true, generation, List.of());
  }

  public static ReloadResult refused(long generation, List<String> errors) {
    return new ReloadResult(false, generation, errors);
  }
}
