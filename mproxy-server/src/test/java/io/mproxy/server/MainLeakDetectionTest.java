package io.mproxy.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.netty.util.ResourceLeakDetector;
import java.util.Properties;
import org.junit.jupiter.api.Test;

class MainLeakDetectionTest {

  @Test
  void theDaemonTurnsNettysSampledLeakDetectorOffWhenNothingWasAskedFor() {
    assertEquals(ResourceLeakDetector.Level.DISABLED, Main.leakDetection(new Properties()));
  }

  @Test
  void anOperatorsChoiceIsKept() {
    Properties p = new Properties();
    p.setProperty("io.netty.leakDetection.level", "simple");
    assertNull(Main.leakDetection(p));
    Properties legacy = new Properties();
    legacy.setProperty("io.netty.leakDetectionLevel", "paranoid");
    assertNull(Main.leakDetection(legacy));
  }

  @Test
  void theTestSuiteItselfRunsAtParanoid() {
    // surefire sets the property, so the daemon's default never applies to the suite
    assertNull(Main.leakDetection(System.getProperties()));
  }
}
