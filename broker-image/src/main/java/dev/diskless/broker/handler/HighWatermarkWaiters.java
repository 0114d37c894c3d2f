package dev.diskless.broker.handler;

import dev.diskless.storage.TopicPartitionId;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;

/** Long-polling fetches waiting for a partition's high watermark to move. */
public final class HighWatermarkWaiters {

  private final Map<TopicPartitionId, List<CompletableFuture<Void>>> waiting =
      new ConcurrentHashMap<>();

  /** Completes when any of {@code partitions} gets new committed data. */
  public CompletableFuture<Void> await(List<TopicPartitionId> partitions) {
    CompletableFuture<Void> f = new CompletableFuture<>();
    for (TopicPartitionId tp : partitions) {
      waiting.computeIfAbsent(tp, k -> new CopyOnWriteArrayList<>()).add(f);
    }
    f.whenComplete(
        (v, t) ->
            partitions.forEach(
                tp -> {
                  List<CompletableFuture<Void>> list = waiting.get(tp);
                  if (list != null) {
                    list.remove(f);
                  }
                }));
    return f;
  }

  public void advanced(TopicPartitionId tp, long highWatermark) {
    List<CompletableFuture<Void>> list = waiting.get(tp);
    if (list != null) {
      list.forEach(f -> f.complete(null));
    }
  }
}
