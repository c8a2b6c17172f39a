package io.mproxy.testkit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class SilentBackendTest {

    @Test
    void acceptsReadsAndNeverAnswersThenClosesItsConnections() throws IOException {
        Socket client = new Socket();
        try (SilentBackend silent = SilentBackend.start(); client) {
            client.connect(new InetSocketAddress(FreePort.LOOPBACK, silent.port()), 2000);
            byte[] hello = "*1\r\n$4\r\nPING\r\n".getBytes(StandardCharsets.US_ASCII);
            client.getOutputStream().write(hello);
            client.getOutputStream().flush();
            client.setSoTimeout(300);
            InputStream in = client.getInputStream();
            assertThrows(SocketTimeoutException.class, in::read, "not a byte comes back");
            Eventually.assertWithin(Duration.ofSeconds(5), () -> {
                assertEquals(1, silent.accepted());
                assertEquals(1, silent.openConnections());
                assertEquals(hello.length, silent.bytesRead());
            });

            silent.close();
            client.setSoTimeout(5000);
            assertTrue(endOfStream(in), "closing the backend closes its connections");
            assertEquals(0, silent.openConnections());
        }
    }

    private static boolean endOfStream(InputStream in) {
        try {
            return in.read() == -1;
        } catch (IOException reset) {
            return true;
        }
    }
}
