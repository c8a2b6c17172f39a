package io.mproxy.protocol.mysql;

import io.mproxy.core.tls.BackendTls;
import io.mproxy.protocol.mysql.auth.Scrambles;
import io.mproxy.protocol.mysql.codec.Mysql;
import io.mproxy.protocol.mysql.codec.MysqlBuf;
import io.mproxy.protocol.mysql.codec.MysqlPacket;
import io.mproxy.protocol.mysql.codec.Packets;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.util.concurrent.Promise;
import java.nio.charset.StandardCharsets;

/**
 * The proxy's own login to a backend: reads the server greeting, upgrades to TLS when the
 * cluster asks for it (an SSLRequest, then the TLS handshake, as {@code sslmode} does for
 * libmysqlclient), answers with a HandshakeResponse41 carrying the cluster credentials and the
 * variant's capabilities, follows an auth switch to {@code mysql_native_password} or
 * {@code caching_sha2_password} (fast path; full authentication sends the password only inside
 * TLS), and completes with the connection's {@link MysqlBackend} state at the final OK.
 */
final class LoginExchange extends Exchange {

  /** Capabilities the proxy always asks a backend for (the variant adds its own). */
  static final int BASE_CAPS = Mysql.CLIENT_LONG_PASSWORD | Mysql.CLIENT_LONG_FLAG | Mysql.CLIENT_PROTOCOL_41
      | Mysql.CLIENT_TRANSACTIONS | Mysql.CLIENT_SECURE_CONNECTION | Mysql.CLIENT_PLUGIN_AUTH
      | Mysql.CLIENT_PLUGIN_AUTH_LENENC_CLIENT_DATA | Mysql.CLIENT_CONNECT_ATTRS | Mysql.CLIENT_MULTI_STATEMENTS
      | Mysql.CLIENT_MULTI_RESULTS | Mysql.CLIENT_PS_MULTI_RESULTS;

  private enum State { GREETING, TLS, AUTH, DONE }

  private final Channel channel;
  private final MysqlBackendHandler handler;
  private final String user;
  private final String password;
  private final String database;
  private final Variant variant;
  private final BackendTls tls;
  private final Promise<MysqlBackend> result;
  private State state = State.GREETING;
  private long threadId;
  private String serverVersion;
  private int serverCaps;
  /** MariaDB's extended capabilities from the greeting (0 from a MySQL server). */
  private int serverExtCaps;
  private String plugin;
  private byte[] nonce;
  private boolean encrypted;
  private boolean greetingOnly;

  LoginExchange(Channel channel, MysqlBackendHandler handler, String user, String password, String database,
      Variant variant, BackendTls tls, Promise<MysqlBackend> result) {
    this.channel = channel;
    this.handler = handler;
    this.user = user == null ? "" : user;
    this.password = password;
    this.database = database;
    this.variant = variant;
    this.tls = tls;
    this.result = result;
  }

  /**
   * Stops after the greeting: the connection is for a passthrough client, who logs in itself; the
   * result carries the server's {@link MysqlBackend.Greeting} (whether the login will go over TLS;
   * {@link MysqlBackendConnector#relayLogin} upgrades the connection then).
   */
  LoginExchange greetingOnly() {
    greetingOnly = true;
    return this;
  }

  @Override
  boolean onPacket(MysqlPacket packet) {
    try {
      if (packet.header() == Mysql.ERR) {
        fail("backend refused the login: " + Packets.describeErr(packet.payload()));
        return true;
      }
      switch (state) {
        case GREETING:
          greeting(packet);
          return greetingOnly;
        case AUTH:
          return auth(packet);
        case TLS:
          fail("backend sent a packet during the TLS handshake: " + packet);
          return true;
        default:
          return true;
      }
    } catch (IndexOutOfBoundsException e) {
      fail("malformed packet during login: " + packet);
      return true;
    } finally {
      packet.release();
    }
  }

  private void greeting(MysqlPacket packet) {
    ByteBuf b = packet.payload().duplicate();
    int protocol = b.readUnsignedByte();
    if (protocol != 10) {
      fail("backend speaks handshake protocol " + protocol + " (expected: 10)");
      return;
    }
    serverVersion = MysqlBuf.readNulString(b);
    threadId = b.readUnsignedIntLE();
    byte[] nonce1 = new byte[8];
    b.readBytes(nonce1);
    b.skipBytes(1);
    int capsLow = b.readUnsignedShortLE();
    b.skipBytes(1 + 2);
    int capsHigh = b.readUnsignedShortLE();
    serverCaps = capsLow | (capsHigh << 16);
    int authLen = b.readUnsignedByte();
    b.skipBytes(6);
    int ext = b.readIntLE();
    serverExtCaps = (serverCaps & Mysql.CLIENT_MYSQL) == 0 ? ext : 0;
    int part2 = Math.max(13, authLen - 8);
    byte[] nonce2 = new byte[Math.min(part2, b.readableBytes())];
    b.readBytes(nonce2);
    plugin = b.isReadable() ? MysqlBuf.readNulString(b) : Scrambles.NATIVE;
    nonce = new byte[8 + 12];
    System.arraycopy(nonce1, 0, nonce, 0, 8);
    System.arraycopy(nonce2, 0, nonce, 8, Math.min(12, nonce2.length));
    if ((serverCaps & Mysql.CLIENT_PROTOCOL_41) == 0) {
      fail("backend does not speak protocol 4.1");
      return;
    }
    if (!greetingOnly && !plugin.equals(Scrambles.NATIVE) && !plugin.equals(Scrambles.CACHING_SHA2)) {
      plugin = Scrambles.NATIVE;
    }
    int seq = packet.sequenceId() + 1;
    if (!tls.mode().wanted()) {
      respond(seq);
      return;
    }
    if ((serverCaps & Mysql.CLIENT_SSL) == 0) {
      if (tls.mode().mandatory()) {
        fail("the backend does not offer TLS and the cluster's tls.mode is " + tls.mode());
        return;
      }
      respond(seq);
      return;
    }
    if (greetingOnly) {
      // the client's own capabilities go in the SSLRequest: the TLS upgrade waits for its response
      state = State.DONE;
      result.trySuccess(backend(new MysqlBackend.Greeting(nonce, plugin, seq + 1, true)));
      return;
    }
    startTls(seq);
  }

  /** SSLRequest (the first 32 bytes of a HandshakeResponse41 with CLIENT_SSL), then the TLS handshake. */
  private void startTls(int seq) {
    state = State.TLS;
    ByteBuf out = Packets.start(channel.alloc(), seq, 32);
    out.writeIntLE(caps() | Mysql.CLIENT_SSL).writeIntLE(1 << 30).writeByte(variant.collation()).writeZero(19)
        .writeIntLE(extCaps());
    channel.writeAndFlush(Packets.finish(out), channel.voidPromise());
    tls.startOn(channel).addListener(f -> {
      if (state != State.TLS) {
        return;
      }
      if (!f.isSuccess()) {
        fail("TLS handshake with the backend failed: " + f.cause());
        channel.close();
        return;
      }
      encrypted = true;
      respond(seq + 1);
    });
  }

  private int caps() {
    int caps = (BASE_CAPS | variant.caps()) & serverCaps;
    if (database != null) {
      caps |= Mysql.CLIENT_CONNECT_WITH_DB & serverCaps;
    }
    if (encrypted) {
      caps |= Mysql.CLIENT_SSL;
    }
    return caps;
  }

  /** The variant's MariaDB extended capabilities the server offers (none to a MySQL server). */
  private int extCaps() {
    return (serverCaps & Mysql.CLIENT_MYSQL) == 0 ? variant.extCaps() & serverExtCaps : 0;
  }

  private MysqlBackend backend(MysqlBackend.Greeting greeting) {
    MysqlBackend be = new MysqlBackend(handler, variant, threadId, serverVersion, serverCaps, database, greeting);
    be.serverExtCaps = serverExtCaps;
    be.cacheMetadata = greeting == null && (extCaps() & Mysql.MARIADB_CLIENT_CACHE_METADATA) != 0;
    return be;
  }

  private void respond(int seq) {
    if (greetingOnly) {
      state = State.DONE;
      result.trySuccess(backend(new MysqlBackend.Greeting(nonce, plugin, seq, encrypted)));
      return;
    }
    int caps = caps();
    byte[] proof = proof(plugin, nonce);
    ByteBuf out = Packets.start(channel.alloc(), seq, 128);
    out.writeIntLE(caps).writeIntLE(1 << 30).writeByte(variant.collation()).writeZero(19).writeIntLE(extCaps());
    MysqlBuf.writeNulString(out, user);
    if ((caps & Mysql.CLIENT_PLUGIN_AUTH_LENENC_CLIENT_DATA) != 0) {
      MysqlBuf.writeLenencBytes(out, proof);
    } else {
      out.writeByte(proof.length).writeBytes(proof);
    }
    if ((caps & Mysql.CLIENT_CONNECT_WITH_DB) != 0) {
      MysqlBuf.writeNulString(out, database);
    }
    MysqlBuf.writeNulString(out, plugin);
    if ((caps & Mysql.CLIENT_CONNECT_ATTRS) != 0) {
      ByteBuf attrs = channel.alloc().buffer(64);
      MysqlBuf.writeLenencString(attrs, "_client_name");
      MysqlBuf.writeLenencString(attrs, "mproxy");
      MysqlBuf.writeLenencString(attrs, "program_name");
      MysqlBuf.writeLenencString(attrs, "mproxy");
      MysqlBuf.writeLenenc(out, attrs.readableBytes());
      out.writeBytes(attrs);
      attrs.release();
    }
    state = State.AUTH;
    channel.writeAndFlush(Packets.finish(out), channel.voidPromise());
  }

  private boolean auth(MysqlPacket packet) {
    int h = packet.header();
    ByteBuf b = packet.payload().duplicate();
    if (h == Mysql.OK) {
      state = State.DONE;
      result.trySuccess(backend(null));
      return true;
    }
    if (h == Mysql.EOF) {
      b.skipBytes(1);
      plugin = MysqlBuf.readNulString(b);
      byte[] data = new byte[b.readableBytes()];
      b.readBytes(data);
      if (!plugin.equals(Scrambles.NATIVE) && !plugin.equals(Scrambles.CACHING_SHA2)) {
        fail("backend asks for auth plugin " + plugin + " (supported: mysql_native_password,"
            + " caching_sha2_password)");
        return true;
      }
      reply(packet.sequenceId() + 1, proof(plugin, data));
      return false;
    }
    if (h == 0x01 && packet.length() >= 2) {
      int what = b.getUnsignedByte(b.readerIndex() + 1);
      if (what == 3) {
        return false;
      }
      if (what == 4 && encrypted) {
        byte[] pw = (password == null ? "" : password).getBytes(StandardCharsets.UTF_8);
        byte[] clear = java.util.Arrays.copyOf(pw, pw.length + 1);
        reply(packet.sequenceId() + 1, clear);
        return false;
      }
      fail("backend asks for caching_sha2_password full authentication, which needs TLS to the backend"
          + " (set the cluster's tls, log the proxy's user in once directly, or use mysql_native_password)");
      return true;
    }
    fail("unexpected packet during login: " + packet);
    return true;
  }

  private byte[] proof(String pluginName, byte[] nonce) {
    return pluginName.equals(Scrambles.CACHING_SHA2) ? Scrambles.sha2Proof(password, nonce)
        : Scrambles.nativeProof(password, nonce);
  }

  private void reply(int seq, byte[] data) {
    ByteBuf out = Packets.start(channel.alloc(), seq, data.length);
    out.writeBytes(data);
    channel.writeAndFlush(Packets.finish(out), channel.voidPromise());
  }

  private void fail(String message) {
    state = State.DONE;
    result.tryFailure(new IllegalStateException(message));
  }

  @Override
  void failed(Throwable cause) {
    result.tryFailure(cause);
  }
}
