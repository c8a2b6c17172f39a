package io.mproxy.server.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConfigWatcherTest {

  private static final long POLL_MS = 10;

  @TempDir
  Path dir;

  @Test
  void reportsARenameOnSaveRewriteOnceButNotAnIdenticalOne() throws Exception {
    Path file = dir.resolve("proxy.yaml");
    Files.writeString(file, "admin: { bind: 127.0.0.1:9901 }\n");
    List<Path> calls = new CopyOnWriteArrayList<>();
    CountDownLatch changed = new CountDownLatch(1);
    try (ConfigWatcher watcher = new ConfigWatcher(file, POLL_MS, p -> {
      calls.add(p);
      changed.countDown();
    })) {
      saveLikeAnEditor(file, "admin: { bind: 127.0.0.1:9901 }\n");
      saveLikeAnEditor(file, "admin: { bind: 127.0.0.1:9902 }\n");

      assertTrue(changed.await(5, TimeUnit.SECONDS), "no change reported within 5 s");
      // callbacks run in order on one thread: had the identical rewrite been reported, it would be first
      assertEquals(List.of(file), calls);
      assertEquals(file, watcher.file());
    }
  }

  @Test
  void reportsAnInPlaceRewriteAndAFileThatAppears() throws Exception {
    Path file = dir.resolve("late.yaml");
    CountDownLatch appeared = new CountDownLatch(1);
    CountDownLatch rewritten = new CountDownLatch(2);
    try (ConfigWatcher ignored = new ConfigWatcher(file, POLL_MS, p -> {
      appeared.countDown();
      rewritten.countDown();
    })) {
      Files.writeString(file, "server: { io_threads: 1 }\n");
      assertTrue(appeared.await(5, TimeUnit.SECONDS), "appearing file not reported");
      Files.writeString(file, "server: { io_threads: 2 }\n");
      assertTrue(rewritten.await(5, TimeUnit.SECONDS), "in-place rewrite not reported");
    }
  }

  @Test
  void aFailingCallbackDoesNotStopTheWatching() throws Exception {
    Path file = dir.resolve("proxy.yaml");
    Files.writeString(file, "a: 1\n");
    CountDownLatch first = new CountDownLatch(1);
    CountDownLatch second = new CountDownLatch(2);
    try (ConfigWatcher ignored = new ConfigWatcher(file, POLL_MS, p -> {
      first.countDown();
      second.countDown();
      throw new IllegalStateException("reload blew up");
    })) {
      Files.writeString(file, "a: 2\n");
      assertTrue(first.await(5, TimeUnit.SECONDS), "change not reported");
      Files.writeString(file, "a: 3\n");
      assertTrue(second.await(5, TimeUnit.SECONDS), "watching stopped after a failing callback");
    }
  }

  @Test
  void closeIsIdempotentAndPollMustBePositive() {
    ConfigWatcher watcher = new ConfigWatcher(dir.resolve("x.yaml"), POLL_MS, p -> { });
    watcher.close();
    watcher.close();
    assertThrows(IllegalArgumentException.class, () -> new ConfigWatcher(dir, 0, p -> { }));
  }

  private static void saveLikeAnEditor(Path file, String content) throws Exception {
    Path temp = Files.createTempFile(file.getParent(), ".proxy", ".swp");
    Files.writeString(temp, content);
    Files.move(temp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
  }
}
