package dev.diskless.broker.network;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.CompositeByteBuf;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import org.apache.kafka.common.network.Send;
import org.apache.kafka.common.network.TransferableChannel;

/**
 * Drains a Kafka {@link Send} (a response with its size prefix and header, as {@code
 * RequestContext} builds it) into Netty buffers, so responses are serialized by Kafka's own code
 * and written by Netty. A large response (a fetch of many megabytes) goes into a composite of
 * pooled pieces rather than one buffer of its size: the allocator pools buffers only up to about a
 * megabyte, and above that allocated, zeroed and freed native memory for every response, which took
 * a tenth of the broker's CPU in a catch-up read.
 */
final class SendBuffer implements TransferableChannel {

  /** The size of one piece of a large response: well inside what the allocator pools. */
  static final int PIECE_BYTES = 256 << 10;

  private final ByteBufAllocator allocator;
  private final CompositeByteBuf pieces;
  private ByteBuf current;
  private long left;

  private SendBuffer(ByteBufAllocator allocator, CompositeByteBuf pieces, long size) {
    this.allocator = allocator;
    this.pieces = pieces;
    this.left = size;
  }

  static ByteBuf drain(Send send, ByteBufAllocator allocator) throws IOException {
    long size = send.size();
    if (size <= PIECE_BYTES) {
      ByteBuf buf = allocator.buffer((int) size);
      SendBuffer channel = new SendBuffer(allocator, null, size);
      channel.current = buf;
      while (!send.completed()) {
        send.writeTo(channel);
      }
      return buf;
    }
    CompositeByteBuf pieces =
        allocator.compositeBuffer(Math.toIntExact((size + PIECE_BYTES - 1) / PIECE_BYTES));
    SendBuffer channel = new SendBuffer(allocator, pieces, size);
    try {
      while (!send.completed()) {
        send.writeTo(channel);
      }
      channel.seal();
    } catch (IOException | RuntimeException e) {
      if (channel.current != null) {
        channel.current.release();
      }
      pieces.release();
      throw e;
    }
    return pieces;
  }

  /** Adds the piece being filled to the composite. */
  private void seal() {
    if (current != null && pieces != null) {
      pieces.addComponent(true, current);
      current = null;
    }
  }

  @Override
  public long write(ByteBuffer[] srcs, int offset, int length) {
    long written = 0;
    for (int i = offset; i < offset + length; i++) {
      written += write(srcs[i]);
    }
    return written;
  }

  @Override
  public long write(ByteBuffer[] srcs) {
    return write(srcs, 0, srcs.length);
  }

  @Override
  public int write(ByteBuffer src) {
    int n = src.remaining();
    if (pieces == null) {
      current.writeBytes(src);
      return n;
    }
    while (src.hasRemaining()) {
      if (current == null) {
        current = allocator.buffer((int) Math.min(PIECE_BYTES, left));
      }
      int chunk = Math.min(src.remaining(), current.writableBytes());
      ByteBuffer part = src.slice(src.position(), chunk);
      current.writeBytes(part);
      src.position(src.position() + chunk);
      left -= chunk;
      if (!current.isWritable()) {
        seal();
      }
    }
    return n;
  }

  @Override
  public boolean hasPendingWrites() {
    return false;
  }

  @Override
  public long transferFrom(FileChannel fileChannel, long position, long count) throws IOException {
    ByteBuffer tmp = ByteBuffer.allocate(Math.toIntExact(count));
    fileChannel.read(tmp, position);
    tmp.flip();
    return write(tmp);
  }

  @Override
  public boolean isOpen() {
    return true;
  }

  @Override
  public void close() {}
}
