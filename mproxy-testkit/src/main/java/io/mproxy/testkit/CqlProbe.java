package io.mproxy.testkit;

import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import java.time.Duration;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;

/**
 * A few CQL native protocol v4 frames spoken over a plain socket: enough to tell whether a node
 * (or the proxy) accepts a login, and to send hand-made bytes in tests. Not a driver: fixtures
 * use it where a driver would bring its own Netty, and tests use it for malformed input.
 */
public final class CqlProbe {

    public static final int OPCODE_ERROR = 0x00;
    public static final int OPCODE_STARTUP = 0x01;
    public static final int OPCODE_READY = 0x02;
    public static final int OPCODE_AUTHENTICATE = 0x03;
    public static final int OPCODE_AUTH_RESPONSE = 0x0F;
    public static final int OPCODE_AUTH_SUCCESS = 0x10;

    private static final int MAX_BODY = 1 << 20;

    private CqlProbe() {
    }

    /** One response frame: header fields and body. */
    public record Frame(int version, int flags, int stream, int opcode, byte[] body) {

        /** For an ERROR frame: the error code. */
        public int errorCode() {
            return ByteBuffer.wrap(body).getInt(0);
        }

        /** For an ERROR frame: the message. */
        public String errorMessage() {
            ByteBuffer b = ByteBuffer.wrap(body);
            b.getInt();
            int len = b.getShort() & 0xFFFF;
            return new String(body, 6, len, StandardCharsets.UTF_8);
        }
    }

    /**
     * Logs in with protocol v4 (STARTUP, then SASL PLAIN when asked). Returns null on success,
     * else what the server answered.
     *
     * @throws IOException when the connection fails or times out
     */
    public static String login(String host, int port, String user, String password, Duration timeout)
            throws IOException {
        try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress(host, port), (int) timeout.toMillis());
            socket.setSoTimeout((int) timeout.toMillis());
            return login(socket, user, password);
        }
    }

    /**
     * As {@link #login(String, int, String, String, Duration)} over TLS from the first byte (a
     * node with {@code client_encryption_options} on), trusting only the PEM certificate
     * {@code trusted} and checking the host name against it.
     *
     * @throws IOException when the connection or the TLS handshake fails or times out
     */
    public static String loginTls(String host, int port, Path trusted, String user, String password,
            Duration timeout) throws IOException {
        SSLContext tls = trusting(trusted);
        try (Socket plain = new Socket()) {
            plain.connect(new InetSocketAddress(host, port), (int) timeout.toMillis());
            plain.setSoTimeout((int) timeout.toMillis());
            try (SSLSocket socket = (SSLSocket) tls.getSocketFactory().createSocket(plain, host, port, true)) {
                SSLParameters params = socket.getSSLParameters();
                params.setEndpointIdentificationAlgorithm("HTTPS");
                socket.setSSLParameters(params);
                socket.startHandshake();
                return login(socket, user, password);
            }
        }
    }

    /** A TLS context whose only trust anchor is the PEM certificate {@code pem}. */
    public static SSLContext trusting(Path pem) throws IOException {
        try (InputStream in = Files.newInputStream(pem)) {
            KeyStore trust = KeyStore.getInstance(KeyStore.getDefaultType());
            trust.load(null, null);
            trust.setCertificateEntry("trusted", CertificateFactory.getInstance("X.509").generateCertificate(in));
            TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            tmf.init(trust);
            SSLContext ctx = SSLContext.getInstance("TLS");
            ctx.init(null, tmf.getTrustManagers(), null);
            return ctx;
        } catch (GeneralSecurityException e) {
            throw new IOException("cannot build a TLS context trusting " + pem, e);
        }
    }

    private static String login(Socket socket, String user, String password) throws IOException {
        OutputStream out = socket.getOutputStream();
        DataInputStream in = new DataInputStream(socket.getInputStream());
        out.write(frame(4, 0, OPCODE_STARTUP, stringMap("CQL_VERSION", "3.0.0")));
        out.flush();
        Frame reply = read(in);
        if (reply.opcode() == OPCODE_READY) {
            return null;
        }
        if (reply.opcode() != OPCODE_AUTHENTICATE) {
            return describe(reply);
        }
        out.write(frame(4, 1, OPCODE_AUTH_RESPONSE, bytes(plainToken(user, password))));
        out.flush();
        reply = read(in);
        return reply.opcode() == OPCODE_AUTH_SUCCESS ? null : describe(reply);
    }

    /** A v3+ frame header (9 bytes) and body, as a request. */
    public static byte[] frame(int version, int stream, int opcode, byte[] body) {
        ByteBuffer b = ByteBuffer.allocate(9 + body.length);
        b.put((byte) version).put((byte) 0).putShort((short) stream).put((byte) opcode).putInt(body.length).put(body);
        return b.array();
    }

    /** Reads one response frame with a 9-byte header. */
    public static Frame read(DataInputStream in) throws IOException {
        int version = in.readUnsignedByte();
        int flags = in.readUnsignedByte();
        int stream = in.readShort();
        int opcode = in.readUnsignedByte();
        int length = in.readInt();
        if (length < 0 || length > MAX_BODY) {
            throw new IOException("frame body length " + length + " out of range");
        }
        byte[] body = new byte[length];
        in.readFully(body);
        return new Frame(version, flags, stream, opcode, body);
    }

    /** A [string map] body. */
    public static byte[] stringMap(String... keysAndValues) {
        int size = 2;
        for (String s : keysAndValues) {
            size += 2 + s.getBytes(StandardCharsets.UTF_8).length;
        }
        ByteBuffer b = ByteBuffer.allocate(size).putShort((short) (keysAndValues.length / 2));
        for (String s : keysAndValues) {
            byte[] bytes = s.getBytes(StandardCharsets.UTF_8);
            b.putShort((short) bytes.length).put(bytes);
        }
        return b.array();
    }

    /** A [bytes] value. */
    public static byte[] bytes(byte[] value) {
        return ByteBuffer.allocate(4 + value.length).putInt(value.length).put(value).array();
    }

    /** The SASL PLAIN token Cassandra's PasswordAuthenticator expects: NUL user NUL password. */
    public static byte[] plainToken(String user, String password) {
        byte[] u = user.getBytes(StandardCharsets.UTF_8);
        byte[] p = password.getBytes(StandardCharsets.UTF_8);
        return ByteBuffer.allocate(2 + u.length + p.length).put((byte) 0).put(u).put((byte) 0).put(p).array();
    }

    private static String describe(Frame reply) {
        if (reply.opcode() == OPCODE_ERROR && reply.body().length >= 6) {
            return "ERROR 0x" + Integer.toHexString(reply.errorCode()) + ": " + reply.errorMessage();
        }
        return "unexpected opcode 0x" + Integer.toHexString(reply.opcode());
    }
}
