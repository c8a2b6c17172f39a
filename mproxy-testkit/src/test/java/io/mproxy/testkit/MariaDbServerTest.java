package io.mproxy.testkit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class MariaDbServerTest {

    @Test
    void startsWithTheApplicationUserAndStopsForGood() {
        MariaDbServer server = MariaDbServer.start();
        try {
            assertTrue(server.isRunning());
            assertEquals("1", server.sql("SELECT 1"));
            assertTrue(server.sql("SELECT CONCAT(User,'@',Host) FROM mysql.global_priv").contains("app@%"));
            assertEquals("app", server.sql("SHOW DATABASES LIKE 'app'"));
        } finally {
            server.close();
        }
        assertFalse(server.isRunning());
    }

    @Test
    void restartsOnTheSamePortWithItsDataAfterASigkill() {
        try (MariaDbServer server = MariaDbServer.start()) {
            server.sql("CREATE TABLE app.t (v INT PRIMARY KEY) ENGINE=InnoDB; INSERT INTO app.t VALUES (7);");
            int port = server.port();
            long pid = server.pid();

            server.stop();
            assertFalse(server.isRunning());
            server.restart();

            assertTrue(server.isRunning());
            assertEquals(port, server.port());
            assertTrue(pid != server.pid(), "a new process");
            assertEquals("7", server.sql("SELECT v FROM app.t"));
        }
    }
}
