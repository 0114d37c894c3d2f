package dev.diskless.broker;

import dev.diskless.broker.cluster.ClusterView;
import dev.diskless.broker.cluster.Controller;
import dev.diskless.broker.cluster.OwnershipSync;
import dev.diskless.broker.config.BrokerConfig;
import dev.diskless.broker.group.ConsumerLag;
import dev.diskless.broker.group.GroupCoordination;
import dev.diskless.broker.group.OffsetsTopic;
import dev.diskless.broker.handler.Access;
import dev.diskless.broker.handler.BrokerContext;
import dev.diskless.broker.handler.HighWatermarkWaiters;
import dev.diskless.broker.handler.ReplicaTailFollower;
import dev.diskless.broker.handler.RequestDispatcher;
import dev.diskless.broker.handler.TopicAssigner;
import dev.diskless.broker.quota.ClientQuotas;
import dev.diskless.broker.security.AclAuthorizer;
import dev.diskless.broker.security.SecurityConfig;
import dev.diskless.broker.security.TlsConfig;
import dev.diskless.broker.txn.TransactionCoordination;
import dev.diskless.broker.txn.TransactionCoordinatorConfig;
import dev.diskless.broker.txn.TransactionTopic;
import dev.diskless.broker.txn.TransactionVerifier;
import dev.diskless.storage.StorageEngine;
import dev.diskless.storage.TopicPartitionId;
import dev.diskless.storage.metadata.AclStore;
import dev.diskless.storage.metadata.BatchIndex;
import dev.diskless.storage.metadata.BrokerConfigStore;
import dev.diskless.storage.metadata.BrokerEndpoint;
import dev.diskless.storage.metadata.BrokerRegistration;
import dev.diskless.storage.metadata.BrokerRegistry;
import dev.diskless.storage.metadata.ClientQuotaStore;
import dev.diskless.storage.metadata.ClusterChanges;
import dev.diskless.storage.metadata.ClusterReads;
import dev.diskless.storage.metadata.ControllerLease;
import dev.diskless.storage.metadata.LeaderEpochs;
import dev.diskless.storage.metadata.LeaseKeeper;
import dev.diskless.storage.metadata.LeaseRenewal;
import dev.diskless.storage.metadata.MetadataStore;
import dev.diskless.storage.metadata.PartitionMoves;
import dev.diskless.storage.metadata.PartitionOwnership;
import dev.diskless.storage.metadata.ProducerIds;
import dev.diskless.storage.metadata.ScramCredentialStore;
import dev.diskless.storage.metadata.TopicStore;
import dev.diskless.storage.metadata.TransactionStore;
import dev.diskless.storage.metrics.StorageMetrics;
import dev.diskless.storage.objectstore.ObjectStore;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Everything a broker does under one registration (a node id leased at one broker epoch): the lease
 * keeper, the storage engine with the partitions it owns, the cluster view, the controller, the
 * group coordinator, and the request dispatcher over them. A session ends for good when its lease
 * is lost (a pause or a metadata outage outlasted it, or the id was taken over): the broker then
 * halts it and opens a new one under a new registration, so fencing by epoch stays intact. The
 * listener, the connection pools and the meters belong to the broker and outlive sessions.
 */
final class BrokerSession {

  private static final Logger LOG = LoggerFactory.getLogger(BrokerSession.class);

  /** The broker's parts that sessions share. */
  record Resources(
      BrokerConfig config,
      MetadataStore metadata,
      MetadataStore leaseMetadata,
      ObjectStore objects,
      StorageMetrics metrics,
      List<BrokerEndpoint> endpoints) {}

  private final BrokerRegistry registry;
  private final BrokerRegistration registration;
  private final LeaseKeeper lease;
  private final StorageEngine engine;
  private final ClusterView view;
  private final PartitionOwnership ownership;
  private final GroupCoordination groups;
  private final TransactionCoordination transactions;
  private final Controller controller;
  private final OwnershipSync sync;
  private final ReplicaTailFollower tail;
  private final RequestDispatcher dispatcher;
  private final Optional<AclAuthorizer> acls;
  private final ClientQuotas quotas;
  private final ConsumerLag lag;

  private BrokerSession(
      BrokerRegistry registry,
      BrokerRegistration registration,
      LeaseKeeper lease,
      StorageEngine engine,
      ClusterView view,
      PartitionOwnership ownership,
      GroupCoordination groups,
      TransactionCoordination transactions,
      Controller controller,
      OwnershipSync sync,
      ReplicaTailFollower tail,
      RequestDispatcher dispatcher,
      Optional<AclAuthorizer> acls,
      ClientQuotas quotas,
      ConsumerLag lag) {
    this.registry = registry;
    this.registration = registration;
    this.lease = lease;
    this.engine = engine;
    this.view = view;
    this.ownership = ownership;
    this.groups = groups;
    this.transactions = transactions;
    this.controller = controller;
    this.sync = sync;
    this.tail = tail;
    this.dispatcher = dispatcher;
    this.acls = acls;
    this.quotas = quotas;
    this.lag = lag;
  }

  /**
   * Registers and starts every part in order; if a step fails, what was started is halted again
   * (the registration is left to expire), so a failed attempt leaves no threads behind.
   */
  static BrokerSession open(Resources r, Consumer<LeaseRenewal> onLeaseLost) throws Exception {
    BrokerConfig config = r.config();
    Deque<Runnable> undo = new ArrayDeque<>();
    try {
      BrokerRegistry registry = new BrokerRegistry(r.metadata());
      long sent = System.nanoTime();
      BrokerRegistration registration =
          registry
              .register(config.instanceId(), r.endpoints(), config.rack(), config.lease())
              .get(config.lease().toMillis() * 3, TimeUnit.MILLISECONDS);
      // Renewals use a pool of their own with short timeouts: the main pool may be stuck.
      LeaseKeeper lease =
          new LeaseKeeper(
              new BrokerRegistry(r.leaseMetadata()),
              registration,
              config.lease(),
              sent,
              0.01,
              Duration.ofMillis(200));
      // After an outage the main pool may wait seconds between reconnection attempts.
      lease.onLost(onLeaseLost).onReachableAgain(r.metadata()::reconnect).start();
      undo.push(lease::close);
      PartitionOwnership ownership = new PartitionOwnership(r.metadata());
      TopicStore topics = new TopicStore(r.metadata());
      PartitionMoves moves = new PartitionMoves(r.metadata());
      ControllerLease controllerLease = new ControllerLease(r.metadata());
      ClusterView view = new ClusterView(new ClusterReads(r.metadata()), registry, controllerLease);
      // From the picture this broker already caches, no query of its own. Every broker exports it
      // (any may be the one still up); the alert takes the max over a cluster's brokers.
      r.metrics().gauge("diskless.partitions.unowned", () -> view.current().unownedPartitions());
      int nodeId = registration.nodeId();
      StorageEngine engine =
          StorageEngine.withLease(
              config.storage(),
              registration,
              lease,
              r.metadata(),
              r.objects(),
              r.metrics(),
              () -> {
                var brokers = view.current().brokers();
                return !brokers.isEmpty() && brokers.get(0).nodeId() == nodeId;
              });
      undo.push(engine::halt);
      HighWatermarkWaiters waiters = new HighWatermarkWaiters();
      engine.logs().addHighWatermarkListener(waiters::advanced);
      ReplicaTailFollower tail =
          new ReplicaTailFollower(ownership, config.replicaTailPoll(), r.metrics().registry())
              .start();
      undo.push(tail::close);
      OffsetsTopic offsetsTopic =
          OffsetsTopic.ensure(
                  topics,
                  Integer.parseInt(
                      config.groupCoordinator().getOrDefault("offsets.topic.num.partitions", "50")))
              .join();
      TransactionCoordinatorConfig txnConfig =
          TransactionCoordinatorConfig.from(config.groupCoordinator());
      TransactionTopic transactionTopic =
          TransactionTopic.ensure(topics, txnConfig.partitions()).join();
      view.refresh().join();
      AclStore aclStore = new AclStore(r.metadata());
      // Every ACL is loaded before the first request is answered.
      Optional<AclAuthorizer> acls =
          config
              .security()
              .authorization()
              .map(a -> AclAuthorizer.start(a, aclStore, nodeId, r.metrics().registry()));
      acls.ifPresent(a -> undo.push(a::close));
      SecurityConfig interBroker = config.interBroker().security();
      if (acls.isPresent()
          && !interBroker.sasl()
          && interBroker.tls().map(t -> t.clientAuth() == TlsConfig.ClientAuth.NONE).orElse(true)) {
        LOG.warn(
            "ACLs are enforced and the inter-broker listener {} authenticates nobody: transaction"
                + " markers between brokers arrive as User:ANONYMOUS, which needs CLUSTER_ACTION on"
                + " the cluster; keep that listener reachable by brokers only",
            config.interBrokerListener());
      }
      Access access = new Access(acls.map(a -> a.plugin().get()));
      ClientQuotaStore quotaStore = new ClientQuotaStore(r.metadata());
      ClientQuotas quotas = ClientQuotas.start(quotaStore, r.metrics().registry());
      undo.push(quotas::close);
      TransactionStore transactionStore = new TransactionStore(r.metadata());
      TransactionVerifier verifier = new TransactionVerifier(transactionStore);
      ProducerIds producerIds = new ProducerIds(r.metadata());
      GroupCoordination groups =
          GroupCoordination.start(
              nodeId,
              offsetsTopic,
              engine,
              view,
              verifier,
              config.groupCoordinator(),
              r.metrics().registry(),
              acls.map(AclAuthorizer::plugin));
      undo.push(groups::close);
      TransactionCoordination transactions =
          TransactionCoordination.start(
              nodeId,
              transactionTopic,
              transactionStore,
              producerIds,
              engine,
              view,
              groups,
              txnConfig,
              r.metrics(),
              config.interBroker());
      undo.push(transactions::close);
      ConsumerLag lag =
          ConsumerLag.start(
              groups.coordinator(),
              view,
              ownership,
              r.metrics().registry(),
              config.consumerLagInterval());
      undo.push(lag::close);
      RequestDispatcher dispatcher =
          new RequestDispatcher(
              new BrokerContext(
                  nodeId,
                  config.rack(),
                  config.clusterId(),
                  engine,
                  view,
                  topics,
                  producerIds,
                  new TopicAssigner(ownership, view),
                  moves,
                  new LeaderEpochs(r.metadata()),
                  waiters,
                  tail,
                  groups,
                  transactions,
                  verifier,
                  r.metrics(),
                  config.partitionLimits(),
                  new ScramCredentialStore(r.metadata()),
                  new BatchIndex(r.metadata()),
                  new BrokerConfigStore(r.metadata()),
                  acls,
                  aclStore,
                  access,
                  quotas,
                  quotaStore,
                  config.settings()),
              lease);
      Controller controller =
          new Controller(nodeId, controllerLease, ownership, moves, config.lease());
      OwnershipSync sync =
          new OwnershipSync(nodeId, view, controller, moves, engine)
              .onOwnedChanged(
                  () -> {
                    groups.reconcile();
                    transactions.coordinator().reconcile();
                  });
      ClusterChanges changes =
          new ClusterChanges(
              r.metadata().config(),
              changed -> {
                if (changed.includesOtherThan(Set.of(AclStore.TABLE, ClientQuotaStore.TABLE))) {
                  sync.clusterChanged();
                }
                if (changed.includes(AclStore.TABLE)) {
                  acls.ifPresent(AclAuthorizer::reload);
                }
                if (changed.includes(ClientQuotaStore.TABLE)) {
                  quotas.reload();
                }
              });
      acls.ifPresent(a -> a.pollWhileNotHearing(changes::listening));
      quotas.pollWhileNotHearing(changes::listening);
      sync.hearingChangesFrom(changes).start(300);
      undo.push(sync::close);
      engine.maintenance().start();
      // Only now may the controller give it partitions and clients learn of it.
      registry.markServing(registration).get(config.lease().toMillis(), TimeUnit.MILLISECONDS);
      return new BrokerSession(
          registry,
          registration,
          lease,
          engine,
          view,
          ownership,
          groups,
          transactions,
          controller,
          sync,
          tail,
          dispatcher,
          acls,
          quotas,
          lag);
    } catch (Exception | Error e) {
      while (!undo.isEmpty()) {
        try {
          undo.pop().run();
        } catch (RuntimeException suppressed) {
          e.addSuppressed(suppressed);
        }
      }
      throw e;
    }
  }

  BrokerRegistration registration() {
    return registration;
  }

  RequestDispatcher dispatcher() {
    return dispatcher;
  }

  StorageEngine engine() {
    return engine;
  }

  ClusterView view() {
    return view;
  }

  /** Whether this session may act: its lease is running by this broker's conservative clock. */
  boolean holds() {
    return lease.holds();
  }

  /** Whether a renewal found the lease expired or taken over: this session is over. */
  boolean lost() {
    return lease.lost();
  }

  /**
   * Stops at once, as kill -9 would: nothing more is opened, handed over or acknowledged under this
   * registration; the lease is left to expire.
   */
  void halt() {
    lag.close();
    sync.close();
    tail.close();
    transactions.close();
    groups.close();
    lease.close();
    engine.halt();
    acls.ifPresent(AclAuthorizer::close);
    quotas.close();
  }

  /**
   * Drains: marks the registration draining, stops following ownership, hands every partition to
   * the least-loaded other broker (committed first) until {@code deadline}, runs {@code
   * afterHandOver} (the broker stops its listener), closes the engine and deregisters.
   */
  void drain(long deadline, Duration drainTimeout, Runnable afterHandOver) {
    // Draining: the controller sends nothing more here and moves what is left elsewhere.
    registry.markDraining(registration).exceptionally(t -> null).join();
    lag.close();
    sync.close();
    controller.resign();
    // Group members and transactions move to the next coordinators; the writes of both have all
    // been answered, and markers this one did not finish are the next one's.
    transactions.close();
    groups.close();
    handOverEverything(deadline, drainTimeout);
    afterHandOver.run();
    tail.close();
    engine.close();
    lease.close();
    registry.deregister(registration).exceptionally(t -> null).join();
    acls.ifPresent(AclAuthorizer::close);
    quotas.close();
  }

  /**
   * Hands every owned partition to the least-loaded other live broker (or, with none left, back to
   * nobody), all at once, each flushed and committed first; stops waiting at {@code deadline},
   * leaving the rest to failover.
   */
  private void handOverEverything(long deadline, Duration drainTimeout) {
    ClusterView.Snapshot snapshot;
    try {
      snapshot = view.refresh().get(5, TimeUnit.SECONDS);
    } catch (Exception e) {
      snapshot = view.current();
    }
    Map<Integer, Integer> load = new HashMap<>(snapshot.ownedByTargets());
    load.remove(registration.nodeId());
    List<CompletableFuture<?>> all = new ArrayList<>();
    for (TopicPartitionId tp : engine.logs().ownedPartitions()) {
      OptionalInt target = ClusterView.Snapshot.leastLoaded(load);
      target.ifPresent(t -> load.merge(t, 1, Integer::sum));
      CompletableFuture<?> moved =
          target.isPresent()
              ? engine.logs().handOver(tp, target.getAsInt())
              : engine
                  .logs()
                  .release(tp)
                  .thenCompose(
                      epoch ->
                          epoch.isEmpty()
                              ? CompletableFuture.completedFuture(null)
                              : ownership.transfer(
                                  tp,
                                  OptionalInt.of(registration.nodeId()),
                                  epoch.getAsInt(),
                                  OptionalInt.empty(),
                                  true));
      all.add(
          moved.whenComplete(
              (m, t) -> {
                if (t != null) {
                  LOG.warn("partition={} not handed over cleanly: {}", tp, t.toString());
                }
              }));
    }
    try {
      CompletableFuture.allOf(all.toArray(CompletableFuture[]::new))
          .get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
      LOG.info("node={} handed over {} partitions", registration.nodeId(), all.size());
    } catch (java.util.concurrent.TimeoutException e) {
      LOG.warn(
          "node={} drain timed out after {}; the rest fail over",
          registration.nodeId(),
          drainTimeout);
    } catch (Exception e) {
      LOG.warn("node={} drain incomplete: {}", registration.nodeId(), e.toString());
    }
  }
}
