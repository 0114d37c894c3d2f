package dev.diskless.broker.txn;

import dev.diskless.broker.cluster.ClusterView;
import dev.diskless.storage.TopicPartitionId;
import dev.diskless.storage.metadata.BrokerEndpoint;
import dev.diskless.storage.metadata.BrokerInfo;
import dev.diskless.storage.metadata.TopicInfo;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.apache.kafka.common.Node;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.message.WriteTxnMarkersResponseData;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.requests.TransactionResult;
import org.apache.kafka.common.requests.WriteTxnMarkersRequest;
import org.apache.kafka.common.requests.WriteTxnMarkersResponse;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The coordinator's side of transaction markers: writes a transaction's COMMIT or ABORT marker to
 * every partition of the transaction, on this broker directly and elsewhere with WriteTxnMarkers to
 * the partition's owner, retrying each partition (owners move, start, fail) until it is written or
 * this broker is no longer the transaction's coordinator. As in Kafka, a partition whose topic is
 * gone needs no marker, and a partition that refuses the marker as fenced (a newer producer epoch
 * or coordinator wrote there) ends the attempt: a newer coordinator owns the transaction.
 */
final class TransactionMarkers {

  private static final Logger LOG = LoggerFactory.getLogger(TransactionMarkers.class);
  private static final long RETRY_MS = 100;

  /** How a marker attempt ended. */
  enum Outcome {
    /** Every partition has its marker. */
    WRITTEN,
    /** This broker stopped being the coordinator, or was fenced: someone else finishes it. */
    ABANDONED
  }

  private final int nodeId;
  private final ClusterView view;
  private final LocalMarkers local;
  private final BrokerChannel channel;
  private final String interBrokerListener;

  TransactionMarkers(
      int nodeId,
      ClusterView view,
      LocalMarkers local,
      BrokerChannel channel,
      String interBrokerListener) {
    this.nodeId = nodeId;
    this.interBrokerListener = interBrokerListener;
    this.view = view;
    this.local = local;
    this.channel = channel;
  }

  CompletableFuture<Outcome> write(
      String transactionalId,
      long producerId,
      short producerEpoch,
      int coordinatorEpoch,
      boolean commit,
      Set<TopicPartition> partitions,
      BooleanSupplier stillCoordinator) {
    Attempt a =
        new Attempt(
            transactionalId,
            producerId,
            producerEpoch,
            coordinatorEpoch,
            commit,
            new HashSet<>(partitions),
            stillCoordinator);
    a.round();
    return a.done;
  }

  private final class Attempt {
    final String transactionalId;
    final long producerId;
    final short producerEpoch;
    final int coordinatorEpoch;
    final boolean commit;
    final Set<TopicPartition> remaining;
    final BooleanSupplier stillCoordinator;
    final CompletableFuture<Outcome> done = new CompletableFuture<>();
    int rounds;

    Attempt(
        String transactionalId,
        long producerId,
        short producerEpoch,
        int coordinatorEpoch,
        boolean commit,
        Set<TopicPartition> remaining,
        BooleanSupplier stillCoordinator) {
      this.transactionalId = transactionalId;
      this.producerId = producerId;
      this.producerEpoch = producerEpoch;
      this.coordinatorEpoch = coordinatorEpoch;
      this.commit = commit;
      this.remaining = remaining;
      this.stillCoordinator = stillCoordinator;
    }

    /** One pass over the partitions still without a marker. */
    void round() {
      if (remaining.isEmpty()) {
        done.complete(Outcome.WRITTEN);
        return;
      }
      if (!stillCoordinator.getAsBoolean()) {
        done.complete(Outcome.ABANDONED);
        return;
      }
      ClusterView.Snapshot snapshot = view.current();
      Map<Integer, List<TopicPartition>> byOwner = new HashMap<>();
      List<CompletableFuture<Map<TopicPartition, Errors>>> results = new ArrayList<>();
      for (TopicPartition tp : List.copyOf(remaining)) {
        Optional<TopicInfo> topic = snapshot.topic(tp.topic());
        if (topic.isEmpty() || tp.partition() >= topic.get().partitionCount()) {
          // Deleted: nothing to mark.
          remaining.remove(tp);
          continue;
        }
        OptionalInt owner =
            snapshot.liveOwner(new TopicPartitionId(topic.get().topicId(), tp.partition()));
        if (owner.isPresent()) {
          byOwner.computeIfAbsent(owner.getAsInt(), o -> new ArrayList<>()).add(tp);
        }
      }
      byOwner.forEach(
          (owner, tps) -> {
            if (owner == nodeId) {
              try (var hold = local.holdFlushes()) {
                for (TopicPartition tp : tps) {
                  results.add(
                      local
                          .write(tp, producerId, producerEpoch, coordinatorEpoch, commit)
                          .thenApply(e -> Map.of(tp, e)));
                }
              }
            } else {
              results.add(remote(snapshot, owner, tps));
            }
          });
      CompletableFuture.allOf(results.toArray(CompletableFuture[]::new))
          .whenComplete(
              (v, t) -> {
                for (CompletableFuture<Map<TopicPartition, Errors>> r : results) {
                  Map<TopicPartition, Errors> errors =
                      r.isCompletedExceptionally() ? Map.of() : r.join();
                  for (var e : errors.entrySet()) {
                    if (e.getValue() == Errors.NONE) {
                      remaining.remove(e.getKey());
                    } else if (e.getValue() == Errors.INVALID_PRODUCER_EPOCH
                        || e.getValue() == Errors.TRANSACTION_COORDINATOR_FENCED) {
                      LOG.warn(
                          "transactional_id={} producer={} epoch={} coordinator_epoch={} marker"
                              + " fenced on {}: {}; a newer coordinator finishes it",
                          transactionalId,
                          producerId,
                          producerEpoch,
                          coordinatorEpoch,
                          e.getKey(),
                          e.getValue());
                      done.complete(Outcome.ABANDONED);
                      return;
                    }
                  }
                }
                if (remaining.isEmpty()) {
                  done.complete(Outcome.WRITTEN);
                } else {
                  // Owners move and start: say so now and then, not every 100 ms.
                  if (rounds++ % 50 == 1) {
                    LOG.info(
                        "transactional_id={} producer={} epoch={} {} markers still to write on {}"
                            + " after {} rounds",
                        transactionalId,
                        producerId,
                        producerEpoch,
                        commit ? "COMMIT" : "ABORT",
                        remaining,
                        rounds);
                  }
                  Executor later =
                      CompletableFuture.delayedExecutor(RETRY_MS, TimeUnit.MILLISECONDS);
                  later.execute(this::round);
                }
              });
    }

    private CompletableFuture<Map<TopicPartition, Errors>> remote(
        ClusterView.Snapshot snapshot, int owner, List<TopicPartition> tps) {
      Optional<BrokerInfo> broker = snapshot.broker(owner);
      if (broker.isEmpty()) {
        return CompletableFuture.completedFuture(Map.of());
      }
      // The owner's endpoint on the listener this broker's channel speaks (it may differ from the
      // owner's own inter-broker listener while a change of it rolls through the cluster).
      Optional<BrokerEndpoint> endpoint = broker.get().endpoint(interBrokerListener);
      if (endpoint.isEmpty()) {
        LOG.warn(
            "node={} has no listener {}: markers for {} wait for it",
            owner,
            interBrokerListener,
            tps);
        return CompletableFuture.completedFuture(Map.of());
      }
      Node node = new Node(owner, endpoint.get().host(), endpoint.get().port());
      WriteTxnMarkersRequest.TxnMarkerEntry entry =
          new WriteTxnMarkersRequest.TxnMarkerEntry(
              producerId,
              producerEpoch,
              coordinatorEpoch,
              commit ? TransactionResult.COMMIT : TransactionResult.ABORT,
              tps,
              (short) 0);
      return channel
          .send(node, new WriteTxnMarkersRequest.Builder(List.of(entry)))
          .handle(
              (response, t) -> {
                if (t != null) {
                  LOG.info("WriteTxnMarkers to node {} failed: {}", owner, t.toString());
                  return Map.of();
                }
                Map<TopicPartition, Errors> out = new HashMap<>();
                for (WriteTxnMarkersResponseData.WritableTxnMarkerResult m :
                    ((WriteTxnMarkersResponse) response).data().markers()) {
                  for (var topic : m.topics()) {
                    for (var p : topic.partitions()) {
                      out.put(
                          new TopicPartition(topic.name(), p.partitionIndex()),
                          Errors.forCode(p.errorCode()));
                    }
                  }
                }
                return out;
              });
    }
  }
}
