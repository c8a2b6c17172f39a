package io.mproxy.protocol.mysql.codec;

import io.netty.buffer.ByteBuf;

/**
 * Follows the server's answer to one command, packet by packet, to find where it ends and what
 * it left behind (status flags, an error, a prepared statement id). It is an explicit state
 * machine over the response shapes of the protocol: OK / ERR, text and binary result sets (with
 * classic EOF packets or, under CLIENT_DEPRECATE_EOF, OK-style terminators), multiple results,
 * COM_STMT_PREPARE's parameter and column definitions, COM_FIELD_LIST, single-packet answers.
 * It never keeps the packets: the caller forwards them.
 */
public final class ResponseReader {

  /** What a command's response looks like. */
  public enum Shape {
    /** COM_QUERY and COM_STMT_EXECUTE: OK, ERR or result sets, possibly several. */
    RESULTS,
    /** COM_STMT_FETCH: binary rows then a terminator. */
    ROWS,
    /** COM_STMT_PREPARE. */
    PREPARE,
    /** COM_FIELD_LIST: column definitions then EOF. */
    FIELD_LIST,
    /** One packet: COM_PING, COM_INIT_DB, COM_STMT_RESET, COM_STATISTICS... */
    SINGLE
  }

  private enum State { FIRST, COLUMNS, COLUMNS_EOF, ROWS, PARAMS, PARAMS_EOF, PCOLUMNS, PCOLUMNS_EOF,
    FIELDS, DONE }

  private Shape shape;
  private boolean deprecateEof;
  /** MARIADB_CLIENT_CACHE_METADATA: a column count may be followed by a "metadata follows" byte. */
  private boolean cacheMetadata;
  /** Keep the first result set's (or a prepare's) column definitions as {@link #metadata()}. */
  private boolean capture;
  private java.util.List<byte[]> captured;
  private ColumnMetadata metadata;
  private boolean metadataSkipped;
  private int metadataFlagIndex = -1;
  private State state;
  private long remaining;
  private int status = -1;
  private int errorCode = -1;
  private boolean localInfile;
  private long stmtId = -1;
  private int prepareParams;
  private int prepareColumns;
  private int resultSets;
  private long affectedRows;
  private long lastInsertId;
  private long rowCount = -1;

  public ResponseReader(Shape shape, boolean deprecateEof) {
    reset(shape, deprecateEof);
  }

  public ResponseReader(Shape shape, boolean deprecateEof, boolean cacheMetadata) {
    reset(shape, deprecateEof, cacheMetadata);
  }

  /**
   * Starts over for the next command's answer, as a new reader would: a session that runs one
   * command at a time keeps one reader instead of making one per command.
   */
  public ResponseReader reset(Shape nextShape, boolean nextDeprecateEof) {
    return reset(nextShape, nextDeprecateEof, false);
  }

  /** {@link #reset(Shape, boolean)} for a connection that negotiated MariaDB's metadata caching or not. */
  public ResponseReader reset(Shape nextShape, boolean nextDeprecateEof, boolean nextCacheMetadata) {
    shape = nextShape;
    deprecateEof = nextDeprecateEof;
    cacheMetadata = nextCacheMetadata;
    capture = false;
    captured = null;
    metadata = null;
    metadataSkipped = false;
    metadataFlagIndex = -1;
    state = switch (nextShape) {
      case ROWS -> State.ROWS;
      case FIELD_LIST -> State.FIELDS;
      default -> State.FIRST;
    };
    remaining = 0;
    status = -1;
    errorCode = -1;
    localInfile = false;
    stmtId = -1;
    prepareParams = 0;
    prepareColumns = 0;
    resultSets = 0;
    affectedRows = 0;
    lastInsertId = 0;
    rowCount = -1;
    return this;
  }

  public Shape shape() {
    return shape;
  }

  /**
   * Keeps the column definitions of this answer's first result set (or of a prepare) for
   * {@link #metadata()}; copies them, so only for answers that are not on the hot path or that
   * carry metadata rarely (executes under metadata caching).
   */
  public ResponseReader captureMetadata() {
    capture = true;
    return this;
  }

  /**
   * The column definitions captured ({@link #captureMetadata()}): a prepare's result columns
   * ({@link ColumnMetadata#EMPTY} when it has none), or those of the first result set when they
   * were sent; null when none were sent (skipped, an OK or an ERR).
   */
  public ColumnMetadata metadata() {
    return metadata;
  }

  /** The first result set's column count said "no metadata follows" (metadata caching). */
  public boolean metadataSkipped() {
    return metadataSkipped;
  }

  /**
   * Where, in the buffer of the packet that made {@link #metadataSkipped()} true, its "metadata
   * follows" byte is (valid until the next packet is read).
   */
  public int metadataFlagIndex() {
    return metadataFlagIndex;
  }

  /** True once the last packet of the response was seen. */
  public boolean done() {
    return state == State.DONE;
  }

  /** Server status flags of the last OK/EOF seen, or -1 when none carried them. */
  public int status() {
    return status;
  }

  /** The error code when the response ended with ERR, else -1. */
  public int errorCode() {
    return errorCode;
  }

  /** The server asked for a LOCAL INFILE (the proxy never negotiates it, so this is a protocol error). */
  public boolean localInfile() {
    return localInfile;
  }

  /** COM_STMT_PREPARE: the server's statement id, or -1. */
  public long statementId() {
    return stmtId;
  }

  public int prepareParams() {
    return prepareParams;
  }

  public int prepareColumns() {
    return prepareColumns;
  }

  public int resultSets() {
    return resultSets;
  }

  /**
   * The last non-zero last_insert_id of the OK packets read (what {@code LAST_INSERT_ID()} returns
   * after this command on the server), or 0.
   */
  public long lastInsertId() {
    return lastInsertId;
  }

  /**
   * What {@code ROW_COUNT()} returns after this command: the affected rows of its last result
   * when that was an OK, -1 after a result set or an error.
   */
  public long rowCount() {
    return errorCode >= 0 ? -1 : rowCount;
  }

  public long affectedRows() {
    return affectedRows;
  }

  /**
   * Reads one packet of the response (the packet stays owned by the caller). Returns true when
   * it was the last one. Throws {@link MysqlCodecException} on bytes no server sends.
   */
  public boolean accept(MysqlPacket packet) {
    return accept(packet.payloadBuffer(), packet.payloadIndex(), packet.length());
  }

  /**
   * {@link #accept(MysqlPacket)} for a packet read in place: its payload is the {@code len} bytes
   * of {@code p} from index {@code at} (nothing moves, nothing is kept).
   */
  public boolean accept(ByteBuf p, int at, int len) {
    // read in place (absolute indexes): no view or duplicate per packet on the forward path
    int h = len > 0 ? p.getUnsignedByte(at) : -1;
    switch (state) {
      case FIRST:
        first(p, at, len, h);
        break;
      case COLUMNS:
        keepColumn(p, at, len);
        if (--remaining == 0) {
          state = deprecateEof ? State.ROWS : State.COLUMNS_EOF;
          endCapture();
        }
        break;
      case COLUMNS_EOF:
        if (h == Mysql.ERR) {
          error(p, at, len);
          break;
        }
        if (h != Mysql.EOF) {
          throw unexpected(h, len, "EOF after column definitions");
        }
        readEof(p, at, len);
        state = (status & Mysql.SERVER_STATUS_CURSOR_EXISTS) != 0 ? State.DONE : State.ROWS;
        break;
      case ROWS:
        rows(p, at, len, h);
        break;
      case PARAMS:
        if (--remaining == 0) {
          afterParams();
        }
        break;
      case PARAMS_EOF:
        expectEof(h, len);
        afterParamsEof();
        break;
      case PCOLUMNS:
        keepColumn(p, at, len);
        if (--remaining == 0) {
          state = deprecateEof ? State.DONE : State.PCOLUMNS_EOF;
          endCapture();
        }
        break;
      case PCOLUMNS_EOF:
        expectEof(h, len);
        state = State.DONE;
        break;
      case FIELDS:
        if (h == Mysql.ERR) {
          error(p, at, len);
        } else if (h == Mysql.EOF && len < 9) {
          state = State.DONE;
        }
        break;
      case DONE:
      default:
        throw unexpected(h, len, "nothing (the response had ended)");
    }
    return state == State.DONE;
  }

  private void first(ByteBuf p, int at, int len, int h) {
    if (shape == Shape.SINGLE) {
      if (h == Mysql.ERR) {
        error(p, at, len);
        return;
      }
      if (h == Mysql.OK && len >= 7) {
        readOk(p, at, len);
      } else if (h == Mysql.EOF && len < 9) {
        readEof(p, at, len);
      }
      state = State.DONE;
      return;
    }
    if (h == Mysql.ERR) {
      error(p, at, len);
      return;
    }
    if (shape == Shape.PREPARE) {
      if (h != Mysql.OK || len < 9) {
        throw unexpected(h, len, "a COM_STMT_PREPARE OK");
      }
      stmtId = p.getUnsignedIntLE(at + 1);
      prepareColumns = p.getUnsignedShortLE(at + 5);
      prepareParams = p.getUnsignedShortLE(at + 7);
      if (capture) {
        metadata = ColumnMetadata.EMPTY;
        captured = prepareColumns > 0 ? new java.util.ArrayList<>(prepareColumns) : null;
      }
      if (prepareParams > 0) {
        remaining = prepareParams;
        state = State.PARAMS;
      } else {
        afterParamsEof();
      }
      return;
    }
    if (h == Mysql.OK) {
      readOk(p, at, len);
      rowCount = affectedRows;
      resultSets++;
      state = (status & Mysql.SERVER_MORE_RESULTS_EXISTS) != 0 ? State.FIRST : State.DONE;
      return;
    }
    if (h == Mysql.LOCAL_INFILE) {
      localInfile = true;
      throw unexpected(h, len, "a result (LOCAL INFILE was not negotiated)");
    }
    long columns;
    try {
      columns = MysqlBuf.getLenenc(p, at, at + len);
    } catch (IndexOutOfBoundsException e) {
      throw unexpected(h, len, "a column count");
    }
    if (columns <= 0) {
      throw unexpected(h, len, "a positive column count");
    }
    resultSets++;
    rowCount = -1;
    remaining = columns;
    state = State.COLUMNS;
    int size = MysqlBuf.lenencSize(p, at);
    // under metadata caching the count is followed by "metadata follows" (0: no column definitions)
    if (cacheMetadata && len > size && p.getUnsignedByte(at + size) == 0) {
      state = deprecateEof ? State.ROWS : State.COLUMNS_EOF;
      if (resultSets == 1) {
        metadataSkipped = true;
        metadataFlagIndex = at + size;
      }
      return;
    }
    if (capture && resultSets == 1) {
      captured = new java.util.ArrayList<>((int) Math.min(columns, 4096));
    }
  }

  private void keepColumn(ByteBuf p, int at, int len) {
    if (captured != null) {
      byte[] b = new byte[len];
      p.getBytes(at, b);
      captured.add(b);
    }
  }

  private void endCapture() {
    if (captured != null) {
      metadata = ColumnMetadata.of(captured);
      captured = null;
    }
  }

  private void rows(ByteBuf p, int at, int len, int h) {
    if (h == Mysql.ERR) {
      error(p, at, len);
      return;
    }
    if (h != Mysql.EOF) {
      return;
    }
    if (deprecateEof ? len >= MysqlPacket.MAX_CHUNK : len >= 9) {
      return;
    }
    if (deprecateEof) {
      readOk(p, at, len);
    } else {
      readEof(p, at, len);
    }
    boolean more = (status & Mysql.SERVER_MORE_RESULTS_EXISTS) != 0;
    state = more && shape == Shape.RESULTS ? State.FIRST : State.DONE;
  }

  private void afterParams() {
    state = deprecateEof ? State.DONE : State.PARAMS_EOF;
    if (deprecateEof) {
      afterParamsEof();
    }
  }

  private void afterParamsEof() {
    if (prepareColumns > 0) {
      remaining = prepareColumns;
      state = State.PCOLUMNS;
    } else {
      state = State.DONE;
    }
  }

  private void expectEof(int h, int len) {
    if (h != Mysql.EOF || len >= 9) {
      throw unexpected(h, len, "EOF after definitions");
    }
  }

  private void error(ByteBuf p, int at, int len) {
    errorCode = len >= 3 ? p.getUnsignedShortLE(at + 1) : 0;
    state = State.DONE;
  }

  private void readEof(ByteBuf p, int at, int len) {
    if (len >= 5) {
      status = p.getUnsignedShortLE(at + 3);
    }
  }

  private void readOk(ByteBuf p, int at, int len) {
    int end = at + len;
    int i = at + 1;
    try {
      affectedRows = MysqlBuf.getLenenc(p, i, end);
      i += MysqlBuf.lenencSize(p, i);
      long insertId = MysqlBuf.getLenenc(p, i, end);
      if (insertId != 0) {
        lastInsertId = insertId;
      }
      i += MysqlBuf.lenencSize(p, i);
      if (i + 2 <= end) {
        status = p.getUnsignedShortLE(i);
      }
    } catch (IndexOutOfBoundsException e) {
      // a short OK carries no status; keep the last known
    }
  }

  private MysqlCodecException unexpected(int h, int len, String expected) {
    state = State.DONE;
    return new MysqlCodecException(Mysql.ER_UNKNOWN_ERROR, "unexpected packet from the server: [len=" + len
        + " header=0x" + Integer.toHexString(Math.max(0, h)) + "] (expected: " + expected + " in a " + shape
        + " response)");
  }
}
