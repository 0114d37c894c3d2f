package dev.diskless.broker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.diskless.broker.config.BrokerConfig;
import dev.diskless.broker.security.AuthorizationConfig;
import dev.diskless.broker.security.SecurityConfig;
import dev.diskless.broker.testing.KafkaTool;
import dev.diskless.broker.testing.SaslClients;
import dev.diskless.storage.StorageConfig;
import dev.diskless.storage.metrics.StorageMetrics;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewPartitions;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.admin.ScramCredentialInfo;
import org.apache.kafka.clients.admin.ScramMechanism;
import org.apache.kafka.clients.admin.UserScramCredentialUpsertion;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.acl.AccessControlEntry;
import org.apache.kafka.common.acl.AclBinding;
import org.apache.kafka.common.acl.AclBindingFilter;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.acl.AclPermissionType;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.errors.AuthorizationException;
import org.apache.kafka.common.errors.ClusterAuthorizationException;
import org.apache.kafka.common.errors.GroupAuthorizationException;
import org.apache.kafka.common.errors.InvalidRequestException;
import org.apache.kafka.common.errors.SecurityDisabledException;
import org.apache.kafka.common.errors.TopicAuthorizationException;
import org.apache.kafka.common.errors.TransactionalIdAuthorizationException;
import org.apache.kafka.common.resource.PatternType;
import org.apache.kafka.common.resource.ResourcePattern;
import org.apache.kafka.common.resource.ResourceType;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.tools.AclCommand;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * ACLs as Kafka users meet them, on two brokers sharing one metadata store: a principal without
 * ACLs is refused by every API class with Kafka's errors (and learns nothing of topics it may not
 * describe), {@code kafka-acls.sh} adds, lists and removes ACLs through either broker, the other
 * broker applies them when notified, prefixed patterns, DENY over ALLOW, transactional ids, super
 * users, and Kafka's validation of new ACLs.
 */
class AclIT {

  private StorageConfig storage;
  private Broker first;
  private Broker second;
  private Path adminProperties;

  @BeforeEach
  void start() throws Exception {
    storage = TestStorage.fresh();
    first = Broker.start(config("acl-a"), StorageMetrics.noExport());
    second = Broker.start(config("acl-b"), StorageMetrics.noExport());
    adminProperties = SaslClients.propertiesFile("SCRAM-SHA-512", "admin", "admin-secret");
    try (Admin admin = Admin.create(client("admin", "admin-secret"))) {
      admin.createTopics(List.of(new NewTopic("orders", 4, (short) 1))).all().get();
      admin
          .alterUserScramCredentials(
              List.of(
                  new UserScramCredentialUpsertion(
                      "alice",
                      new ScramCredentialInfo(ScramMechanism.SCRAM_SHA_512, 4096),
                      "alice-pw")))
          .all()
          .get();
    }
  }

  @AfterEach
  void stop() {
    if (second != null) {
      second.close();
    }
    if (first != null) {
      first.close();
    }
  }

  private BrokerConfig config(String instance) {
    return BrokerConfig.local(instance, storage)
        .withSecurity(
            SecurityConfig.sasl("SCRAM-SHA-512", "PLAIN")
                .withBootstrapUser("admin", "admin-secret")
                .withAuthorization(new AuthorizationConfig(Set.of("User:admin"), false)));
  }

  private Map<String, Object> client(String user, String password) {
    return SaslClients.config("127.0.0.1:" + first.port(), "SCRAM-SHA-512", user, password);
  }

  private String acls(String... args) {
    String[] full = new String[args.length + 4];
    full[0] = "--bootstrap-server";
    full[1] = "127.0.0.1:" + second.port();
    full[2] = "--command-config";
    full[3] = adminProperties.toString();
    System.arraycopy(args, 0, full, 4, args.length);
    return KafkaTool.run(AclCommand::main, full);
  }

  @Test
  void aPrincipalWithoutAclsIsRefusedByEveryApiAndKafkaAclsLetsItIn() throws Exception {
    org.apache.kafka.common.Uuid ordersId;
    try (Admin admin = Admin.create(client("admin", "admin-secret"))) {
      ordersId =
          admin.describeTopics(List.of("orders")).allTopicNames().get().get("orders").topicId();
    }
    Map<String, Object> alice = client("alice", "alice-pw");
    try (Admin admin = Admin.create(alice)) {
      // Topics it may not describe do not exist for it.
      assertThat(admin.listTopics().names().get()).doesNotContain("orders");
      assertThat(cause(admin.describeTopics(List.of("orders")).allTopicNames()))
          .isInstanceOf(TopicAuthorizationException.class);
      assertThat(cause(admin.createTopics(List.of(new NewTopic("mine", 1, (short) 1))).all()))
          .isInstanceOf(TopicAuthorizationException.class);
      assertThat(cause(admin.deleteTopics(List.of("orders")).all()))
          .isInstanceOf(TopicAuthorizationException.class);
      assertThat(cause(admin.createPartitions(Map.of("orders", NewPartitions.increaseTo(5))).all()))
          .isInstanceOf(TopicAuthorizationException.class);
      assertThat(
              cause(
                  admin
                      .describeConfigs(
                          List.of(new ConfigResource(ConfigResource.Type.TOPIC, "orders")))
                      .all()))
          .isInstanceOf(TopicAuthorizationException.class);
      assertThat(
              cause(
                  admin
                      .describeConfigs(List.of(new ConfigResource(ConfigResource.Type.BROKER, "")))
                      .all()))
          .isInstanceOf(ClusterAuthorizationException.class);
      assertThat(
              cause(
                  admin
                      .listOffsets(Map.of(new TopicPartition("orders", 0), OffsetSpec.latest()))
                      .all()))
          .isInstanceOf(TopicAuthorizationException.class);
      assertThat(cause(admin.describeConsumerGroups(List.of("readers")).all()))
          .isInstanceOf(GroupAuthorizationException.class);
      assertThat(cause(admin.deleteConsumerGroups(List.of("readers")).all()))
          .isInstanceOf(GroupAuthorizationException.class);
      assertThat(cause(admin.describeAcls(AclBindingFilter.ANY).values()))
          .isInstanceOf(ClusterAuthorizationException.class);
      assertThat(cause(admin.listPartitionReassignments().reassignments()))
          .isInstanceOf(ClusterAuthorizationException.class);
      assertThat(cause(admin.describeLogDirs(List.of(0)).allDescriptions()))
          .isInstanceOf(ClusterAuthorizationException.class);
      assertThat(cause(admin.describeUserScramCredentials().all()))
          .isInstanceOf(ClusterAuthorizationException.class);
      // By id the id is told back but not the topic's name, so Kafka's Admin reports it as it
      // reports an unknown id.
      assertThat(
              cause(
                  admin
                      .describeTopics(
                          org.apache.kafka.common.TopicCollection.ofTopicIds(List.of(ordersId)))
                      .allTopicIds()))
          .isInstanceOf(org.apache.kafka.common.errors.UnknownTopicIdException.class);
      // Answered for anyone, without the cluster's operations.
      assertThat(admin.describeCluster().nodes().get()).hasSize(2);
    }
    assertThatThrownBy(() -> SaslClients.produce(alice, "orders", 1))
        .hasRootCauseInstanceOf(AuthorizationException.class);

    // kafka-acls.sh through the second broker; the first learns of them when notified.
    acls("--add", "--allow-principal", "User:alice", "--producer", "--topic", "orders");
    acls(
        "--add",
        "--allow-principal",
        "User:alice",
        "--consumer",
        "--topic",
        "orders",
        "--group",
        "readers");
    assertThat(acls("--list", "--topic", "orders"))
        .contains("principal=User:alice, host=*, operation=WRITE, permissionType=ALLOW")
        .contains("principal=User:alice, host=*, operation=READ, permissionType=ALLOW")
        .contains("principal=User:alice, host=*, operation=DESCRIBE, permissionType=ALLOW");
    eventually(() -> SaslClients.produce(alice, "orders", 20));
    assertThat(SaslClients.consume(alice, "orders", "readers", 20)).hasSize(20);
    try (Admin admin = Admin.create(alice)) {
      assertThat(admin.listTopics().names().get()).contains("orders");
      assertThat(admin.listConsumerGroups().all().get())
          .extracting(g -> g.groupId())
          .contains("readers");
    }

    // DENY wins over ALLOW.
    acls("--add", "--deny-principal", "User:alice", "--operation", "Read", "--topic", "orders");
    eventually(
        () ->
            assertThatThrownBy(() -> SaslClients.consume(alice, "orders", "readers", 1))
                .isInstanceOf(TopicAuthorizationException.class));

    // Removed: refused again.
    acls("--remove", "--force", "--topic", "orders");
    assertThat(acls("--list", "--topic", "orders")).doesNotContain("User:alice");
    eventually(
        () -> {
          try (Admin admin = Admin.create(alice)) {
            assertThat(cause(admin.describeTopics(List.of("orders")).allTopicNames()))
                .isInstanceOf(TopicAuthorizationException.class);
          }
        });
  }

  @Test
  void prefixedAclsTransactionalIdsAndKafkasValidation() throws Exception {
    Map<String, Object> alice = client("alice", "alice-pw");
    acls(
        "--add",
        "--allow-principal",
        "User:alice",
        "--operation",
        "All",
        "--resource-pattern-type",
        "prefixed",
        "--topic",
        "logs-");
    try (Admin admin = Admin.create(alice)) {
      eventually(
          () -> admin.createTopics(List.of(new NewTopic("logs-app", 2, (short) 1))).all().get());
      assertThat(
              cause(admin.createTopics(List.of(new NewTopic("metrics-app", 1, (short) 1))).all()))
          .isInstanceOf(TopicAuthorizationException.class);
    }
    eventually(() -> SaslClients.produce(alice, "logs-app", 5));

    Map<String, Object> transactional = new HashMap<>(alice);
    transactional.put("key.serializer", StringSerializer.class.getName());
    transactional.put("value.serializer", StringSerializer.class.getName());
    transactional.put("transactional.id", "alice-tx");
    transactional.put("max.block.ms", 15_000);
    try (KafkaProducer<String, String> producer = new KafkaProducer<>(transactional)) {
      assertThatThrownBy(producer::initTransactions)
          .isInstanceOf(TransactionalIdAuthorizationException.class);
    }
    acls(
        "--add",
        "--allow-principal",
        "User:alice",
        "--transactional-id",
        "alice-tx",
        "--operation",
        "Write",
        "--operation",
        "Describe");
    eventually(
        () -> {
          try (KafkaProducer<String, String> producer = new KafkaProducer<>(transactional)) {
            producer.initTransactions();
            producer.beginTransaction();
            producer.send(new ProducerRecord<>("logs-app", "k", "in a transaction")).get();
            producer.commitTransaction();
          }
        });

    try (Admin admin = Admin.create(client("admin", "admin-secret"))) {
      AclBinding read =
          new AclBinding(
              new ResourcePattern(ResourceType.GROUP, "g", PatternType.LITERAL),
              new AccessControlEntry("User:bob", "*", AclOperation.READ, AclPermissionType.ALLOW));
      // Created twice, stored once.
      admin.createAcls(List.of(read, read)).all().get();
      admin.createAcls(List.of(read)).all().get();
      AclBindingFilter bobs =
          new AclBindingFilter(
              org.apache.kafka.common.resource.ResourcePatternFilter.ANY,
              new org.apache.kafka.common.acl.AccessControlEntryFilter(
                  "User:bob", null, AclOperation.ANY, AclPermissionType.ANY));
      assertThat(admin.describeAcls(bobs).values().get()).containsExactly(read);
      assertThat(
              cause(
                  admin
                      .createAcls(
                          List.of(
                              new AclBinding(
                                  new ResourcePattern(
                                      ResourceType.CLUSTER, "other", PatternType.LITERAL),
                                  new AccessControlEntry(
                                      "User:bob",
                                      "*",
                                      AclOperation.ALTER,
                                      AclPermissionType.ALLOW))))
                      .all()))
          .isInstanceOf(InvalidRequestException.class)
          .hasMessageContaining("The only valid name for the CLUSTER resource is kafka-cluster");
      assertThat(admin.deleteAcls(List.of(bobs)).all().get()).containsExactly(read);
      assertThat(admin.describeAcls(bobs).values().get()).isEmpty();
    }
  }

  @Test
  void withoutAnAuthorizerTheAclApisSaySecurityIsDisabled() throws Exception {
    try (Broker plain =
            Broker.start(
                BrokerConfig.local("acl-plain", TestStorage.fresh()), StorageMetrics.noExport());
        Admin admin = Admin.create(Map.of("bootstrap.servers", "127.0.0.1:" + plain.port()))) {
      assertThat(cause(admin.describeAcls(AclBindingFilter.ANY).values()))
          .isInstanceOf(SecurityDisabledException.class);
    }
  }

  private static Throwable cause(Future<?> future) {
    try {
      future.get();
      throw new AssertionError("expected a refusal");
    } catch (ExecutionException e) {
      return e.getCause();
    } catch (InterruptedException e) {
      throw new AssertionError(e);
    }
  }

  /** Retries {@code check} for up to 15 s: the other broker loads ACLs when notified. */
  private static void eventually(Check check) throws Exception {
    long deadline = System.nanoTime() + Duration.ofSeconds(15).toNanos();
    while (true) {
      try {
        check.run();
        return;
      } catch (Exception | AssertionError e) {
        if (System.nanoTime() > deadline) {
          throw e;
        }
        Thread.sleep(200);
      }
    }
  }

  @FunctionalInterface
  private interface Check {
    void run() throws Exception;
  }
}
