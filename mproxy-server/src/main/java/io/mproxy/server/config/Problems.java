package io.mproxy.server.config;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/** Collects every problem of one load, so a file is reported in full and not one error at a time. */
final class Problems {

  private static final Comparator<ConfigProblem> FILE_ORDER =
      Comparator.comparingInt(ConfigProblem::line).thenComparingInt(ConfigProblem::column);

  private final String file;
  private final List<ConfigProblem> problems = new ArrayList<>();

  Problems(String file) {
    this.file = file;
  }

  void report(Mark at, String message) {
    problems.add(new ConfigProblem(file, at.line(), at.column(), message));
  }

  boolean isEmpty() {
    return problems.isEmpty();
  }

  /** The problems in file order; problems at the same place keep the order they were found in. */
  List<ConfigProblem> inFileOrder() {
    List<ConfigProblem> sorted = new ArrayList<>(problems);
    sorted.sort(FILE_ORDER);
    return List.copyOf(sorted);
  }
}
