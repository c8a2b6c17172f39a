package io.mproxy.server.config;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.Objects;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Calls back when the config file's content changes, by polling its last-modified time, size
 * and a SHA-256 of its bytes on one daemon thread. Polling rather than {@code WatchService}
 * because editors save by writing a new file and renaming it over the old one, which watch
 * services report unreliably (or not at all, for a watched symlink target).
 *
 * <p>A change is reported once the file has looked the same on two polls in a row, so a file
 * caught half-written is not reported until the writer is done, and a rewrite with identical
 * content (a {@code touch}) is not reported at all. A missing or unreadable file is not a change:
 * the watcher waits for it to come back. The callback runs on the watcher's thread; one that
 * throws is logged and the watching goes on.
 */
public final class ConfigWatcher implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(ConfigWatcher.class);

  private final Path file;
  private final Consumer<Path> onChange;
  private final ScheduledExecutorService poller;
  private Fingerprint reported;
  private Fingerprint lastSeen;

  /**
   * Starts watching at once; the file's current content is the baseline that is not reported.
   *
   * @param pollMillis time between two looks at the file, >= 1
   */
  public ConfigWatcher(Path file, long pollMillis, Consumer<Path> onChange) {
    if (pollMillis < 1) {
      throw new IllegalArgumentException("pollMillis: " + pollMillis + " (expected: >= 1)");
    }
    this.file = Objects.requireNonNull(file, "file");
    this.onChange = Objects.requireNonNull(onChange, "onChange");
    this.reported = Fingerprint.of(file);
    this.lastSeen = reported;
    this.poller = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "mproxy-config-watcher");
      t.setDaemon(true);
      return t;
    });
    poller.scheduleWithFixedDelay(this::poll, pollMillis, pollMillis, TimeUnit.MILLISECONDS);
  }

  public Path file() {
    return file;
  }

  /** Stops polling; a callback already running finishes. Idempotent. */
  @Override
  public void close() {
    poller.shutdownNow();
  }

  private void poll() {
    Fingerprint now = Fingerprint.of(file);
    boolean settled = now.equals(lastSeen);
    lastSeen = now;
    if (!settled || !now.exists() || now.sameContent(reported)) {
      return;
    }
    reported = now;
    try {
      onChange.accept(file);
    } catch (RuntimeException e) {
      LOG.warn("config change callback failed for {}", file, e);
    }
  }

  /** What the file looked like at one poll; a missing or unreadable file has no content. */
  private record Fingerprint(boolean exists, long modifiedMillis, long size, byte[] sha256) {

    private static final Fingerprint ABSENT = new Fingerprint(false, 0, 0, new byte[0]);

    static Fingerprint of(Path file) {
      try {
        long modified = Files.getLastModifiedTime(file).toMillis();
        byte[] content = Files.readAllBytes(file);
        return new Fingerprint(true, modified, content.length,
            MessageDigest.getInstance("SHA-256").digest(content));
      } catch (IOException e) {
        return ABSENT;
      } catch (NoSuchAlgorithmException e) {
        throw new IllegalStateException("SHA-256 is required of every JVM", e);
      }
    }

    boolean sameContent(Fingerprint other) {
      return exists == other.exists && size == other.size && Arrays.equals(sha256, other.sha256);
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof Fingerprint f && exists == f.exists && modifiedMillis == f.modifiedMillis
          && sameContent(f);
    }

    @Override
    public int hashCode() {
      return Objects.hash(exists, modifiedMillis, size, Arrays.hashCode(sha256));
    }
  }
}
