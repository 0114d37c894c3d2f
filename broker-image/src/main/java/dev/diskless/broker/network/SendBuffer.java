package dev.diskless.broker.network;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import org.apache.kafka.common.network.Send;
import org.apache.kafka.common.network.TransferableChannel;

/**
 * Drains a Kafka {@link Send} (a response with its size prefix and header, as {@code
 * RequestContext} builds it) into a Netty buffer, so responses are serialized by Kafka's own code
 * and written by Netty.
 */
final class SendBuffer implements TransferableChannel {

  private final ByteBuf out;

  private SendBuffer(ByteBuf out) {
    this.out = out;
  }

  static ByteBuf drain(Send send, ByteBufAllocator allocator) throws IOException {
    ByteBuf buf = allocator.buffer(Math.toIntExact(send.size()));
    SendBuffer channel = new SendBuffer(buf);
    while (!send.completed()) {
      send.writeTo(channel);
    }
    return buf;
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
    out.writeBytes(src);
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
