package io.mproxy.testkit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.ConnectException;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

class RedisServerTest {

    @Test
    void startsOnLoopbackAndAnswersPing() throws IOException {
        try (RedisServer redis = RedisServer.start()) {
            assertEquals("127.0.0.1", redis.host());
            assertEquals("127.0.0.1:" + redis.port(), redis.address());
            assertTrue(redis.isRunning());
            assertEquals("+PONG", rawPing(redis.port()));
            assertEquals("PONG", redis.cli("PING"));
            assertEquals("OK", redis.cli("SET", "k", "v"));
            assertEquals("v", redis.cli("GET", "k"));
        }
    }

    @Test
    void runsWithPersistenceOff() {
        try (RedisServer redis = RedisServer.start()) {
            assertEquals("save\n", redis.cli("CONFIG", "GET", "save"));
            assertEquals(List.of("appendonly", "no"), redis.cli("CONFIG", "GET", "appendonly").lines().toList());
        }
    }

    @Test
    void restartsOnTheSamePortWithAFreshProcess() throws IOException {
        try (RedisServer redis = RedisServer.start()) {
            int port = redis.port();
            redis.cli("SET", "k", "v");
            String pidBefore = redis.cli("INFO", "server").lines()
                    .filter(line -> line.startsWith("process_id:")).findFirst().orElseThrow();

            redis.restart();

            assertEquals(port, redis.port());
            assertEquals("+PONG", rawPing(port));
            assertEquals("", redis.cli("GET", "k"), "nothing survives: persistence is off");
            String pidAfter = redis.cli("INFO", "server").lines()
                    .filter(line -> line.startsWith("process_id:")).findFirst().orElseThrow();
            assertNotEquals(pidBefore, pidAfter);
        }
    }

    @Test
    void stopKillsTheServerAndRestartBringsItBack() throws IOException {
        try (RedisServer redis = RedisServer.start()) {
            redis.stop();

            assertFalse(redis.isRunning());
            assertThrows(ConnectException.class, () -> rawPing(redis.port()));
            redis.stop(); // idempotent

            redis.restart();
            assertEquals("+PONG", rawPing(redis.port()));
        }
    }

    @Test
    void requirePassMakesClientsAuthenticate() {
        try (RedisServer redis = RedisServer.builder().requirePass("s3cret").start()) {
            assertEquals("s3cret", redis.password().orElseThrow());
            assertEquals("PONG", redis.cli("PING"));
            assertTrue(RedisServer.cliAt(redis.host(), redis.port(), "PING").startsWith("NOAUTH"));
        }
    }

    @Test
    void closeStopsTheServerAndRemovesItsDirectory() {
        RedisServer redis = RedisServer.start();
        Path dir = Path.of(redis.cli("CONFIG", "GET", "dir").lines().skip(1).findFirst().orElseThrow());
        assertTrue(Files.isDirectory(dir));

        redis.close();

        assertFalse(redis.isRunning());
        assertFalse(Files.exists(dir));
        redis.close(); // idempotent
        assertThrows(IllegalStateException.class, redis::restart);
    }

    @Test
    void twoServersGetDifferentPorts() {
        try (RedisServer a = RedisServer.start(); RedisServer b = RedisServer.start()) {
            assertNotEquals(a.port(), b.port());
        }
    }

    @Test
    void cliFailsLoudlyWhenNothingListens() {
        int port = FreePort.loopback();

        IllegalStateException error = assertThrows(IllegalStateException.class,
                () -> RedisServer.cliAt("127.0.0.1", port, "PING"));

        assertTrue(error.getMessage().contains("Connection refused"), error.getMessage());
    }

    @Test
    void missingBinariesNameTheInstallCommand() {
        assertTrue(RedisServer.findBinary("redis-server").isPresent());
        assertTrue(RedisServer.findBinary("no-such-binary-mproxy").isEmpty());

        IllegalStateException error = assertThrows(IllegalStateException.class,
                () -> Binaries.require("no-such-binary-mproxy", "no-such-package"));

        assertTrue(error.getMessage().contains("apt-get install -y no-such-package"), error.getMessage());
    }

    private static String rawPing(int port) throws IOException {
        try (Socket socket = new Socket("127.0.0.1", port)) {
            socket.setSoTimeout(2000);
            OutputStream out = socket.getOutputStream();
            out.write("*1\r\n$4\r\nPING\r\n".getBytes(StandardCharsets.US_ASCII));
            out.flush();
            InputStream in = socket.getInputStream();
            byte[] reply = in.readNBytes(7);
            return new String(reply, StandardCharsets.US_ASCII).strip();
        }
    }
}
