package io.mproxy.testkit;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A backend that accepts TCP connections and never says a byte: it reads and discards whatever
 * arrives, forever. This is what a hung server, a blackholed firewall after the handshake, or a
 * process stopped in a debugger look like to a proxy: the connect succeeds, so only the proxy's
 * own timeouts (handshake, acquire, query) can end the wait.
 *
 * <pre>{@code
 * try (SilentBackend silent = SilentBackend.start()) {
 *     String backend = silent.address();   // point a cluster at it
 * }
 * }</pre>
 *
 * <p>One daemon thread accepts and one reads each connection; at most {@value #MAX_CONNECTIONS}
 * connections are held (more are accepted and closed at once), so a runaway test cannot exhaust
 * threads.
 */
public final class SilentBackend implements AutoCloseable {

    /** The most connections held open at once; later ones are closed as soon as accepted. */
    public static final int MAX_CONNECTIONS = 256;

    private final ServerSocket server;
    private final Set<Socket> open = ConcurrentHashMap.newKeySet();
    private final AtomicInteger accepted = new AtomicInteger();
    private final AtomicLong bytesRead = new AtomicLong();
    private volatile boolean closed;

    private SilentBackend(ServerSocket server) {
        this.server = server;
    }

    /** Binds a free loopback port and starts accepting. */
    public static SilentBackend start() {
        ServerSocket server;
        try {
            server = new ServerSocket();
            server.bind(new InetSocketAddress(FreePort.LOOPBACK, 0), 64);
        } catch (IOException e) {
            throw new UncheckedIOException("SilentBackend cannot bind a loopback port", e);
        }
        SilentBackend backend = new SilentBackend(server);
        Thread acceptor = new Thread(backend::acceptLoop, "silent-backend-accept-" + server.getLocalPort());
        acceptor.setDaemon(true);
        acceptor.start();
        return backend;
    }

    public int port() {
        return server.getLocalPort();
    }

    /** {@code 127.0.0.1:port}, as configuration files spell backend addresses. */
    public String address() {
        return FreePort.LOOPBACK.getHostAddress() + ":" + port();
    }

    /** Connections accepted so far (including any closed since). */
    public int accepted() {
        return accepted.get();
    }

    /** Connections open now: closed by the peer ones are gone. */
    public int openConnections() {
        return open.size();
    }

    /** Bytes received (and ignored) over all connections. */
    public long bytesRead() {
        return bytesRead.get();
    }

    @Override
    public void close() {
        closed = true;
        closeQuietly(server);
        for (Socket s : open) {
            closeQuietly(s);
        }
        open.clear();
    }

    @Override
    public String toString() {
        return "SilentBackend[" + address() + ", accepted " + accepted() + ", open " + openConnections() + "]";
    }

    private void acceptLoop() {
        while (!closed) {
            Socket s;
            try {
                s = server.accept();
            } catch (IOException e) {
                return; // closed
            }
            accepted.incrementAndGet();
            if (closed || open.size() >= MAX_CONNECTIONS) {
                closeQuietly(s);
                continue;
            }
            open.add(s);
            Thread reader = new Thread(() -> drain(s), "silent-backend-read-" + s.getPort());
            reader.setDaemon(true);
            reader.start();
        }
    }

    private void drain(Socket s) {
        byte[] buffer = new byte[8192];
        try (s; InputStream in = s.getInputStream()) {
            for (int n; (n = in.read(buffer)) != -1; ) {
                bytesRead.addAndGet(n);
            }
        } catch (SocketException closedHere) {
            // close() or a reset by the peer
        } catch (IOException e) {
            // the peer went away
        } finally {
            open.remove(s);
        }
    }

    private static void closeQuietly(AutoCloseable c) {
        try {
            c.close();
        } catch (Exception ignored) {
            // best effort
        }
    }
}
