package dev.diskless.operator.reconciler.user;

import dev.diskless.operator.crd.DisklessKafkaUser;
import dev.diskless.operator.crd.DisklessKafkaUserSpec;
import dev.diskless.operator.crd.DisklessKafkaUserSpec.AclResource;
import dev.diskless.operator.crd.DisklessKafkaUserSpec.AclRule;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import io.javaoperatorsdk.operator.processing.event.ResourceID;
import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collection;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ScramCredentialInfo;
import org.apache.kafka.clients.admin.ScramMechanism;
import org.apache.kafka.clients.admin.UserScramCredentialDeletion;
import org.apache.kafka.clients.admin.UserScramCredentialUpsertion;
import org.apache.kafka.common.acl.AccessControlEntry;
import org.apache.kafka.common.acl.AccessControlEntryFilter;
import org.apache.kafka.common.acl.AclBinding;
import org.apache.kafka.common.acl.AclBindingFilter;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.acl.AclPermissionType;
import org.apache.kafka.common.errors.ResourceNotFoundException;
import org.apache.kafka.common.resource.PatternType;
import org.apache.kafka.common.resource.ResourcePattern;
import org.apache.kafka.common.resource.ResourcePatternFilter;
import org.apache.kafka.common.resource.ResourceType;
import org.jboss.logging.Logger;

/**
 * Keeps each DisklessKafkaUser's SCRAM credential and ACLs in its cluster as the spec says, through
 * the cluster's Admin API on threads of its own (the calls wait on the network; the reconcile
 * thread must not). A reconcile reads the last outcome for the user's current spec ({@link
 * #latest}) and starts a sync when there is none, the spec changed, or the last is older than
 * {@link #RESYNC} (so that ACLs changed behind the operator's back are put back); an outcome that
 * differs from the last asks for a reconcile ({@link #onChange}). ACLs are diffed against
 * DescribeAcls for the user's principal: missing ones created, others deleted. The credential is
 * upserted whenever its password differs from the one this operator last registered (once after an
 * operator restart).
 */
@ApplicationScoped
public class UserSync {

  /** What the last sync of a user did, as the Ready condition reports it. */
  public record Outcome(boolean ready, String reason, String message) {}

  static final Duration RESYNC = Duration.ofSeconds(60);

  private static final Logger LOG = Logger.getLogger(UserSync.class);

  private static final class Entry {
    String inputs;
    DisklessKafkaUser user;
    Outcome outcome;
    Instant syncedAt;
    boolean running;

    /** A digest of the password this operator last registered, not the password. */
    String registeredPassword;

    Outcome deletion;
    boolean deleting;
  }

  private final KubernetesClient client;
  private final ExecutorService executor;
  private final Map<ResourceID, Entry> entries = new ConcurrentHashMap<>();
  private final KubernetesSerialization json = new KubernetesSerialization();
  private volatile Consumer<ResourceID> onChange = id -> {};

  @Inject
  public UserSync(KubernetesClient client) {
    this.client = client;
    AtomicInteger n = new AtomicInteger();
    this.executor =
        Executors.newFixedThreadPool(
            2,
            r -> {
              Thread t = new Thread(r, "diskless-user-sync-" + n.incrementAndGet());
              t.setDaemon(true);
              return t;
            });
  }

  /** Called with a user whose outcome changed, to reconcile it. */
  public void onChange(Consumer<ResourceID> trigger) {
    this.onChange = trigger;
  }

  /** The last outcome for the user's current spec, without waiting; starts a sync when due. */
  public Optional<Outcome> latest(DisklessKafkaUser user) {
    ResourceID id = ResourceID.fromResource(user);
    String inputs = json.asJson(user.getSpec());
    Entry e = entries.computeIfAbsent(id, k -> new Entry());
    boolean start;
    Outcome out;
    synchronized (e) {
      if (!inputs.equals(e.inputs)) {
        e.inputs = inputs;
        e.outcome = null;
        e.syncedAt = null;
      }
      e.user = user;
      out = e.outcome;
      boolean due = e.syncedAt == null || Instant.now().isAfter(e.syncedAt.plus(RESYNC));
      start = due && !e.running && !e.deleting;
      if (start) {
        e.running = true;
      }
    }
    if (start) {
      executor.execute(() -> sync(id, e));
    }
    return Optional.ofNullable(out);
  }

  /**
   * Removes the user's credential and ACLs from its cluster; empty until done (then the finalizer
   * may go). A cluster that no longer exists has nothing to remove.
   */
  public Optional<Outcome> delete(DisklessKafkaUser user) {
    ResourceID id = ResourceID.fromResource(user);
    Entry e = entries.computeIfAbsent(id, k -> new Entry());
    boolean start;
    Outcome out;
    synchronized (e) {
      e.user = user;
      out = e.deletion;
      start = !e.deleting && (out == null || !out.ready());
      if (start) {
        e.deleting = true;
      }
    }
    if (out != null && out.ready()) {
      entries.remove(id);
      return Optional.of(out);
    }
    if (start) {
      executor.execute(() -> remove(id, e));
    }
    return Optional.ofNullable(out);
  }

  @PreDestroy
  void stop() {
    executor.shutdownNow();
  }

  private void sync(ResourceID id, Entry e) {
    DisklessKafkaUser user;
    String inputs;
    String registered;
    synchronized (e) {
      user = e.user;
      inputs = e.inputs;
      registered = e.registeredPassword;
    }
    Outcome outcome;
    String password = null;
    try {
      password = password(user);
      outcome = apply(user, password, registered);
    } catch (RuntimeException failure) {
      outcome = new Outcome(false, "SyncFailed", failure.toString());
    }
    boolean changed;
    synchronized (e) {
      e.running = false;
      if (outcome.ready()) {
        e.registeredPassword = password == null ? null : digest(password);
      }
      if (!inputs.equals(e.inputs)) {
        // The spec changed meanwhile: the next reconcile starts a sync of the new one.
        changed = true;
      } else {
        changed = !outcome.equals(e.outcome);
        e.outcome = outcome;
        e.syncedAt = Instant.now();
      }
    }
    if (!outcome.ready()) {
      LOG.warnf(
          "user=%s/%s not in step with cluster %s: %s",
          id.getNamespace().orElse(""), id.getName(), user.getSpec().cluster, outcome.message());
    }
    if (changed) {
      onChange.accept(id);
    }
  }

  /** The password of a SCRAM user's Secret; empty while the Secret is not there yet. */
  private String password(DisklessKafkaUser user) {
    if (user.getSpec().authentication == null) {
      return null;
    }
    Secret secret =
        client
            .secrets()
            .inNamespace(user.getMetadata().getNamespace())
            .withName(user.getMetadata().getName())
            .get();
    if (secret == null
        || secret.getData() == null
        || !secret.getData().containsKey(UserSecretDependentResource.PASSWORD_KEY)) {
      return "";
    }
    return new String(
        Base64.getDecoder().decode(secret.getData().get(UserSecretDependentResource.PASSWORD_KEY)),
        StandardCharsets.UTF_8);
  }

  private Outcome apply(DisklessKafkaUser user, String password, String registered) {
    if (password != null && password.isEmpty()) {
      return new Outcome(false, "SecretPending", "the user's Secret is not there yet");
    }
    ClusterAdminAccess.Access access =
        ClusterAdminAccess.of(client, user.getMetadata().getNamespace(), user.getSpec().cluster);
    if (access.refusal().isPresent()) {
      return new Outcome(false, access.refusal().get().reason(), access.refusal().get().message());
    }
    String name = user.getMetadata().getName();
    try (Admin admin = Admin.create(access.configs().get())) {
      if (password != null && !digest(password).equals(registered)) {
        admin
            .alterUserScramCredentials(
                List.of(
                    new UserScramCredentialUpsertion(
                        name,
                        new ScramCredentialInfo(ScramMechanism.SCRAM_SHA_512, 4096),
                        password)))
            .all()
            .get(30, TimeUnit.SECONDS);
      } else if (password == null) {
        removeCredentials(admin, name);
      }
      int[] changes = syncAcls(admin, name, desiredAcls(user));
      return new Outcome(
          true,
          "InSync",
          (password != null ? "SCRAM-SHA-512 credentials and " : "")
              + desiredAcls(user).size()
              + " ACLs in cluster "
              + user.getSpec().cluster
              + " ("
              + changes[0]
              + " created, "
              + changes[1]
              + " deleted in the last sync)");
    } catch (ExecutionException e) {
      return new Outcome(false, "AdminRequestFailed", e.getCause().toString());
    } catch (Exception e) {
      if (e instanceof InterruptedException) {
        Thread.currentThread().interrupt();
      }
      return new Outcome(false, "AdminRequestFailed", e.toString());
    }
  }

  private void remove(ResourceID id, Entry e) {
    DisklessKafkaUser user;
    synchronized (e) {
      user = e.user;
    }
    Outcome outcome;
    ClusterAdminAccess.Access access =
        ClusterAdminAccess.of(client, user.getMetadata().getNamespace(), user.getSpec().cluster);
    if (access.refusal().filter(r -> r.reason().equals("ClusterNotFound")).isPresent()) {
      outcome = new Outcome(true, "ClusterGone", "the cluster no longer exists");
    } else if (access.refusal().isPresent()) {
      outcome =
          new Outcome(false, access.refusal().get().reason(), access.refusal().get().message());
    } else {
      String name = user.getMetadata().getName();
      try (Admin admin = Admin.create(access.configs().get())) {
        removeCredentials(admin, name);
        syncAcls(admin, name, Set.of());
        outcome = new Outcome(true, "Removed", "credentials and ACLs removed");
      } catch (Exception failure) {
        if (failure instanceof InterruptedException) {
          Thread.currentThread().interrupt();
        }
        outcome = new Outcome(false, "AdminRequestFailed", failure.toString());
      }
    }
    synchronized (e) {
      e.deleting = false;
      e.deletion = outcome;
    }
    onChange.accept(id);
  }

  private static void removeCredentials(Admin admin, String name) throws Exception {
    try {
      admin
          .alterUserScramCredentials(
              List.of(new UserScramCredentialDeletion(name, ScramMechanism.SCRAM_SHA_512)))
          .all()
          .get(30, TimeUnit.SECONDS);
    } catch (ExecutionException e) {
      if (!(e.getCause() instanceof ResourceNotFoundException)) {
        throw e;
      }
    }
  }

  /** Creates the missing bindings and deletes the others; returns {created, deleted}. */
  private static int[] syncAcls(Admin admin, String name, Set<AclBinding> desired)
      throws Exception {
    String principal = "User:" + name;
    Collection<AclBinding> current =
        admin
            .describeAcls(
                new AclBindingFilter(
                    ResourcePatternFilter.ANY,
                    new AccessControlEntryFilter(
                        principal, null, AclOperation.ANY, AclPermissionType.ANY)))
            .values()
            .get(30, TimeUnit.SECONDS);
    List<AclBinding> create = new ArrayList<>(desired);
    create.removeAll(current);
    List<AclBindingFilter> delete = new ArrayList<>();
    for (AclBinding b : current) {
      if (!desired.contains(b)) {
        delete.add(b.toFilter());
      }
    }
    if (!create.isEmpty()) {
      admin.createAcls(create).all().get(30, TimeUnit.SECONDS);
    }
    if (!delete.isEmpty()) {
      admin.deleteAcls(delete).all().get(30, TimeUnit.SECONDS);
    }
    return new int[] {create.size(), delete.size()};
  }

  /** The spec's rules as Kafka bindings for the user's principal. */
  static Set<AclBinding> desiredAcls(DisklessKafkaUser user) {
    Set<AclBinding> out = new HashSet<>();
    DisklessKafkaUserSpec.Authorization authorization = user.getSpec().authorization;
    if (authorization == null) {
      return out;
    }
    String principal = "User:" + user.getMetadata().getName();
    for (AclRule rule : authorization.acls) {
      ResourcePattern pattern = pattern(rule.resource);
      for (AclRule.Operation op : rule.operations) {
        out.add(
            new AclBinding(
                pattern,
                new AccessControlEntry(
                    principal,
                    rule.host,
                    operation(op),
                    rule.type == AclRule.Permission.DENY
                        ? AclPermissionType.DENY
                        : AclPermissionType.ALLOW)));
      }
    }
    return out;
  }

  private static ResourcePattern pattern(AclResource r) {
    ResourceType type =
        switch (r.type) {
          case TOPIC -> ResourceType.TOPIC;
          case GROUP -> ResourceType.GROUP;
          case CLUSTER -> ResourceType.CLUSTER;
          case TRANSACTIONAL_ID -> ResourceType.TRANSACTIONAL_ID;
        };
    String name = r.type == AclResource.Kind.CLUSTER ? "kafka-cluster" : r.name;
    PatternType patternType =
        r.patternType == AclResource.PatternKind.PREFIX && r.type != AclResource.Kind.CLUSTER
            ? PatternType.PREFIXED
            : PatternType.LITERAL;
    return new ResourcePattern(type, name, patternType);
  }

  private static AclOperation operation(AclRule.Operation op) {
    return switch (op) {
      case All -> AclOperation.ALL;
      case Read -> AclOperation.READ;
      case Write -> AclOperation.WRITE;
      case Create -> AclOperation.CREATE;
      case Delete -> AclOperation.DELETE;
      case Alter -> AclOperation.ALTER;
      case Describe -> AclOperation.DESCRIBE;
      case ClusterAction -> AclOperation.CLUSTER_ACTION;
      case DescribeConfigs -> AclOperation.DESCRIBE_CONFIGS;
      case AlterConfigs -> AclOperation.ALTER_CONFIGS;
      case IdempotentWrite -> AclOperation.IDEMPOTENT_WRITE;
    };
  }

  static String digest(String value) {
    try {
      return HexFormat.of()
          .formatHex(
              MessageDigest.getInstance("SHA-256").digest(value.getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
