package io.mproxy.server.it.mongo;

import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A loopback TCP relay between a driver and the proxy that records, per driver connection, the
 * name of every command the driver sent (the first key of an OP_MSG body or OP_QUERY document),
 * so a test can see which messages a driver exchanged — e.g. whether it skipped
 * {@code saslStart}. Bytes pass through unchanged; each connection gets two daemon threads.
 */
final class CommandRecordingRelay implements AutoCloseable {

  private static final int MAX_MESSAGE = 48_000_000;

  private final ServerSocket server;
  private final int target;
  private final List<List<String>> connections = new CopyOnWriteArrayList<>();
  /** The body of every OP_MSG sent through the relay, in order, across connections. */
  private final List<org.bson.BsonDocument> bodies = new CopyOnWriteArrayList<>();
  private final List<Socket> sockets = new CopyOnWriteArrayList<>();

  CommandRecordingRelay(int targetPort) throws IOException {
    this.target = targetPort;
    this.server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    Thread accept = new Thread(this::accept, "relay-accept");
    accept.setDaemon(true);
    accept.start();
  }

  int port() {
    return server.getLocalPort();
  }

  /** The command names each driver connection sent so far, in order, one list per connection. */
  List<List<String>> commands() {
    List<List<String>> copy = new ArrayList<>();
    for (List<String> c : connections) {
      synchronized (c) {
        copy.add(List.copyOf(c));
      }
    }
    return copy;
  }

  /** The body document of every OP_MSG sent so far, all connections, in arrival order. */
  List<org.bson.BsonDocument> bodies() {
    return List.copyOf(bodies);
  }

  private void accept() {
    while (!server.isClosed()) {
      try {
        Socket client = server.accept();
        Socket upstream = new Socket(InetAddress.getLoopbackAddress(), target);
        sockets.add(client);
        sockets.add(upstream);
        List<String> names = new ArrayList<>();
        connections.add(names);
        start(() -> recordAndForward(client, upstream, names, bodies));
        start(() -> copy(upstream, client));
      } catch (IOException e) {
        return;
      }
    }
  }

  private static void start(Runnable r) {
    Thread t = new Thread(r, "relay-io");
    t.setDaemon(true);
    t.start();
  }

  private static void recordAndForward(Socket from, Socket to, List<String> names,
      List<org.bson.BsonDocument> bodies) {
    try (from; to) {
      DataInputStream in = new DataInputStream(from.getInputStream());
      OutputStream out = to.getOutputStream();
      byte[] header = new byte[4];
      while (true) {
        in.readFully(header);
        int length = ByteBuffer.wrap(header).order(ByteOrder.LITTLE_ENDIAN).getInt();
        if (length < 16 || length > MAX_MESSAGE) {
          throw new IOException("bad message length " + length);
        }
        byte[] message = new byte[length];
        System.arraycopy(header, 0, message, 0, 4);
        in.readFully(message, 4, length - 4);
        synchronized (names) {
          names.add(commandName(message));
        }
        org.bson.BsonDocument body = opMsgBody(message);
        if (body != null) {
          bodies.add(body);
        }
        out.write(message);
        out.flush();
      }
    } catch (IOException e) {
      // either side closed
    }
  }

  /** The first key of the command document, or {@code ?<opCode>} when there is none to read. */
  static String commandName(byte[] m) {
    ByteBuffer b = ByteBuffer.wrap(m).order(ByteOrder.LITTLE_ENDIAN);
    int opCode = b.getInt(12);
    int doc;
    if (opCode == 2013) {
      doc = 16 + 4 + 1; // flags, section kind 0
    } else if (opCode == 2004) {
      int nameEnd = 20;
      while (nameEnd < m.length && m[nameEnd] != 0) {
        nameEnd++;
      }
      doc = nameEnd + 1 + 8; // collection name, numberToSkip, numberToReturn
    } else {
      return "?" + opCode;
    }
    int keyStart = doc + 4 + 1;
    int keyEnd = keyStart;
    while (keyEnd < m.length && m[keyEnd] != 0) {
      keyEnd++;
    }
    if (keyEnd >= m.length) {
      return "?" + opCode;
    }
    return new String(m, keyStart, keyEnd - keyStart, StandardCharsets.UTF_8);
  }

  /** The kind-0 section of an OP_MSG whose body is its first section, else null. */
  static org.bson.BsonDocument opMsgBody(byte[] m) {
    ByteBuffer b = ByteBuffer.wrap(m).order(ByteOrder.LITTLE_ENDIAN);
    if (b.getInt(12) != 2013 || m.length < 26 || m[20] != 0) {
      return null;
    }
    int length = b.getInt(21);
    if (length < 5 || 21 + length > m.length) {
      return null;
    }
    return new org.bson.RawBsonDocument(m, 21, length).decode(new org.bson.codecs.BsonDocumentCodec());
  }

  private static void copy(Socket from, Socket to) {
    try (from; to) {
      InputStream in = from.getInputStream();
      OutputStream out = to.getOutputStream();
      byte[] buf = new byte[64 * 1024];
      int n;
      while ((n = in.read(buf)) >= 0) {
        out.write(buf, 0, n);
        out.flush();
      }
    } catch (IOException e) {
      // either side closed
    }
  }

  @Override
  public void close() throws IOException {
    server.close();
    for (Socket s : sockets) {
      s.close();
    }
  }
}
