package dev.diskless.broker.handler;

import dev.diskless.broker.cluster.ClusterView;
import dev.diskless.storage.TopicPartitionId;
import dev.diskless.storage.metadata.BatchIndex;
import dev.diskless.storage.metadata.TopicInfo;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.stream.Collectors;
import org.apache.kafka.common.message.DescribeLogDirsRequestData.DescribableLogDirTopic;
import org.apache.kafka.common.message.DescribeLogDirsResponseData;
import org.apache.kafka.common.message.DescribeLogDirsResponseData.DescribeLogDirsPartition;
import org.apache.kafka.common.message.DescribeLogDirsResponseData.DescribeLogDirsResult;
import org.apache.kafka.common.message.DescribeLogDirsResponseData.DescribeLogDirsTopic;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.requests.DescribeLogDirsRequest;
import org.apache.kafka.common.requests.DescribeLogDirsResponse;

/**
 * DescribeLogDirs, for Kafka's tools (kafka-log-dirs.sh, kafka-reassign-partitions.sh): a broker
 * keeps no log on disk, so it reports one virtual log dir, {@code /diskless/<node id>}, holding the
 * partitions metadata says it owns, each with the bytes stored for it in object storage (from the
 * batch index) and no lag (there are no replicas to lag). Total and usable bytes are unknown (-1):
 * object storage has no volume to fill.
 */
final class DescribeLogDirsHandler {

  private final BatchIndex index;
  private final ClusterView view;
  private final int nodeId;

  DescribeLogDirsHandler(BatchIndex index, ClusterView view, int nodeId) {
    this.index = index;
    this.view = view;
    this.nodeId = nodeId;
  }

  /** The virtual log dir of {@code node}. */
  static String logDir(int node) {
    return "/diskless/" + node;
  }

  CompletableFuture<DescribeLogDirsResponse> handle(DescribeLogDirsRequest request) {
    // Null topics: every partition; otherwise only those named.
    Map<String, Set<Integer>> wanted =
        request.data().topics() == null
            ? null
            : request.data().topics().stream()
                .collect(
                    Collectors.toMap(
                        DescribableLogDirTopic::topic,
                        t -> Set.copyOf(t.partitions()),
                        (a, b) -> {
                          Set<Integer> both = new java.util.HashSet<>(a);
                          both.addAll(b);
                          return both;
                        }));
    ClusterView.Snapshot snapshot = view.current();
    return index
        .bytesOwnedBy(nodeId)
        .thenApply(
            sizes -> {
              Map<String, List<DescribeLogDirsPartition>> byTopic = new TreeMap<>();
              sizes.forEach(
                  (tp, bytes) -> {
                    TopicInfo topic = snapshot.topicsById().get(tp.topicId());
                    if (topic == null || !included(wanted, topic.name(), tp)) {
                      return;
                    }
                    byTopic
                        .computeIfAbsent(topic.name(), k -> new ArrayList<>())
                        .add(
                            new DescribeLogDirsPartition()
                                .setPartitionIndex(tp.partition())
                                .setPartitionSize(bytes)
                                .setOffsetLag(0)
                                .setIsFutureKey(false));
                  });
              List<DescribeLogDirsTopic> topics = new ArrayList<>();
              byTopic.forEach(
                  (name, partitions) -> {
                    partitions.sort(
                        java.util.Comparator.comparingInt(
                            DescribeLogDirsPartition::partitionIndex));
                    topics.add(new DescribeLogDirsTopic().setName(name).setPartitions(partitions));
                  });
              return new DescribeLogDirsResponse(
                  new DescribeLogDirsResponseData()
                      .setErrorCode(Errors.NONE.code())
                      .setResults(
                          List.of(
                              new DescribeLogDirsResult()
                                  .setErrorCode(Errors.NONE.code())
                                  .setLogDir(logDir(nodeId))
                                  .setTopics(topics)
                                  .setTotalBytes(-1)
                                  .setUsableBytes(-1))));
            });
  }

  private static boolean included(
      Map<String, Set<Integer>> wanted, String topic, TopicPartitionId tp) {
    if (wanted == null) {
      return true;
    }
    Set<Integer> partitions = wanted.get(topic);
    return partitions != null && partitions.contains(tp.partition());
  }
}
