package io.mproxy.protocol.postgres;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class PgParamsTest {

  @Test
  void startupParametersAndOptionsBecomeSettings() {
    PgParams p = new PgParams();
    Map<String, String> startup = new LinkedHashMap<>();
    startup.put("user", "app");
    startup.put("database", "db");
    startup.put("application_name", "checkout");
    startup.put("DateStyle", "ISO, MDY");
    startup.put("extra_float_digits", "3");
    startup.put("options", "-c statement_timeout=5s --search-path=a,b -cwork_mem=64MB x\\ y=1");
    assertEquals("unsupported startup option 'x y=1' (only -c name=value is supported)",
        p.startup(startup, Set.of()));
    startup.put("options", "-c statement_timeout=5s --search-path=a,b -cwork_mem=64MB");
    PgParams q = new PgParams();
    assertNull(q.startup(startup, Set.of("extra_float_digits")));
    assertEquals(Map.of("application_name", "checkout", "datestyle", "ISO, MDY",
        "statement_timeout", "5s", "search_path", "a,b", "work_mem", "64MB"), q.desired());
    assertEquals("checkout", q.application());
  }

  @Test
  void syncSetsWhatDiffersAndResetsWhatThePreviousClientLeft() {
    PgParams p = new PgParams();
    assertNull(p.startup(Map.of("user", "u", "application_name", "it's"), Set.of()));
    Map<String, String> applied = new HashMap<>(Map.of("timezone", "UTC"));
    assertEquals("SELECT pg_catalog.set_config('application_name', 'it''s', false);RESET timezone;",
        p.sync(applied));
    assertEquals(Map.of("application_name", "it's"), applied);
    assertNull(p.sync(applied), "nothing to do when the connection already matches");
  }

  /** sync's quick match (no iterator) must still see every difference, after every change. */
  @Test
  void syncSeesChangesAfterAMatchAndSettingsOfTheSameCountButOtherNames() {
    PgParams p = new PgParams();
    assertNull(p.startup(Map.of("user", "u", "application_name", "a"), Set.of()));
    Map<String, String> applied = new HashMap<>();
    assertEquals("SELECT pg_catalog.set_config('application_name', 'a', false);", p.sync(applied));
    assertNull(p.sync(applied));
    p.reported("TimeZone", "Europe/Paris"); // the client's SET, reported by the server
    assertEquals("SELECT pg_catalog.set_config('timezone', 'Europe/Paris', false);", p.sync(new HashMap<>(applied)));
    Map<String, String> other = new HashMap<>(Map.of("application_name", "a", "datestyle", "German"));
    assertEquals("SELECT pg_catalog.set_config('timezone', 'Europe/Paris', false);RESET datestyle;", p.sync(other));
    assertEquals(Map.of("application_name", "a", "timezone", "Europe/Paris"), other);
    assertNull(p.sync(other));
    other.put("timezone", "UTC"); // another client changed it on this connection
    assertEquals("SELECT pg_catalog.set_config('timezone', 'Europe/Paris', false);", p.sync(other));
  }

  @Test
  void reportedChangesAreTrackedOnlyForReportedSettings() {
    PgParams p = new PgParams();
    p.reported("DateStyle", "German");
    p.reported("server_version", "15");
    assertEquals(Map.of("datestyle", "German"), p.desired());
  }

  @Test
  void replicationAndInvalidNamesAreRefused() {
    assertEquals("replication connections are not supported through mproxy",
        new PgParams().startup(Map.of("replication", "true"), Set.of()));
    assertEquals("invalid parameter name 'a;drop'",
        new PgParams().startup(Map.of("a;drop", "x"), Set.of()));
  }
}
