package dev.diskless.storage.compaction;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

class KeyOffsetMapTest {

  private static ByteBuffer key(String k) {
    return ByteBuffer.wrap(k.getBytes(StandardCharsets.UTF_8));
  }

  @Test
  void theLatestOffsetOfEachKeyIsKept() {
    KeyOffsetMap map = new KeyOffsetMap(1 << 20);
    Map<String, Long> model = new HashMap<>();
    Random random = new Random(7);
    for (long offset = 0; offset < 20_000; offset++) {
      String k = "k" + random.nextInt(3_000);
      assertThat(map.put(key(k), offset)).isTrue();
      model.put(k, offset);
    }
    model.forEach((k, offset) -> assertThat(map.get(key(k))).as(k).isEqualTo(offset));
    assertThat(map.size()).isEqualTo(model.size());
    assertThat(map.get(key("never"))).isEqualTo(-1L);
    // An earlier offset of a mapped key (a replay of the range) never lowers it.
    map.put(key("k1"), 0);
    assertThat(map.get(key("k1"))).isEqualTo(model.get("k1"));
  }

  @Test
  void aFullMapRefusesNewKeysButStillUpdatesMappedOnes() {
    KeyOffsetMap map = new KeyOffsetMap(100L * KeyOffsetMap.BYTES_PER_SLOT);
    int capacity = map.capacity();
    assertThat(capacity).isEqualTo(90);
    for (int i = 0; i < capacity; i++) {
      assertThat(map.put(key("k" + i), i)).isTrue();
    }
    assertThat(map.put(key("one-too-many"), 1_000)).isFalse();
    assertThat(map.get(key("one-too-many"))).isEqualTo(-1L);
    assertThat(map.put(key("k3"), 2_000)).isTrue();
    assertThat(map.get(key("k3"))).isEqualTo(2_000L);
    assertThat(map.size()).isEqualTo(capacity);
  }

  @Test
  void aKeyIsTheSameKeyInAnyKindOfBuffer() {
    KeyOffsetMap map = new KeyOffsetMap(1 << 16);
    byte[] bytes = ("long-key-" + "x".repeat(600)).getBytes(StandardCharsets.UTF_8);
    map.put(ByteBuffer.wrap(bytes), 7);
    ByteBuffer direct = ByteBuffer.allocateDirect(bytes.length + 3);
    direct.position(3);
    direct.put(bytes);
    direct.position(3);
    ByteBuffer readOnly = ByteBuffer.wrap(bytes).asReadOnlyBuffer();
    assertThat(map.get(direct)).isEqualTo(7L);
    assertThat(map.get(readOnly)).isEqualTo(7L);
    assertThat(direct.position()).isEqualTo(3);
    assertThat(readOnly.position()).isZero();
    assertThat(map.get(key("long-key-"))).isEqualTo(-1L);
  }

  @Test
  void keysAreComparedByContentNotByBufferPosition() {
    KeyOffsetMap map = new KeyOffsetMap(1 << 16);
    ByteBuffer framed = ByteBuffer.wrap("xxabcxx".getBytes(StandardCharsets.UTF_8), 2, 3);
    map.put(framed.slice(), 5);
    assertThat(map.get(key("abc"))).isEqualTo(5L);
    assertThat(framed.position()).isEqualTo(2);
  }
}
