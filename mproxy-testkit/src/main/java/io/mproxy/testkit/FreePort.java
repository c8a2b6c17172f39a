package io.mproxy.testkit;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.UnknownHostException;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Free TCP ports for fixtures that must be told a port up front (external servers, configs).
 *
 * <p>The port is free when returned; another process may still take it before it is bound.
 * Prefer binding port 0 where the code under test allows it.
 *
 * <p>Ports come from {@value #FIRST}–{@value #LAST}, below Linux's ephemeral range
 * (32768–60999 by default). A port the kernel handed out for a bind to port 0 is one it may hand
 * to the very next outgoing connection as its local port; on a busy machine that happened
 * between the probe and the fixture's own bind (a gossip node failed with "address already in
 * use"). Ports below the ephemeral range are only taken by explicit binds. Within one JVM the
 * ports are handed out in turn from a random starting point, so two fixtures of one test never
 * get the same port, and concurrent JVMs rarely do.
 */
public final class FreePort {

    /** 127.0.0.1, spelled out so that an IPv6-preferring JVM does not pick {@code ::1}. */
    public static final InetAddress LOOPBACK = loopbackV4();

    private FreePort() {
    }

    /** First port handed out: well above the registered services tests start (3306, 5432, 6379, 9042). */
    static final int FIRST = 15000;
    /** Last port handed out: the one below Linux's default ephemeral range. */
    static final int LAST = 32767;
    private static final int RANGE = LAST - FIRST + 1;
    private static final AtomicInteger NEXT =
        new AtomicInteger(ThreadLocalRandom.current().nextInt(RANGE));

    /** A TCP port on 127.0.0.1 that nothing was listening on a moment ago. */
    public static int loopback() {
        for (int attempt = 0; attempt < RANGE; attempt++) {
            int port = FIRST + Math.floorMod(NEXT.getAndIncrement(), RANGE);
            if (bindable(port)) {
                return port;
            }
        }
        throw new IllegalStateException("no free port on 127.0.0.1 in " + FIRST + "-" + LAST);
    }

    private static boolean bindable(int port) {
        try (ServerSocket socket = new ServerSocket()) {
            socket.setReuseAddress(true);
            socket.bind(new InetSocketAddress(LOOPBACK, port), 1);
            return true;
        } catch (IOException inUse) {
            return false;
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
