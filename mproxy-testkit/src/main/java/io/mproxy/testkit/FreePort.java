package io.mproxy.testkit;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.UnknownHostException;

/**
 * Free TCP ports for fixtures that must be told a port up front (external servers, configs).
 *
 * <p>The port is free when returned; another process may still take it before it is bound.
 * Prefer binding port 0 where the code under test allows it.
 */
public final class FreePort {

    /** 127.0.0.1, spelled out so that an IPv6-preferring JVM does not pick {@code ::1}. */
    public static final InetAddress LOOPBACK = loopbackV4();

    private FreePort() {
    }

    /** A TCP port on 127.0.0.1 that nothing was listening on a moment ago. */
    public static int loopback() {
        try (ServerSocket socket = new ServerSocket()) {
            socket.setReuseAddress(true);
            socket.bind(new InetSocketAddress(LOOPBACK, 0), 1);
            return socket.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot find a free port on 127.0.0.1", e);
        }
    }

    private static InetAddress loopbackV4() {
        try {
            return InetAddress.getByAddress("localhost", new byte[] {127, 0, 0, 1});
        } catch (UnknownHostException impossible) {
            throw new AssertionError(impossible);
        }
    }
}
