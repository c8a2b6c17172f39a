package io.mproxy.server.config;

/**
 * One thing wrong with a config file, located at the key or value it is about. Reads like a
 * compiler diagnostic, {@code FILE:LINE:COL: message}, so editors and CI logs can jump to it.
 *
 * @param line 1-based
 * @param column 1-based
 */
public record ConfigProblem(String file, int line, int column, String message) {

  @Override
  public String toString() {
    return file + ":" + line + ":" + column + ": " + message;
  }
}
