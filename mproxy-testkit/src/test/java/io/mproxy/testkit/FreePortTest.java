package io.mproxy.testkit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetSocketAddress;
import java.net.ServerSocket;
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
    void loopbackIsIpv4() {
        assertEquals("127.0.0.1", FreePort.LOOPBACK.getHostAddress());
    }
}
