package dev.diskless.storage.objectstore;

import java.nio.ByteBuffer;
import java.util.Collection;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * The operations the engine needs from object storage. Objects are immutable and their keys unique:
 * the engine never overwrites, so a PUT either creates the object or fails. All operations are
 * asynchronous and retry transient failures internally; a failed future means the retries were
 * exhausted or the error was permanent.
 */
public interface ObjectStore extends AutoCloseable {

  /**
   * Creates {@code key} with {@code data} (position to limit); never overwrites an object written
   * by someone else. The store reads {@code data} in place, on every attempt: the caller must not
   * change its bytes until the future completes.
   */
  CompletableFuture<Void> put(String key, ByteBuffer data);

  /** Reads {@code length} bytes of {@code key} starting at {@code position}. */
  CompletableFuture<ByteBuffer> get(String key, long position, int length);

  /** Deletes the keys (missing keys are not an error), in requests of at most 1000 keys. */
  CompletableFuture<Void> delete(Collection<String> keys);

  /** Lists every object whose key starts with {@code prefix}. */
  CompletableFuture<List<ObjectInfo>> list(String prefix);

  /** The prefix every key of this cluster starts with (may be empty). */
  String keyPrefix();

  @Override
  void close();
}
