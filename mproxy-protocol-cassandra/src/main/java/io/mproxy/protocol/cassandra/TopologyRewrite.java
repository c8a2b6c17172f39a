package io.mproxy.protocol.cassandra;

import io.mproxy.protocol.cassandra.codec.CqlCodecException;
import io.mproxy.protocol.cassandra.codec.CqlFrame;
import io.mproxy.protocol.cassandra.codec.CqlWire;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * Makes drivers see only the proxy. A driver learns the cluster from {@code system.local} (the
 * node it is connected to) and {@code system.peers} / {@code system.peers_v2} (every other node,
 * which it then dials). The proxy forwards those queries and rewrites the Rows answers: peers
 * come back with their metadata and no rows; the local row keeps everything (tokens, schema
 * version, release, data centre) except its addresses and native port, which become the proxy's
 * own as the client reached it. Answers the rewrite cannot read (no metadata) pass unchanged.
 */
final class TopologyRewrite {

  private static final int FLAG_GLOBAL_TABLES_SPEC = 0x0001;
  private static final int FLAG_HAS_MORE_PAGES = 0x0002;
  private static final int FLAG_NO_METADATA = 0x0004;
  private static final int FLAG_METADATA_CHANGED = 0x0008;

  private static final int TYPE_INT = 0x0009;
  private static final int TYPE_INET = 0x0010;
  private static final Set<String> ADDRESS_COLUMNS = Set.of("rpc_address", "broadcast_address", "listen_address",
      "native_address");
  private static final Set<String> PORT_COLUMNS = Set.of("rpc_port", "native_port");

  private TopologyRewrite() {
  }

  /** A peers answer without rows; null when {@code response} is not a readable Rows result. */
  static CqlFrame withoutRows(ByteBufAllocator alloc, CqlFrame response) {
    Rows rows = Rows.read(response);
    if (rows == null) {
      return null;
    }
    ByteBuf body = alloc.buffer(rows.rowsCountAt + 4);
    body.writeBytes(response.body(), response.body().readerIndex(), rows.rowsCountAt);
    body.writeInt(0);
    return response.withBody(body);
  }

  /** A local answer with the proxy's address and port; null when it cannot be read. */
  static CqlFrame withProxyAddress(ByteBufAllocator alloc, CqlFrame response, InetSocketAddress proxy) {
    Rows rows = Rows.read(response);
    if (rows == null) {
      return null;
    }
    ByteBuf in = response.body().duplicate();
    ByteBuf body = alloc.buffer(in.readableBytes() + 32);
    try {
      body.writeBytes(in, in.readerIndex(), rows.rowsCountAt);
      in.readerIndex(in.readerIndex() + rows.rowsCountAt);
      int count = in.readInt();
      body.writeInt(count);
      byte[] ip = proxy.getAddress().getAddress();
      for (int r = 0; r < count; r++) {
        for (Column c : rows.columns) {
          int len = in.readInt();
          boolean address = c.type == TYPE_INET && ADDRESS_COLUMNS.contains(c.name) && len > 0;
          boolean port = c.type == TYPE_INT && PORT_COLUMNS.contains(c.name) && len == 4;
          if (address) {
            body.writeInt(ip.length).writeBytes(ip);
          } else if (port) {
            body.writeInt(4).writeInt(proxy.getPort());
          } else {
            body.writeInt(len);
          }
          if (len > 0) {
            if (address || port) {
              in.skipBytes(len);
            } else {
              body.writeBytes(in, len);
            }
          }
        }
      }
      body.writeBytes(in);
      return response.withBody(body);
    } catch (RuntimeException e) {
      body.release();
      return null;
    }
  }

  private record Column(String name, int type) {
  }

  /** The column list of a Rows result and where its row count sits in the body. */
  private record Rows(List<Column> columns, int rowsCountAt) {

    static Rows read(CqlFrame response) {
      ByteBuf b = response.body().duplicate();
      int start = b.readerIndex();
      try {
        b.skipBytes(CqlMessages.responsePrefix(response));
        if (b.readInt() != CqlMessages.RESULT_ROWS) {
          return null;
        }
        int flags = b.readInt();
        int columns = b.readInt();
        if ((flags & FLAG_HAS_MORE_PAGES) != 0) {
          CqlWire.skipValue(b);
        }
        if ((flags & FLAG_METADATA_CHANGED) != 0 && response.version() >= 5) {
          CqlWire.readShortBytes(b);
        }
        if ((flags & FLAG_NO_METADATA) != 0) {
          return null;
        }
        boolean global = (flags & FLAG_GLOBAL_TABLES_SPEC) != 0;
        if (global) {
          CqlWire.readString(b);
          CqlWire.readString(b);
        }
        List<Column> list = new ArrayList<>(columns);
        for (int i = 0; i < columns; i++) {
          if (!global) {
            CqlWire.readString(b);
            CqlWire.readString(b);
          }
          String name = CqlWire.readString(b);
          int type = b.getUnsignedShort(b.readerIndex());
          skipType(b, 0);
          list.add(new Column(name, type));
        }
        return new Rows(list, b.readerIndex() - start);
      } catch (CqlCodecException | IndexOutOfBoundsException e) {
        return null;
      }
    }
  }

  /** Skips one [option] type spec, nested collections, UDTs and tuples included. */
  static void skipType(ByteBuf b, int depth) {
    if (depth > 32) {
      throw new CqlCodecException("type nesting too deep", 0, 0);
    }
    int id = b.readUnsignedShort();
    switch (id) {
      case 0x0000 -> CqlWire.readString(b);
      case 0x0020, 0x0022 -> skipType(b, depth + 1);
      case 0x0021 -> {
        skipType(b, depth + 1);
        skipType(b, depth + 1);
      }
      case 0x0030 -> {
        CqlWire.readString(b);
        CqlWire.readString(b);
        int n = b.readUnsignedShort();
        for (int i = 0; i < n; i++) {
          CqlWire.readString(b);
          skipType(b, depth + 1);
        }
      }
      case 0x0031 -> {
        int n = b.readUnsignedShort();
        for (int i = 0; i < n; i++) {
          skipType(b, depth + 1);
        }
      }
      default -> {
        if (id > 0x0015) {
          throw new CqlCodecException("unknown type id 0x" + Integer.toHexString(id), 0, 0);
        }
      }
    }
  }
}
