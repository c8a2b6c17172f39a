package io.mproxy.core.tls;

import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.List;

/** Path checks shared by the TLS options. */
final class TlsFiles {

  private TlsFiles() {
  }

  static Path readablePath(Object raw, String key, List<String> problems) {
    if (raw == null) {
      problems.add(key + ": required (a PEM file path)");
      return null;
    }
    if (!(raw instanceof String s) || s.isBlank()) {
      problems.add(key + ": must be a file path");
      return null;
    }
    try {
      Path p = Path.of(s);
      if (!Files.isRegularFile(p) || !Files.isReadable(p)) {
        problems.add(key + ": " + s + " is not a readable file");
        return null;
      }
      return p;
    } catch (InvalidPathException e) {
      problems.add(key + ": invalid path " + s);
      return null;
    }
  }
}
