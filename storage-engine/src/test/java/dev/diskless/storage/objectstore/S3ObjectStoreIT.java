package dev.diskless.storage.objectstore;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.diskless.storage.StorageException;
import dev.diskless.storage.metrics.StorageMetrics;
import dev.diskless.storage.testing.S3ProxyFixture;
import dev.diskless.storage.testing.fault.Fault;
import dev.diskless.storage.testing.fault.FaultProxy;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletionException;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class S3ObjectStoreIT {

  private final S3ProxyFixture s3 = S3ProxyFixture.get();

  @Test
  void putsReadsRangesListsAndDeletes() {
    StorageMetrics metrics = StorageMetrics.noExport();
    try (S3ObjectStore store = new S3ObjectStore(s3.newBucket(), metrics)) {
      store.put("wal/a", bytes("0123456789")).join();
      store.put("wal/b", bytes("abc")).join();
      store.put("other/c", bytes("zzz")).join();

      assertThat(text(store.get("wal/a", 3, 4).join())).isEqualTo("3456");
      assertThat(text(store.get("wal/a", 0, 10).join())).isEqualTo("0123456789");
      assertThat(store.list("wal/").join())
          .extracting(ObjectInfo::key)
          .containsExactlyInAnyOrder("wal/a", "wal/b");
      assertThat(store.list("wal/").join())
          .filteredOn(o -> o.key().equals("wal/a"))
          .extracting(ObjectInfo::size)
          .containsExactly(10L);

      store.delete(List.of("wal/a", "wal/b", "never-existed")).join();
      assertThat(store.list("").join()).extracting(ObjectInfo::key).containsExactly("other/c");
      assertThat(
              metrics
                  .registry()
                  .find("diskless.objectstore.requests")
                  .tag("operation", "put")
                  .timer()
                  .count())
          .isEqualTo(3);
    }
  }

  /**
   * PUTs and ranged GETs go out signed on the direct path, not through the S3 client: keys that
   * need escaping, empty and many-megabyte bodies, one kept-alive connection after another; the
   * store must accept every signature (a refused one would be handed over and counted as such) and
   * keep exact bytes. A missing key is the S3 client's to report, and does not stop the path.
   */
  @Test
  void putsAndReadsOnTheDirectPathWithoutHandingOver() {
    StorageMetrics metrics = StorageMetrics.noExport();
    try (S3ObjectStore store = new S3ObjectStore(s3.newBucket(), metrics)) {
      byte[] large = new byte[(5 << 20) + 17];
      new Random(7).nextBytes(large);
      List<String> keys =
          List.of("wal/plain", "wal/with space+plus&amp=eq", "wal/ünïcødé/ключ", "seg/a~b_c-d.e");
      for (String key : keys) {
        store.put(key, bytes("v:" + key)).join();
        assertThat(
                text(
                    store.get(key, 0, ("v:" + key).getBytes(StandardCharsets.UTF_8).length).join()))
            .isEqualTo("v:" + key);
      }
      store.put("wal/empty", ByteBuffer.allocate(0)).join();
      store.put("wal/large", ByteBuffer.wrap(large, 3, large.length - 3)).join();
      ByteBuffer back = store.get("wal/large", 0, large.length - 3).join();
      assertThat(back).isEqualTo(ByteBuffer.wrap(large, 3, large.length - 3));
      assertThat(store.list("wal/").join())
          .filteredOn(o -> o.key().equals("wal/empty"))
          .extracting(ObjectInfo::size)
          .containsExactly(0L);

      assertThat(direct(metrics, "puts", "stored")).isEqualTo(keys.size() + 2);
      assertThat(direct(metrics, "puts", "handed-over")).isZero();
      assertThat(direct(metrics, "gets", "read")).isEqualTo(keys.size() + 1);
      assertThat(direct(metrics, "gets", "handed-over")).isZero();

      assertThatThrownBy(() -> store.get("wal/missing", 0, 10).join())
          .isInstanceOf(CompletionException.class);
      assertThat(direct(metrics, "gets", "handed-over")).isEqualTo(1);
      assertThat(store.get("wal/large", 1000, 5000).join())
          .isEqualTo(ByteBuffer.wrap(large, 1003, 5000));
      assertThat(direct(metrics, "gets", "read")).isEqualTo(keys.size() + 2);
    }
  }

  private static double direct(StorageMetrics metrics, String requests, String outcome) {
    var counter =
        metrics
            .registry()
            .find("diskless.objectstore.direct." + requests)
            .tag("outcome", outcome)
            .counter();
    return counter == null ? 0 : counter.count();
  }

  @Test
  void deletesMoreThanOneRequestHolds() {
    try (S3ObjectStore store = new S3ObjectStore(s3.newBucket(), StorageMetrics.noExport())) {
      List<String> keys = new ArrayList<>();
      for (int i = 0; i < 1005; i++) {
        keys.add("k/" + i);
      }
      store.put("k/0", bytes("x")).join();
      store.put("k/1004", bytes("y")).join();
      store.delete(keys).join();
      assertThat(store.list("k/").join()).isEmpty();
    }
  }

  @Test
  void neverOverwritesAnObjectWithOtherContent() {
    try (S3ObjectStore store = new S3ObjectStore(s3.newBucket(), StorageMetrics.noExport())) {
      store.put("wal/x", bytes("first")).join();
      // Same bytes again: what a retried PUT whose response was lost looks like; it is accepted.
      store.put("wal/x", bytes("first")).join();
      assertThatThrownBy(() -> store.put("wal/x", bytes("second")).join())
          .isInstanceOf(CompletionException.class)
          .hasCauseInstanceOf(StorageException.class)
          .hasMessageContaining("already exists with different content");
      assertThat(text(store.get("wal/x", 0, 5).join())).isEqualTo("first");
    }
  }

  @Test
  void namesAMissingBucketAndWrongCredentials() {
    try (S3ObjectStore missing =
        new S3ObjectStore(
            s3.newBucket().withCredentials(S3ProxyFixture.ACCESS_KEY, S3ProxyFixture.SECRET_KEY),
            StorageMetrics.noExport())) {
      missing.checkBucket().join();
    }
    var noBucket =
        dev.diskless.storage.objectstore.ObjectStoreConfig.of("no-such-bucket", "us-east-1")
            .withEndpoint(s3.endpoint(), true)
            .withCredentials(S3ProxyFixture.ACCESS_KEY, S3ProxyFixture.SECRET_KEY);
    try (S3ObjectStore store = new S3ObjectStore(noBucket, StorageMetrics.noExport())) {
      assertThatThrownBy(() -> store.checkBucket().join()).hasMessageContaining("does not exist");
    }
    var wrongKey = s3.newBucket().withCredentials(S3ProxyFixture.ACCESS_KEY, "wrong-secret");
    try (S3ObjectStore store = new S3ObjectStore(wrongKey, StorageMetrics.noExport())) {
      assertThatThrownBy(() -> store.checkBucket().join()).hasMessageContaining("denied");
      assertThatThrownBy(() -> store.put("k", bytes("v")).join())
          .hasMessageContaining(wrongKey.bucket());
    }
  }

  /**
   * The body is a view of the caller's buffer, not a copy: exactly position to limit must be
   * uploaded, on the first attempt and on every retry (after a 503, a reset connection, and a
   * response lost after the store applied the PUT, which the MD5 check then accepts).
   */
  @Test
  void uploadsExactlyTheBufferBetweenPositionAndLimitOnEveryAttempt() throws Exception {
    StorageMetrics metrics = StorageMetrics.noExport();
    try (FaultProxy proxy = new FaultProxy(s3.endpoint());
        S3ObjectStore store = new S3ObjectStore(s3.newBucket(proxy.endpoint()), metrics)) {
      // The first attempt is the direct path's (the 503 last: it pauses that path).
      List<Fault> firstAttempt =
          List.of(
              Fault.NONE,
              new Fault.Reset(),
              new Fault.DropResponse(),
              new Fault.Status(503, "SlowDown"));
      for (Fault fault : firstAttempt) {
        String key = "wal/" + fault.getClass().getSimpleName();
        AtomicInteger puts = new AtomicInteger();
        proxy.plan(
            (method, path) ->
                method.equals("PUT") && path.contains(key) && puts.getAndIncrement() == 0
                    ? fault
                    : Fault.NONE);
        ByteBuffer data = bytes("head|" + key + " body|tail");
        data.position(5).limit(data.limit() - 5);

        store.put(key, data).join();

        assertThat(text(store.get(key, 0, key.length() + 5).join()))
            .as("after %s", fault)
            .isEqualTo(key + " body");
        assertThat(data.position()).as("the caller's buffer is not consumed").isEqualTo(5);
        assertThat(puts.get()).as("attempts with %s", fault).isEqualTo(fault == Fault.NONE ? 1 : 2);
      }
      assertThat(direct(metrics, "puts", "stored")).isEqualTo(1);
      assertThat(direct(metrics, "puts", "handed-over")).isEqualTo(3);

      // Refused with a status, the direct path pauses: the next PUT goes to the S3 client alone.
      proxy.plan((method, path) -> Fault.NONE);
      store.put("wal/after-refusal", bytes("x")).join();
      assertThat(direct(metrics, "puts", "stored") + direct(metrics, "puts", "handed-over"))
          .isEqualTo(4);
    }
  }

  /**
   * A body of many pieces (a WAL object, a segment) arrives whole and in order, also on a retry.
   */
  @Test
  void uploadsAManyPieceBodyExactlyOnEveryAttempt() throws Exception {
    try (FaultProxy proxy = new FaultProxy(s3.endpoint());
        S3ObjectStore store =
            new S3ObjectStore(s3.newBucket(proxy.endpoint()), StorageMetrics.noExport())) {
      byte[] object = new byte[3 * S3ObjectStore.BODY_PIECE_BYTES + 4321];
      new java.util.Random(11).nextBytes(object);
      AtomicInteger puts = new AtomicInteger();
      proxy.plan(
          (method, path) ->
              method.equals("PUT") && puts.getAndIncrement() == 0 ? new Fault.Reset() : Fault.NONE);
      ByteBuffer data = ByteBuffer.allocate(object.length + 20);
      data.position(10);
      data.put(object);
      data.position(10).limit(10 + object.length);

      store.put("segments/big", data).join();

      ByteBuffer back = store.get("segments/big", 0, object.length).join();
      byte[] got = new byte[back.remaining()];
      back.get(got);
      assertThat(java.util.Arrays.equals(got, object)).isTrue();
      assertThat(puts.get()).isEqualTo(2);
      assertThat(S3ObjectStore.pieces(data.slice())).hasSize(4);
    }
  }

  /**
   * A ranged GET is collected into one buffer of the range's size: a body of many network chunks
   * arrives whole and exact, and a body cut short (Content-Length promised, half sent) is retried
   * rather than handed on.
   */
  @Test
  void readsARangeWholeAndRetriesABodyCutShort() throws Exception {
    byte[] object = new byte[3 << 20];
    new Random(7).nextBytes(object);
    StorageMetrics metrics = StorageMetrics.noExport();
    try (FaultProxy proxy = new FaultProxy(s3.endpoint());
        S3ObjectStore store = new S3ObjectStore(s3.newBucket(proxy.endpoint()), metrics)) {
      store.put("seg/a", ByteBuffer.wrap(object)).join();
      int from = 12_345;
      int length = object.length - 2 * from;
      ByteBuffer expected = ByteBuffer.wrap(object, from, length);

      assertThat(store.get("seg/a", from, length).join()).isEqualTo(expected);

      AtomicInteger gets = new AtomicInteger();
      proxy.plan(
          (method, path) ->
              method.equals("GET") && path.contains("seg/a") && gets.getAndIncrement() == 0
                  ? new Fault.TruncateBody()
                  : Fault.NONE);
      assertThat(store.get("seg/a", from, length).join()).isEqualTo(expected);
      assertThat(gets.get()).as("GET attempts").isGreaterThanOrEqualTo(2);
      // The direct path's read was the one cut short; it handed the read to the S3 client, and a
      // cut connection does not stop the path.
      assertThat(direct(metrics, "gets", "handed-over")).isEqualTo(1);
      assertThat(store.get("seg/a", 0, 100).join()).isEqualTo(ByteBuffer.wrap(object, 0, 100));
      assertThat(direct(metrics, "gets", "read")).isEqualTo(2);
    }
  }

  /**
   * A store that sends more than the range asked for: the read fails and names the object rather
   * than handing on wrong bytes, and the store reads correctly afterwards.
   */
  @Test
  void refusesABodyLongerThanTheRange() throws Exception {
    byte[] object = new byte[1 << 20];
    new java.util.Random(11).nextBytes(object);
    try (FaultProxy proxy = new FaultProxy(s3.endpoint());
        S3ObjectStore store =
            new S3ObjectStore(s3.newBucket(proxy.endpoint()), StorageMetrics.noExport())) {
      store.put("seg/b", ByteBuffer.wrap(object)).join();
      proxy.plan(
          (method, path) ->
              method.equals("GET") && path.contains("seg/b") ? new Fault.LongerBody() : Fault.NONE);
      assertThat(store.get("seg/b", 100, 1000))
          .failsWithin(java.time.Duration.ofSeconds(30))
          .withThrowableOfType(java.util.concurrent.ExecutionException.class)
          .withRootCauseInstanceOf(dev.diskless.storage.StorageException.class)
          .withMessageContaining("seg/b returned more than the 1000 bytes asked for");
      proxy.heal();
      assertThat(store.get("seg/b", 100, 1000).join())
          .isEqualTo(ByteBuffer.wrap(object, 100, 1000));
    }
  }

  private static ByteBuffer bytes(String s) {
    return ByteBuffer.wrap(s.getBytes(StandardCharsets.UTF_8));
  }

  private static String text(ByteBuffer b) {
    return StandardCharsets.UTF_8.decode(b).toString();
  }
}
