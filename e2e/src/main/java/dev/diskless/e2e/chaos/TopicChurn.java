package dev.diskless.e2e.chaos;

import dev.diskless.e2e.chaos.ChaosHistory.Recreated;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The topic-recreate fault class: while the workload runs, one topic beside it is created, written,
 * read back, deleted and created again under the same name, over and over, by one idempotent
 * producer that lives across the generations (as an application's does). Each generation must read
 * back exactly what it wrote, at offsets from 0, and nothing of an earlier generation; what it
 * found lands in the history.
 */
final class TopicChurn {

  private static final Logger LOG = LoggerFactory.getLogger(TopicChurn.class);
  private static final int RECORDS = 20;

  private final String bootstrap;
  private final String topic;
  private final ChaosHistory history;
  private final AtomicBoolean running = new AtomicBoolean(true);
  private final Thread thread;

  TopicChurn(String bootstrap, String topic, ChaosHistory history) {
    this.bootstrap = bootstrap;
    this.topic = topic;
    this.history = history;
    this.thread = Thread.ofPlatform().name("chaos-topic-churn").start(this::run);
  }

  private void run() {
    Properties p = Workload.producerProperties(bootstrap);
    try (Admin admin =
            Admin.create(
                Map.of(
                    AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG,
                    bootstrap,
                    AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG,
                    "30000"));
        KafkaProducer<String, String> producer = new KafkaProducer<>(p)) {
      for (int generation = 0; running.get(); generation++) {
        String problem = generation(admin, producer, generation);
        history.add(new Recreated(Workload.now(), topic, generation, problem));
        if (problem != null) {
          LOG.error("{} generation {}: {}", topic, generation, problem);
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (Exception e) {
      LOG.error("{}: churn stopped", topic, e);
      history.add(
          new Recreated(
              Workload.now(), topic, -1, "churn stopped: " + e + " caused by " + e.getCause()));
    }
  }

  /**
   * One generation: create, write, read back (each value as offset:value), delete; what went wrong,
   * or null.
   */
  private String generation(Admin admin, KafkaProducer<String, String> producer, int generation)
      throws Exception {
    await(() -> create(admin), "created");
    List<String> written = new ArrayList<>();
    for (int i = 0; i < RECORDS; i++) {
      String value = "g" + generation + "-" + i;
      // Metadata of the new topic may take a moment: a send refused before it was sent is retried.
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
      while (true) {
        try {
          long offset = producer.send(new ProducerRecord<>(topic, 0, null, value)).get().offset();
          if (offset != i) {
            return value + " acknowledged at offset " + offset + ", expected " + i;
          }
          written.add(i + ":" + value);
          break;
        } catch (ExecutionException e) {
          if (System.nanoTime() > deadline) {
            return value + " never acknowledged: " + e.getCause();
          }
          Thread.sleep(200);
        }
      }
    }
    List<String> read = readAll();
    if (!read.equals(written)) {
      return "read back " + read + " after writing " + written;
    }
    await(() -> delete(admin), "deleted");
    return null;
  }

  private List<String> readAll() {
    Properties c = new Properties();
    c.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    c.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
    c.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
    c.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    List<String> values = new ArrayList<>();
    try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(c)) {
      TopicPartition tp = new TopicPartition(topic, 0);
      consumer.assign(List.of(tp));
      consumer.seekToBeginning(List.of(tp));
      long end = consumer.endOffsets(List.of(tp), Duration.ofSeconds(30)).get(tp);
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
      while (consumer.position(tp) < end && System.nanoTime() < deadline) {
        for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(200))) {
          values.add(r.offset() + ":" + r.value());
        }
      }
    }
    return values;
  }

  private boolean create(Admin admin) throws Exception {
    try {
      admin.createTopics(List.of(new NewTopic(topic, 1, (short) 1))).all().get();
      return true;
    } catch (ExecutionException e) {
      // The last generation was seen deleted, so an existing topic is this one's, created by a
      // call whose answer was lost; anything else is retried.
      return e.getCause() instanceof TopicExistsException;
    }
  }

  private boolean delete(Admin admin) throws Exception {
    try {
      admin.deleteTopics(List.of(topic)).all().get();
    } catch (ExecutionException e) {
      if (!(e.getCause() instanceof UnknownTopicOrPartitionException)) {
        return false;
      }
    }
    return !admin.listTopics().names().get().contains(topic);
  }

  @FunctionalInterface
  private interface Step {
    boolean done() throws Exception;
  }

  private void await(Step step, String what) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (!step.done()) {
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException(topic + " not " + what + " within 60 s");
      }
      Thread.sleep(250);
    }
  }

  /** Finishes the generation under way and stops. */
  void stop() throws InterruptedException {
    running.set(false);
    thread.join(Duration.ofSeconds(120));
  }
}
