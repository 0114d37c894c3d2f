package dev.diskless.broker.network;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.CompositeByteBuf;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.Random;
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
  void aLargeResponseIsDrainedIntoPiecesThatHoldEveryByteInOrder() throws Exception {
    // A header, a large records buffer and a tail, as a fetch response's Send hands them over.
    byte[] head = random(37, 1);
    byte[] records = random(3 * SendBuffer.PIECE_BYTES + 12_345, 2);
    byte[] tail = random(101, 3);
    ByteBuf out =
        SendBuffer.drain(
            new ByteBufferSend(
                ByteBuffer.wrap(head), ByteBuffer.wrap(records), ByteBuffer.wrap(tail)),
            ByteBufAllocator.DEFAULT);
    try {
      byte[] expected = new byte[head.length + records.length + tail.length];
      System.arraycopy(head, 0, expected, 0, head.length);
      System.arraycopy(records, 0, expected, head.length, records.length);
      System.arraycopy(tail, 0, expected, head.length + records.length, tail.length);
      assertThat(out).isInstanceOf(CompositeByteBuf.class);
      CompositeByteBuf pieces = (CompositeByteBuf) out;
      assertThat(pieces.numComponents()).isEqualTo(4);
      for (int i = 0; i < pieces.numComponents(); i++) {
        assertThat(pieces.component(i).readableBytes()).isLessThanOrEqualTo(SendBuffer.PIECE_BYTES);
      }
      assertThat(Arrays.equals(bytes(out), expected)).isTrue();
    } finally {
      out.release();
    }
  }

  @Test
  void aSmallResponseIsOneBuffer() throws Exception {
    byte[] body = random(1000, 4);
    ByteBuf out =
        SendBuffer.drain(new ByteBufferSend(ByteBuffer.wrap(body)), ByteBufAllocator.DEFAULT);
    try {
      assertThat(out).isNotInstanceOf(CompositeByteBuf.class);
      assertThat(bytes(out)).isEqualTo(body);
    } finally {
      out.release();
    }
  }
}
