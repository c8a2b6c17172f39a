package io.mproxy.testkit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mproxy.testkit.PostgresServer.HostAuth;
import io.mproxy.testkit.PostgresServer.PasswordEncryption;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class PostgresServerTest {

    private static PostgresServer shared;

    @BeforeAll
    static void startShared() {
        long started = System.nanoTime();
        shared = PostgresServer.start();
        System.out.printf("PostgresServer (first in this JVM, includes initdb) ready in %d ms%n",
                (System.nanoTime() - started) / 1_000_000);
    }

    @AfterAll
    static void closeShared() {
        if (shared != null) {
            shared.close();
        }
    }

    @Test
    void appLogsInOverTcpWithScram() throws SQLException {
        assertEquals("127.0.0.1", shared.host());
        assertEquals("jdbc:postgresql://127.0.0.1:" + shared.port() + "/app", shared.jdbcUrl("app"));
        assertEquals(HostAuth.SCRAM_SHA_256, shared.hostAuth());
        assertTrue(shared.storedPassword("app").startsWith("SCRAM-SHA-256$"), shared.storedPassword("app"));

        try (Connection c = app(shared, "secret"); Statement s = c.createStatement();
                ResultSet rs = s.executeQuery("SELECT current_user, current_database(), inet_server_port()")) {
            assertTrue(rs.next());
            assertEquals("app", rs.getString(1));
            assertEquals("app", rs.getString(2));
            assertEquals(shared.port(), rs.getInt(3));
        }
    }

    @Test
    void wrongPasswordIsRefusedWithThePostgresError() {
        SQLException refused = assertThrows(SQLException.class, () -> app(shared, "wrong").close());

        assertEquals("28P01", refused.getSQLState());
        assertTrue(refused.getMessage().contains("password authentication failed for user \"app\""),
                refused.getMessage());
    }

    @Test
    void psqlRunsStatementsAsSuperuserOverTheSocket() {
        assertEquals("postgres|t", shared.psql("SELECT current_user, inet_server_port() IS NULL"));
        assertEquals("1\n2", shared.psql("SELECT 1; SELECT 2;"));
        assertEquals("", shared.psql("CREATE TABLE IF NOT EXISTS fixture_t (v int)"));
        assertEquals("3", shared.psql("app", "CREATE TABLE t3 AS SELECT generate_series(1, 3) v; SELECT count(*) FROM t3"));

        IllegalStateException failure = assertThrows(IllegalStateException.class,
                () -> shared.psql("SELECT * FROM no_such_table"));
        assertTrue(failure.getMessage().contains("relation \"no_such_table\" does not exist"), failure.getMessage());
    }

    @Test
    void runsWithTheTestSettings() {
        assertEquals("off", shared.psql("SHOW fsync"));
        assertEquals("off", shared.psql("SHOW synchronous_commit"));
        assertEquals("off", shared.psql("SHOW full_page_writes"));
        assertEquals("127.0.0.1", shared.psql("SHOW listen_addresses"));
        assertEquals("100", shared.psql("SHOW max_connections"));
        assertEquals("scram-sha-256", shared.psql("SHOW password_encryption"));
        assertEquals(shared.socketDirectory().toString(), shared.psql("SHOW unix_socket_directories"));
        assertEquals(Integer.toString(shared.port()), shared.psql("SHOW port"));
        assertTrue(shared.majorVersion() >= 12, "major version " + shared.majorVersion());
    }

    @Test
    void addUserStoresThePasswordAsAsked() throws SQLException {
        shared.addUser("md5user", "pw'md5", PasswordEncryption.MD5);
        shared.addUser("scramuser", "pw-scram", PasswordEncryption.SCRAM_SHA_256);

        assertTrue(shared.storedPassword("md5user").startsWith("md5"));
        assertTrue(shared.storedPassword("scramuser").startsWith("SCRAM-SHA-256$4096:"));
        try (Connection c = DriverManager.getConnection(shared.jdbcUrl("postgres"), "scramuser", "pw-scram")) {
            assertTrue(c.isValid(5));
        }
        // scram-sha-256 in pg_hba.conf refuses users whose password is stored as md5
        SQLException refused = assertThrows(SQLException.class,
                () -> DriverManager.getConnection(shared.jdbcUrl("postgres"), "md5user", "pw'md5").close());
        assertEquals("28P01", refused.getSQLState());
    }

    @Test
    void sessionsOfCountsOpenConnections() throws SQLException {
        int before = shared.sessionsOf("app");
        try (Connection a = app(shared, "secret"); Connection b = app(shared, "secret")) {
            assertEquals(before + 2, shared.sessionsOf("app"));
        }
        Eventually.assertWithin(Duration.ofSeconds(10), () -> assertEquals(before, shared.sessionsOf("app")));
    }

    @Test
    void md5HostAuthStoresAppAsMd5AndLogsIn() throws SQLException {
        try (PostgresServer pg = PostgresServer.builder().hostAuth(HostAuth.MD5).start()) {
            assertTrue(pg.storedPassword("app").startsWith("md5"), pg.storedPassword("app"));
            assertEquals("md5", hbaMethodFor(pg));
            try (Connection c = app(pg, "secret")) {
                assertTrue(c.isValid(5));
            }
            SQLException refused = assertThrows(SQLException.class, () -> app(pg, "wrong").close());
            assertEquals("28P01", refused.getSQLState());
        }
    }

    @Test
    void passwordAndTrustHostAuth() throws SQLException {
        try (PostgresServer pg = PostgresServer.builder().hostAuth(HostAuth.PASSWORD).start()) {
            assertEquals("password", hbaMethodFor(pg));
            try (Connection c = app(pg, "secret")) {
                assertTrue(c.isValid(5));
            }
            assertEquals("28P01", assertThrows(SQLException.class, () -> app(pg, "wrong").close()).getSQLState());
        }
        try (PostgresServer pg = PostgresServer.builder().hostAuth(HostAuth.TRUST).start()) {
            try (Connection c = app(pg, "anything")) {
                assertTrue(c.isValid(5));
            }
        }
    }

    @Test
    void maxConnectionsIsEnforcedWith53300() throws SQLException {
        try (PostgresServer pg = PostgresServer.builder().maxConnections(5).start()) {
            assertEquals("5", pg.psql("SHOW max_connections"));
            List<Connection> open = new ArrayList<>();
            try {
                // 3 of the 5 are reserved for superusers
                open.add(app(pg, "secret"));
                open.add(app(pg, "secret"));
                SQLException refused = assertThrows(SQLException.class, () -> app(pg, "secret").close());
                assertEquals("53300", refused.getSQLState(), refused.getMessage());
            } finally {
                for (Connection c : open) {
                    c.close();
                }
            }
        }
    }

    @Test
    void restartKeepsPortAndDataWithANewPostmaster() throws SQLException {
        try (PostgresServer pg = PostgresServer.start()) {
            int port = pg.port();
            long pid = pg.pid();
            pg.psql("app", "CREATE TABLE kept (v int); INSERT INTO kept VALUES (42)");

            pg.restart();

            assertEquals(port, pg.port());
            assertNotEquals(pid, pg.pid());
            assertEquals("42", pg.psql("app", "SELECT v FROM kept"));
            try (Connection c = app(pg, "secret")) {
                assertTrue(c.isValid(5));
            }
        }
    }

    @Test
    void kill9BreaksConnectionsAndRestartRecovers() throws SQLException {
        try (PostgresServer pg = PostgresServer.start()) {
            Connection c = app(pg, "secret");
            try {
                long pid = pg.pid();
                pg.kill9();

                assertFalse(pg.isRunning());
                assertTrue(ProcessHandle.of(pid).map(h -> !h.isAlive()).orElse(true));
                assertThrows(SQLException.class, () -> {
                    try (Statement s = c.createStatement()) {
                        s.execute("SELECT 1");
                    }
                });
                assertThrows(SQLException.class, () -> app(pg, "secret").close());
                pg.kill9(); // idempotent

                pg.restart();
                try (Connection again = app(pg, "secret"); Statement s = again.createStatement();
                        ResultSet rs = s.executeQuery("SELECT 1")) {
                    assertTrue(rs.next());
                }
            } finally {
                c.close();
            }
        }
    }

    @Test
    void stopIsFastAndIdempotentAndCloseDeletesTheDirectory() throws SQLException {
        PostgresServer pg = PostgresServer.start();
        Path dir = pg.socketDirectory();
        assertTrue(Files.isDirectory(pg.dataDirectory()));
        Connection idle = app(pg, "secret"); // fast shutdown must not wait for it
        try {
            pg.stop();
            assertFalse(pg.isRunning());
            pg.stop();
            assertThrows(SQLException.class, () -> app(pg, "secret").close());
        } finally {
            idle.close();
        }

        pg.close();

        assertFalse(Files.exists(dir));
        pg.close(); // idempotent
        assertThrows(IllegalStateException.class, pg::restart);
    }

    @Test
    void tlsServesSslmodeRequire() throws SQLException {
        try (TestCertificates certificates = TestCertificates.create();
                PostgresServer pg = PostgresServer.builder().tls(certificates).start()) {
            assertEquals("on", pg.psql("SHOW ssl"));
            Properties props = new Properties();
            props.setProperty("user", "app");
            props.setProperty("password", "secret");
            props.setProperty("sslmode", "require");
            try (Connection c = DriverManager.getConnection(pg.jdbcUrl("app"), props); Statement s = c.createStatement();
                    ResultSet rs = s.executeQuery("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")) {
                assertTrue(rs.next());
                assertTrue(rs.getBoolean(1), "the session is encrypted");
            }
        }
    }

    @Test
    void twoServersGetDifferentPortsAndDirectories() {
        try (PostgresServer other = PostgresServer.start()) {
            assertNotEquals(shared.port(), other.port());
            assertNotEquals(shared.socketDirectory(), other.socketDirectory());
        }
    }

    @Test
    void toolsAreFoundBesideTheServer() {
        assertTrue(Files.isExecutable(PostgresServer.tool("psql")));
        assertTrue(Files.isExecutable(PostgresServer.tool("pgbench")));
        assertTrue(PostgresServer.binDirectory().toString().startsWith("/usr/lib/postgresql/"));
    }

    private static String hbaMethodFor(PostgresServer pg) {
        return pg.psql("SELECT auth_method FROM pg_hba_file_rules WHERE type = 'host'");
    }

    private static Connection app(PostgresServer pg, String password) throws SQLException {
        Properties props = new Properties();
        props.setProperty("user", PostgresServer.APP_USER);
        props.setProperty("password", password);
        props.setProperty("connectTimeout", "10");
        props.setProperty("socketTimeout", "30");
        return DriverManager.getConnection(pg.jdbcUrl(PostgresServer.APP_DATABASE), props);
    }
}
