package dev.diskless.storage.testing;

import dev.diskless.storage.objectstore.ObjectInfo;
import dev.diskless.storage.objectstore.ObjectStore;
import java.nio.ByteBuffer;
import java.util.Collection;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * An object store that hands every call to another one, for fault and race tests to override the
 * calls they interfere with. Closing it leaves the delegate open (its owner closes it).
 */
public class ForwardingObjectStore implements ObjectStore {

  protected final ObjectStore delegate;

  public ForwardingObjectStore(ObjectStore delegate) {
    this.delegate = delegate;
  }

  @Override
  public CompletableFuture<Void> put(String key, ByteBuffer data) {
    return delegate.put(key, data);
  }

  @Override
  public CompletableFuture<ByteBuffer> get(String key, long position, int length) {
    return delegate.get(key, position, length);
  }

  @Override
  public CompletableFuture<Void> delete(Collection<String> keys) {
    return delegate.delete(keys);
  }

  @Override
  public CompletableFuture<List<ObjectInfo>> list(String prefix) {
    return delegate.list(prefix);
  }

  @Override
  public String keyPrefix() {
    return delegate.keyPrefix();
  }

  @Override
  public void close() {}
}
