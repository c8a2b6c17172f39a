package io.mproxy.testkit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

class FreePortTest {

    @Test
    void returnsAPortThatCanBeBoundOnLoopback() throws Exception {
        int port = FreePort.loopback();

        assertTrue(port > 0 && port < 65536, "port " + port);
        try (ServerSocket socket = new ServerSocket()) {
            socket.bind(new InetSocketAddress("127.0.0.1", port));
            assertEquals(port, socket.getLocalPort());
        }
    }

    @Test
    void portsComeFromBelowTheEphemeralRangeAndAreNotRepeated() {
        Set<Integer> seen = new HashSet<>();
        for (int i = 0; i < 200; i++) {
            int port = FreePort.loopback();
            assertTrue(port >= FreePort.FIRST && port <= FreePort.LAST, "port " + port);
            assertTrue(seen.add(port), "port " + port + " handed out twice");
        }
    }

    @Test
    void skipsAPortSomethingListensOn() throws Exception {
        int taken = FreePort.loopback() + 1;
        try (ServerSocket holder = new ServerSocket()) {
            holder.bind(new InetSocketAddress("127.0.0.1", taken));
            for (int i = 0; i < 3; i++) {
                assertNotEquals(taken, FreePort.loopback());
            }
        }
    }

    @Test
    void loopbackIsIpv4() {
        assertEquals("127.0.0.1", FreePort.LOOPBACK.getHostAddress());
    }
}
