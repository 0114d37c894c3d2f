package dev.diskless.broker.network;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.stream.ChunkedInput;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.util.function.LongConsumer;
import org.apache.kafka.common.network.Send;
import org.apache.kafka.common.network.TransferableChannel;

/**
 * Turns a Kafka {@link Send} (a response with its size prefix and header, as {@code RequestContext}
 * builds it) into what Netty writes, so responses are serialized by Kafka's own code and written by
 * Netty. A small response is one buffer. A large one (a fetch of many megabytes) is a {@link
 * ChunkedInput} that copies the next piece out of the response only when the connection takes more:
 * copying all of it up front held the whole response in native memory, which the allocator does not
 * pool at that size, so every large response allocated, zeroed and freed fresh memory (5–13 % of
 * the broker's CPU samples in catch-up reads), and a slow consumer held megabytes of it.
 */
final class SendBuffer implements TransferableChannel {

  /** The size of one piece of a large response: well inside what the allocator pools. */
  static final int PIECE_BYTES = 256 << 10;

  private final ByteBuf target;

  private SendBuffer(ByteBuf target) {
    this.target = target;
  }

  /**
   * What to write for {@code send}: a {@link ByteBuf} when it fits one piece, otherwise a {@link
   * ChunkedInput} of pieces (for the pipeline's {@code ChunkedWriteHandler}), which reports the
   * time it spends copying each piece to {@code copyNanos} (a request quota counts it).
   */
  static Object encode(Send send, ByteBufAllocator allocator, LongConsumer copyNanos)
      throws IOException {
    long size = send.size();
    if (size > PIECE_BYTES) {
      return new Pieces(send, size, copyNanos);
    }
    ByteBuf buf = allocator.buffer((int) size);
    try {
      fill(send, buf);
    } catch (IOException | RuntimeException e) {
      buf.release();
      throw e;
    }
    return buf;
  }

  /** Writes {@code send} into {@code buf} until the buffer is full or the send complete. */
  private static void fill(Send send, ByteBuf buf) throws IOException {
    SendBuffer channel = new SendBuffer(buf);
    while (buf.isWritable() && !send.completed()) {
      if (send.writeTo(channel) == 0 && buf.isWritable() && !send.completed()) {
        // A send that takes no bytes while there is room would loop here for ever.
        throw new IOException(
            "a response of " + send.size() + " bytes stopped with room left to write it");
      }
    }
  }

  @Override
  public long write(ByteBuffer[] srcs, int offset, int length) {
    long written = 0;
    for (int i = offset; i < offset + length && target.isWritable(); i++) {
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
    int n = Math.min(src.remaining(), target.writableBytes());
    target.writeBytes(src.slice(src.position(), n));
    src.position(src.position() + n);
    return n;
  }

  @Override
  public boolean hasPendingWrites() {
    return false;
  }

  @Override
  public long transferFrom(FileChannel fileChannel, long position, long count) throws IOException {
    int n = (int) Math.min(count, target.writableBytes());
    ByteBuffer tmp = ByteBuffer.allocate(n);
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

  /** A large response, copied out a piece at a time as the connection takes it. */
  static final class Pieces implements ChunkedInput<ByteBuf> {

    private final Send send;
    private final long size;
    private final LongConsumer copyNanos;
    private long copied;

    Pieces(Send send, long size, LongConsumer copyNanos) {
      this.send = send;
      this.size = size;
      this.copyNanos = copyNanos;
    }

    @Override
    public boolean isEndOfInput() {
      return send.completed();
    }

    @Override
    public void close() {}

    @Deprecated
    @Override
    public ByteBuf readChunk(ChannelHandlerContext ctx) throws Exception {
      return readChunk(ctx.alloc());
    }

    @Override
    public ByteBuf readChunk(ByteBufAllocator allocator) throws Exception {
      if (send.completed()) {
        return null;
      }
      long start = System.nanoTime();
      ByteBuf piece = allocator.buffer((int) Math.min(PIECE_BYTES, size - copied));
      try {
        fill(send, piece);
      } catch (IOException | RuntimeException e) {
        piece.release();
        throw e;
      }
      copied += piece.readableBytes();
      copyNanos.accept(System.nanoTime() - start);
      return piece;
    }

    @Override
    public long length() {
      return size;
    }

    @Override
    public long progress() {
      return copied;
    }
  }
}
