package dev.diskless.broker.network;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.handler.stream.ChunkedInput;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.Random;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.common.network.ByteBufferSend;
import org.junit.jupiter.api.Test;

class SendBufferTest {

  private static byte[] random(int size, long seed) {
    byte[] b = new byte[size];
    new Random(seed).nextBytes(b);
    return b;
  }

  private static byte[] bytes(ByteBuf buf) {
    byte[] out = new byte[buf.readableBytes()];
    buf.getBytes(buf.readerIndex(), out);
    return out;
  }

  @Test
  void aLargeResponseIsCopiedPieceByPieceWithEveryByteInOrder() throws Exception {
    // A header, a large records buffer and a tail, as a fetch response's Send hands them over.
    byte[] head = random(37, 1);
    byte[] records = random(3 * SendBuffer.PIECE_BYTES + 12_345, 2);
    byte[] tail = random(101, 3);
    AtomicInteger timed = new AtomicInteger();
    Object out =
        SendBuffer.encode(
            new ByteBufferSend(
                ByteBuffer.wrap(head), ByteBuffer.wrap(records), ByteBuffer.wrap(tail)),
            ByteBufAllocator.DEFAULT,
            nanos -> timed.incrementAndGet());
    assertThat(out).isInstanceOf(SendBuffer.Pieces.class);
    @SuppressWarnings("unchecked")
    ChunkedInput<ByteBuf> pieces = (ChunkedInput<ByteBuf>) out;
    byte[] expected = new byte[head.length + records.length + tail.length];
    System.arraycopy(head, 0, expected, 0, head.length);
    System.arraycopy(records, 0, expected, head.length, records.length);
    System.arraycopy(tail, 0, expected, head.length + records.length, tail.length);
    assertThat(pieces.length()).isEqualTo(expected.length);
    // Nothing is copied before the connection asks for it.
    assertThat(pieces.progress()).isZero();

    ByteArrayOutputStream written = new ByteArrayOutputStream();
    int count = 0;
    while (!pieces.isEndOfInput()) {
      ByteBuf piece = pieces.readChunk(ByteBufAllocator.DEFAULT);
      try {
        assertThat(piece.readableBytes()).isBetween(1, SendBuffer.PIECE_BYTES);
        written.write(bytes(piece));
        count++;
      } finally {
        piece.release();
      }
      assertThat(pieces.progress()).isEqualTo(written.size());
    }
    assertThat(pieces.readChunk(ByteBufAllocator.DEFAULT)).isNull();
    assertThat(count).isEqualTo(4);
    assertThat(timed).hasValue(4);
    assertThat(Arrays.equals(written.toByteArray(), expected)).isTrue();
  }

  @Test
  void aSmallResponseIsOneBuffer() throws Exception {
    byte[] body = random(1000, 4);
    Object out =
        SendBuffer.encode(
            new ByteBufferSend(ByteBuffer.wrap(body)), ByteBufAllocator.DEFAULT, nanos -> {});
    assertThat(out).isInstanceOf(ByteBuf.class);
    ByteBuf buf = (ByteBuf) out;
    try {
      assertThat(bytes(buf)).isEqualTo(body);
    } finally {
      buf.release();
    }
  }
}
