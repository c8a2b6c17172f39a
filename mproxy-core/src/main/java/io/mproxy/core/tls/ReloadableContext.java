package io.mproxy.core.tls;

import io.netty.handler.ssl.SslContext;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * An {@link SslContext} built from PEM files that is rebuilt when the files' content changes,
 * because operators rotate certificates by rewriting the same paths. Handshakes started after a
 * reload use the new context; connections already up keep the engine they were made with. A new
 * content that does not build (a key that does not match, half a file) leaves the previous context
 * in place and is reported once, not on every check.
 *
 * <p>Checks read the files (a few KiB) and compare SHA-256 digests; building a context happens
 * only when the content differs. Callers run checks off the event loops.
 */
final class ReloadableContext {

  /** Builds a context from the files; throws with the reason when they are not usable. */
  @FunctionalInterface
  interface Builder {
    SslContext build() throws Exception;
  }

  /** What one check did. */
  enum Outcome {
    UNCHANGED, WAITING, RELOADED, FAILED,
    /** The files still hold the content that failed before (already reported). */
    STILL_FAILING
  }

  /** A check's outcome and, when it failed, why. */
  record Check(Outcome outcome, String error) {
    static final Check UNCHANGED = new Check(Outcome.UNCHANGED, null);
    static final Check WAITING = new Check(Outcome.WAITING, null);
    static final Check RELOADED = new Check(Outcome.RELOADED, null);
  }

  private final List<Path> files;
  private final Builder builder;
  private volatile SslContext current;
  private Stamp loaded;
  private Stamp failed;
  private String failure;
  private Stamp lastSeen;

  private ReloadableContext(List<Path> files, Builder builder, SslContext first, Stamp stamp) {
    this.files = files;
    this.builder = builder;
    this.current = first;
    this.loaded = stamp;
    this.lastSeen = stamp;
  }

  /** Reads the files and builds the first context; throws when they cannot be used. */
  static ReloadableContext load(List<Path> files, Builder builder) throws Exception {
    Stamp stamp = Stamp.of(files);
    SslContext first = builder.build();
    return new ReloadableContext(List.copyOf(files), builder, first, stamp);
  }

  SslContext current() {
    return current;
  }

  List<Path> files() {
    return files;
  }

  /**
   * Rebuilds the context when the files' content changed since the last build.
   *
   * @param settle when true (periodic checks) a change is acted on only once the files looked
   *     the same on two checks in a row, so a rotation caught between writing the certificate and
   *     the key is not reported as an error; when false (an explicit reload) at once
   */
  synchronized Check refresh(boolean settle) {
    Stamp now = Stamp.of(files);
    boolean settled = now.equals(lastSeen);
    lastSeen = now;
    if (now.equals(loaded)) {
      failed = null;
      return Check.UNCHANGED;
    }
    if (settle && !settled) {
      return Check.WAITING;
    }
    if (now.equals(failed)) {
      return new Check(Outcome.STILL_FAILING, failure);
    }
    try {
      SslContext next = builder.build();
      current = next;
      loaded = now;
      failed = null;
      return Check.RELOADED;
    } catch (Exception e) {
      failed = now;
      failure = String.valueOf(e.getMessage());
      return new Check(Outcome.FAILED, failure);
    }
  }

  /** The content of the files at one moment: a digest per file, empty for an unreadable one. */
  private record Stamp(List<byte[]> digests) {

    static Stamp of(List<Path> files) {
      List<byte[]> out = new ArrayList<>(files.size());
      for (Path f : files) {
        out.add(digest(f));
      }
      return new Stamp(out);
    }

    private static byte[] digest(Path file) {
      try {
        return MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(file));
      } catch (IOException e) {
        return new byte[0];
      } catch (NoSuchAlgorithmException e) {
        throw new IllegalStateException("SHA-256 is required of every JVM", e);
      }
    }

    @Override
    public boolean equals(Object o) {
      if (!(o instanceof Stamp s) || s.digests.size() != digests.size()) {
        return false;
      }
      for (int i = 0; i < digests.size(); i++) {
        if (!Arrays.equals(digests.get(i), s.digests.get(i))) {
          return false;
        }
      }
      return true;
    }

    @Override
    public int hashCode() {
      int h = 1;
      for (byte[] d : digests) {
        h = 31 * h + Arrays.hashCode(d);
      }
      return h;
    }
  }

  @Override
  public String toString() {
    return Objects.toString(files);
  }
}
