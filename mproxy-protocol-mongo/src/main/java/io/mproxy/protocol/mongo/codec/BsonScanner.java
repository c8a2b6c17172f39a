package io.mproxy.protocol.mongo.codec;

import io.netty.buffer.ByteBuf;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * Walks the elements of one BSON document inside a {@link ByteBuf} without copying or decoding
 * values the caller does not ask for: the routing fields of a command are read in place, the
 * rest is skipped by length. Every length is checked against the document's bounds, so bad BSON
 * raises {@link MongoCodecException} instead of reading past the message.
 *
 * <pre>{@code
 * BsonScanner s = BsonScanner.of(buf, offset);
 * while (s.next()) {
 *   if (s.nameEquals("$db")) db = s.stringValue();
 * }
 * }</pre>
 *
 * <p>On the forward path a connection keeps one scanner and {@link #reset re-aims} it at each
 * message, and descends into nested documents in place ({@link #enter}/{@link #exit}) instead of
 * making a scanner per level: a point find used to cost five scanners.
 *
 * <p>A document of at most {@link #COPY_LIMIT} bytes that a scanner is {@link #reset re-aimed}
 * at is copied once into the scanner's own array and walked there: a {@link ByteBuf} read checks
 * the buffer's reference count and bounds on every byte, and finding an element name's
 * terminator through {@link ByteBuf#indexOf} was a sixth of a point find's scan. Larger documents,
 * and scanners made with {@link #of}, are walked in place. Either way, indexes this scanner hands
 * out ({@link #start}, {@link #valueStart}) are absolute indexes of the buffer.
 */
public final class BsonScanner {

  public static final byte DOUBLE = 0x01;
  public static final byte STRING = 0x02;
  public static final byte DOCUMENT = 0x03;
  public static final byte ARRAY = 0x04;
  public static final byte BINARY = 0x05;
  public static final byte OBJECT_ID = 0x07;
  public static final byte BOOLEAN = 0x08;
  public static final byte DATE_TIME = 0x09;
  public static final byte NULL = 0x0A;
  public static final byte INT32 = 0x10;
  public static final byte TIMESTAMP = 0x11;
  public static final byte INT64 = 0x12;
  public static final byte DECIMAL128 = 0x13;

  /** The smallest document: a length and the terminating zero. */
  public static final int MIN_DOCUMENT_BYTES = 5;

  /** Documents up to this many bytes are copied by {@link #reset} and walked in an array. */
  public static final int COPY_LIMIT = 4096;
  /** The smallest copy array a scanner makes; it grows by doubling up to {@link #COPY_LIMIT}. */
  private static final int FIRST_COPY_BYTES = 256;

  private static final VarHandle INT_LE =
      MethodHandles.byteArrayViewVarHandle(int[].class, ByteOrder.LITTLE_ENDIAN);
  private static final VarHandle LONG_LE =
      MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);

  private ByteBuf buf;
  /**
   * The bytes walked when the document was copied (null: {@link #buf} is read in place). Every
   * index below is into this array then, and {@link #base} turns it into the buffer's index.
   */
  private byte[] array;
  /** This scanner's copy array, kept across {@link #reset}s (per connection, not per message). */
  private byte[] copy;
  private int base;
  private int start;
  /** Exclusive end of the document being walked; {@link #validateRest} narrows it to descend. */
  private int end;
  private int pos;
  private byte type;
  private int nameStart;
  private int nameLength;
  private int valueStart;
  private int valueLength;

  private BsonScanner(ByteBuf buf, int start, int end) {
    this.buf = buf;
    this.start = start;
    this.end = end;
    this.pos = start + 4;
  }

  private BsonScanner(ByteBuf buf, byte[] array, int base, int start, int end) {
    this(buf, start, end);
    this.array = array;
    this.base = base;
  }

  /** A scanner aimed at nothing yet, for a caller that {@link #reset re-aims} it per message. */
  public BsonScanner() {
    this(null, 0, 0);
  }

  /**
   * Aims this scanner at the document at absolute index {@code offset} of {@code buf}, whose
   * declared length must fit before {@code limit} (exclusive), as {@link #of(ByteBuf, int, int)}
   * does for a new one. A document of at most {@link #COPY_LIMIT} bytes is copied into this
   * scanner's array, so the buffer may change afterwards without changing what it reads.
   */
  public BsonScanner reset(ByteBuf buf, int offset, int limit) {
    int length = documentLength(buf, offset, limit);
    this.buf = buf;
    if (length <= COPY_LIMIT) {
      byte[] a = copy;
      if (a == null || a.length < length) {
        int capacity = FIRST_COPY_BYTES;
        while (capacity < length) {
          capacity <<= 1;
        }
        a = copy = new byte[capacity];
      }
      buf.getBytes(offset, a, 0, length);
      this.array = a;
      this.base = offset;
      this.start = 0;
      this.end = length;
      this.pos = 4;
    } else {
      this.array = null;
      this.base = 0;
      this.start = offset;
      this.end = offset + length;
      this.pos = offset + 4;
    }
    return this;
  }

  /** Whether the current document is walked in this scanner's copy rather than in the buffer. */
  public boolean copied() {
    return array != null;
  }

  /**
   * A scanner over the document at absolute index {@code offset} of {@code buf}, whose declared
   * length must fit before {@code limit} (exclusive).
   */
  public static BsonScanner of(ByteBuf buf, int offset, int limit) {
    return new BsonScanner(buf, offset, offset + documentLength(buf, offset, limit));
  }

  /** A scanner over the document at {@code offset}, bounded by the buffer's writer index. */
  public static BsonScanner of(ByteBuf buf, int offset) {
    return of(buf, offset, buf.writerIndex());
  }

  /** The declared length of the document at {@code offset}, checked to fit before {@code limit}. */
  public static int documentLength(ByteBuf buf, int offset, int limit) {
    if (limit - offset < MIN_DOCUMENT_BYTES) {
      throw new MongoCodecException("truncated BSON document");
    }
    int len = buf.getIntLE(offset);
    if (len < MIN_DOCUMENT_BYTES || len > limit - offset) {
      throw new MongoCodecException("BSON document length " + len + " does not fit the message");
    }
    if (buf.getByte(offset + len - 1) != 0) {
      throw new MongoCodecException("BSON document does not end with a zero byte");
    }
    return len;
  }

  /** Absolute index of the document's first byte. */
  public int start() {
    return base + start;
  }

  /** Bytes of the whole document. */
  public int length() {
    return end - start;
  }

  /** Moves to the next element; false at the end of the document. */
  public boolean next() {
    if (pos >= end - 1) {
      pos = end;
      return false;
    }
    type = byteAt(pos);
    nameStart = pos + 1;
    int nul = zeroIn(nameStart, end - 1);
    if (nul < 0) {
      throw new MongoCodecException("BSON element name is not terminated");
    }
    nameLength = nul - nameStart;
    valueStart = nul + 1;
    valueLength = valueLength(type, valueStart);
    if (valueLength < 0 || valueStart + valueLength > end - 1) {
      throw new MongoCodecException("BSON element '" + name() + "' does not fit its document");
    }
    pos = valueStart + valueLength;
    return true;
  }

  private int valueLength(byte t, int at) {
    switch (t) {
      case DOUBLE:
      case DATE_TIME:
      case TIMESTAMP:
      case INT64:
        return 8;
      case STRING:
      case 0x0D: // JavaScript code
      case 0x0E: // symbol
        return 4 + stringBytes(at);
      case DOCUMENT:
      case ARRAY:
      case 0x0F: // code with scope
        return nestedLength(at, end - 1);
      case BINARY: {
        int n = int32At(at);
        if (n < 0) {
          throw new MongoCodecException("negative BSON binary length");
        }
        return 5 + n;
      }
      case 0x06: // undefined
      case NULL:
      case (byte) 0xFF: // min key
      case 0x7F: // max key
        return 0;
      case OBJECT_ID:
        return 12;
      case BOOLEAN:
        return 1;
      case 0x0B: { // regex: two cstrings
        int a = zeroIn(at, end - 1);
        int b = a < 0 ? -1 : zeroIn(a + 1, end - 1);
        if (b < 0) {
          throw new MongoCodecException("BSON regex is not terminated");
        }
        return b + 1 - at;
      }
      case 0x0C: // DBPointer
        return 4 + stringBytes(at) + 12;
      case INT32:
        return 4;
      case DECIMAL128:
        return 16;
      default:
        throw new MongoCodecException("unknown BSON type 0x" + Integer.toHexString(t & 0xFF));
    }
  }

  private int int32At(int at) {
    if (at + 4 > end - 1) {
      throw new MongoCodecException("truncated BSON value");
    }
    return intAt(at);
  }

  /** {@link #documentLength} of a nested document, read where this scanner reads. */
  private int nestedLength(int offset, int limit) {
    if (array == null) {
      return documentLength(buf, offset, limit);
    }
    if (limit - offset < MIN_DOCUMENT_BYTES) {
      throw new MongoCodecException("truncated BSON document");
    }
    int len = intAt(offset);
    if (len < MIN_DOCUMENT_BYTES || len > limit - offset) {
      throw new MongoCodecException("BSON document length " + len + " does not fit the message");
    }
    if (array[offset + len - 1] != 0) {
      throw new MongoCodecException("BSON document does not end with a zero byte");
    }
    return len;
  }

  private byte byteAt(int i) {
    byte[] a = array;
    return a != null ? a[i] : buf.getByte(i);
  }

  private int intAt(int i) {
    byte[] a = array;
    return a != null ? (int) INT_LE.get(a, i) : buf.getIntLE(i);
  }

  private long longAt(int i) {
    byte[] a = array;
    return a != null ? (long) LONG_LE.get(a, i) : buf.getLongLE(i);
  }

  /**
   * Index of the first zero byte in [{@code from}, {@code to}), or -1. In the copy, eight bytes
   * at a time: {@code (w - 0x01…01) & ~w & 0x80…80} marks the lowest zero byte of {@code w} (a
   * borrow can only mark bytes above it), so its lowest set bit finds the terminator.
   */
  private int zeroIn(int from, int to) {
    byte[] a = array;
    if (a == null) {
      return buf.indexOf(from, to, (byte) 0);
    }
    int i = from;
    for (; i <= to - 8; i += 8) {
      long w = (long) LONG_LE.get(a, i);
      long zeros = (w - 0x0101010101010101L) & ~w & 0x8080808080808080L;
      if (zeros != 0) {
        return i + (Long.numberOfTrailingZeros(zeros) >>> 3);
      }
    }
    for (; i < to; i++) {
      if (a[i] == 0) {
        return i;
      }
    }
    return -1;
  }

  private String utf8(int at, int length) {
    byte[] a = array;
    return a != null ? new String(a, at, length, StandardCharsets.UTF_8) : buf.toString(at, length, StandardCharsets.UTF_8);
  }

  /** Length of a BSON string's bytes after its int32 prefix, terminator included. */
  private int stringBytes(int at) {
    int n = int32At(at);
    if (n < 1 || at + 4 + n > end - 1) {
      throw new MongoCodecException("bad BSON string length " + n);
    }
    if (byteAt(at + 4 + n - 1) != 0) {
      throw new MongoCodecException("BSON string is not terminated");
    }
    return n;
  }

  public byte type() {
    return type;
  }

  public String name() {
    return utf8(nameStart, nameLength);
  }

  /**
   * Appends the element's name to {@code sb}: byte by byte (no allocation) when it is ASCII, as
   * decoded UTF-8 otherwise.
   */
  public void appendName(StringBuilder sb) {
    for (int i = 0; i < nameLength; i++) {
      if (byteAt(nameStart + i) < 0) {
        sb.append(name());
        return;
      }
    }
    for (int i = 0; i < nameLength; i++) {
      sb.append((char) byteAt(nameStart + i));
    }
  }

  /** Whether the element's name starts with {@code $} (an operator), without allocating. */
  public boolean nameIsOperator() {
    return nameLength > 0 && byteAt(nameStart) == '$';
  }

  /** Compares the element's name to an ASCII name without allocating. */
  public boolean nameEquals(String ascii) {
    if (ascii.length() != nameLength) {
      return false;
    }
    byte[] a = array;
    if (a != null) {
      for (int i = 0; i < nameLength; i++) {
        if (a[nameStart + i] != ascii.charAt(i)) {
          return false;
        }
      }
      return true;
    }
    for (int i = 0; i < nameLength; i++) {
      if (buf.getByte(nameStart + i) != ascii.charAt(i)) {
        return false;
      }
    }
    return true;
  }

  /** Absolute index of the value's first byte. */
  public int valueStart() {
    return base + valueStart;
  }

  public int valueLength() {
    return valueLength;
  }

  public boolean isString() {
    return type == STRING;
  }

  public boolean isDocument() {
    return type == DOCUMENT || type == ARRAY;
  }

  /** The value of a string element. */
  public String stringValue() {
    requireType(STRING);
    return utf8(valueStart + 4, valueLength - 5);
  }

  /** The element's name, as the shared string {@code interner} keeps for its bytes. */
  public String name(Utf8Interner interner) {
    return array != null ? interner.intern(array, nameStart, nameLength) : interner.intern(buf, nameStart, nameLength);
  }

  /** The value of a string element, as the shared string {@code interner} keeps for its bytes. */
  public String stringValue(Utf8Interner interner) {
    requireType(STRING);
    return array != null
        ? interner.intern(array, valueStart + 4, valueLength - 5) : interner.intern(buf, valueStart + 4, valueLength - 5);
  }

  /** A string value, or null when the element is not a string. */
  public String stringOrNull() {
    return type == STRING ? stringValue() : null;
  }

  public boolean booleanValue() {
    requireType(BOOLEAN);
    return byteAt(valueStart) != 0;
  }

  /** Whether a numeric or boolean value counts as true, the way servers read {@code isMaster: 1}. */
  public boolean truthy() {
    switch (type) {
      case BOOLEAN: return byteAt(valueStart) != 0;
      case INT32: return intAt(valueStart) != 0;
      case INT64: return longAt(valueStart) != 0;
      case DOUBLE: return Double.longBitsToDouble(longAt(valueStart)) != 0;
      case NULL: return false;
      default: return true;
    }
  }

  /** An int32, int64 or whole double value as a long. */
  public long longValue() {
    switch (type) {
      case INT32: return intAt(valueStart);
      case INT64: return longAt(valueStart);
      case DOUBLE: return (long) Double.longBitsToDouble(longAt(valueStart));
      default:
        throw new MongoCodecException("BSON element '" + name() + "' is not a number");
    }
  }

  public boolean isNumber() {
    return type == INT32 || type == INT64 || type == DOUBLE;
  }

  /** The payload of a binary element (without its subtype), copied. */
  public byte[] binaryValue() {
    requireType(BINARY);
    if (array != null) {
      return Arrays.copyOfRange(array, valueStart + 5, valueStart + valueLength);
    }
    byte[] out = new byte[valueLength - 5];
    buf.getBytes(valueStart + 5, out);
    return out;
  }

  /**
   * A scanner over a document or array value; it reads this scanner's copy, so it is valid until
   * this scanner is {@link #reset re-aimed}.
   */
  public BsonScanner nested() {
    if (!isDocument()) {
      throw new MongoCodecException("BSON element '" + name() + "' is not a document");
    }
    return new BsonScanner(buf, array, base, valueStart, valueStart + valueLength);
  }

  /**
   * Descends into the current document or array value: {@link #next} then walks its elements,
   * and returns false at its end. {@link #exit} with the returned mark comes back to the
   * entered element. Between the two, the current element is the nested one's.
   */
  public long enter() {
    if (!isDocument()) {
      throw new MongoCodecException("BSON element '" + name() + "' is not a document");
    }
    long mark = ((long) (nameStart - 1) << 32) | (end & 0xFFFFFFFFL);
    end = valueStart + valueLength;
    pos = valueStart + 4;
    return mark;
  }

  /**
   * Returns from a document {@link #enter entered} with {@code mark}: the entered element is
   * the current one again (so more than one reader can look at it in one walk), and the next
   * {@link #next} reads the element after it, however far the nested walk got.
   */
  public void exit(long mark) {
    pos = (int) (mark >>> 32);
    end = (int) mark;
    next(); // reads the entered element again: it was read whole before, so it cannot fail
  }

  /** Moves to the element called {@code name}; false (at the end) when there is none. */
  public boolean find(String name) {
    while (next()) {
      if (nameEquals(name)) {
        return true;
      }
    }
    return false;
  }

  /**
   * Checks the current element's value, when it is a document or an array, as {@link #validate}
   * checks a whole document with {@code depthLeft} levels left below it, and stays on the
   * element: a caller that validates each element this way as it walks the top level checks the
   * whole document in the same pass as its own reading, and meets the same first error.
   */
  public void validateValue(int depthLeft) {
    if (!isDocument()) {
      return;
    }
    byte t = type;
    int ns = nameStart;
    int nl = nameLength;
    int vs = valueStart;
    int vl = valueLength;
    int after = pos;
    int outerEnd = end;
    end = vs + vl;
    pos = vs + 4;
    validateRest(depthLeft);
    end = outerEnd;
    pos = after;
    type = t;
    nameStart = ns;
    nameLength = nl;
    valueStart = vs;
    valueLength = vl;
  }

  /** Checks every element of the document, recursively, without keeping anything. */
  public static void validate(ByteBuf buf, int offset, int limit, int maxDepth) {
    BsonScanner s = of(buf, offset, limit);
    s.validateRest(maxDepth);
  }

  /**
   * Checks every element of the document this scanner is aimed at, recursively, and leaves it
   * at the document's start again for the caller's own walk.
   */
  public BsonScanner validate(int maxDepth) {
    pos = start + 4;
    validateRest(maxDepth);
    pos = start + 4;
    return this;
  }

  private void validateRest(int depthLeft) {
    if (depthLeft <= 0) {
      throw new MongoCodecException("BSON nested too deeply");
    }
    while (next()) {
      if (isDocument()) {
        // descend in place (no scanner per nested document): walk the value, then come back
        int after = pos;
        int outerEnd = end;
        end = valueStart + valueLength;
        pos = valueStart + 4;
        validateRest(depthLeft - 1);
        end = outerEnd;
        pos = after;
      }
    }
  }

  private void requireType(byte t) {
    if (type != t) {
      throw new MongoCodecException("BSON element '" + name() + "' has type 0x"
          + Integer.toHexString(type & 0xFF) + ", expected 0x" + Integer.toHexString(t));
    }
  }
}
