package io.mproxy.core.tls;

import java.lang.ref.WeakReference;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Every TLS context built from files in this JVM, by the files it came from, so that a
 * certificate rotated in place reaches every listener and cluster using those paths: when a
 * configuration is read (start, {@code check}, file change, {@code POST /api/reload}) and on the
 * daemon's periodic {@link #checkAll()}. A context whose new files do not build keeps serving the
 * old certificate; the failure is logged once per new content and counted.
 *
 * <p>Entries are held weakly: a context no configuration uses any more is forgotten.
 */
public final class TlsReloads {

  private static final Logger LOG = LoggerFactory.getLogger(TlsReloads.class);
  private static final Map<String, WeakReference<ReloadableContext>> CONTEXTS = new ConcurrentHashMap<>();
  private static final AtomicLong APPLIED = new AtomicLong();
  private static final AtomicLong FAILED = new AtomicLong();

  private TlsReloads() {
  }

  /**
   * The context for {@code files}, built now if none is known, otherwise brought up to date with
   * the files' current content. When the files cannot be used, adds {@code problem + reason} (so a
   * configuration naming them is refused) and returns the known context, which keeps serving its
   * previous certificate (so options read again at run time never fall back to no TLS), or null
   * when there is none.
   */
  static ReloadableContext context(String key, List<Path> files, ReloadableContext.Builder builder,
      String problem, List<String> problems) {
    ReloadableContext known = known(key);
    if (known == null) {
      synchronized (TlsReloads.class) {
        known = known(key);
        if (known == null) {
          return load(key, files, builder, problem, problems);
        }
      }
    }
    ReloadableContext.Check check = known.refresh(false);
    report(known, check);
    if (check.outcome() == ReloadableContext.Outcome.FAILED
        || check.outcome() == ReloadableContext.Outcome.STILL_FAILING) {
      problems.add(problem + check.error());
    }
    return known;
  }

  private static ReloadableContext known(String key) {
    WeakReference<ReloadableContext> ref = CONTEXTS.get(key);
    return ref == null ? null : ref.get();
  }

  /** Builds the first context for {@code key}; under the class lock, so one key never has two. */
  private static ReloadableContext load(String key, List<Path> files, ReloadableContext.Builder builder,
      String problem, List<String> problems) {
    try {
      ReloadableContext made = ReloadableContext.load(files, builder);
      CONTEXTS.put(key, new WeakReference<>(made));
      return made;
    } catch (Exception e) {
      problems.add(problem + e.getMessage());
      return null;
    }
  }

  /**
   * Re-reads the files of every known context and rebuilds those whose content changed and has
   * stayed the same since the previous check; returns how many were rebuilt. Blocking file I/O:
   * call it from a timer thread, never from an event loop.
   */
  public static int checkAll() {
    int reloaded = 0;
    for (Iterator<WeakReference<ReloadableContext>> it = CONTEXTS.values().iterator(); it.hasNext(); ) {
      ReloadableContext c = it.next().get();
      if (c == null) {
        it.remove();
        continue;
      }
      ReloadableContext.Check check = c.refresh(true);
      report(c, check);
      if (check.outcome() == ReloadableContext.Outcome.RELOADED) {
        reloaded++;
      }
    }
    return reloaded;
  }

  /** Contexts rebuilt from changed files since the JVM started ({@code mproxy_tls_reloads_total{result="applied"}}). */
  public static long applied() {
    return APPLIED.get();
  }

  /** New file contents that could not be used ({@code mproxy_tls_reloads_total{result="failed"}}). */
  public static long failed() {
    return FAILED.get();
  }

  private static void report(ReloadableContext c, ReloadableContext.Check check) {
    switch (check.outcome()) {
      case RELOADED -> {
        APPLIED.incrementAndGet();
        LOG.info("TLS: reloaded {}; new handshakes use it, open connections keep theirs", c);
      }
      case FAILED -> {
        FAILED.incrementAndGet();
        LOG.error("TLS: cannot use the new content of {}: {}; still serving the previous certificate",
            c, check.error());
      }
      default -> {
      }
    }
  }
}
