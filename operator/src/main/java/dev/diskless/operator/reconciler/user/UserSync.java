package dev.diskless.operator.reconciler.user;

import dev.diskless.operator.crd.DisklessKafkaUser;
import dev.diskless.operator.crd.DisklessKafkaUserSpec;
import dev.diskless.operator.crd.DisklessKafkaUserSpec.AclResource;
import dev.diskless.operator.crd.DisklessKafkaUserSpec.AclRule;
import dev.diskless.operator.reconciler.AdminSync;
import dev.diskless.operator.reconciler.ClusterAdminAccess;
import dev.diskless.operator.reconciler.GeneratedPasswords;
import dev.diskless.operator.reconciler.Sha256;
import dev.diskless.operator.reconciler.cluster.OperatorCredentialsDependentResource;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.javaoperatorsdk.operator.processing.event.ResourceID;
import jakarta.annotation.PreDestroy;
import jakarta.inject.Inject;
import jakarta.inject.Singleton;
import java.nio.charset.StandardCharsets;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
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
import org.apache.kafka.common.errors.SecurityDisabledException;
import org.apache.kafka.common.resource.PatternType;
import org.apache.kafka.common.resource.ResourcePattern;
import org.apache.kafka.common.resource.ResourcePatternFilter;
import org.apache.kafka.common.resource.ResourceType;

/**
 * Keeps each DisklessKafkaUser's SCRAM credential (none for tls users: their certificate, signed by
 * the cluster's clients CA, is their credential) and ACLs in its cluster as the spec says, through
 * the cluster's Admin API ({@link AdminSync}: off the reconcile thread, resynced every minute).
 * ACLs are diffed against DescribeAcls for the user's principal: missing ones created, others
 * deleted. The credential is upserted whenever its password differs from the one this operator last
 * registered (so once after an operator restart).
 */
@Singleton
public class UserSync extends AdminSync<DisklessKafkaUser> {

  private final KubernetesClient client;

  /** A digest of the password last registered per user, not the password. */
  private final Map<ResourceID, String> registered = new ConcurrentHashMap<>();

  @Inject
  public UserSync(KubernetesClient client) {
    super("diskless-user-sync");
    this.client = client;
  }

  @PreDestroy
  void shutdown() {
    stop();
  }

  @Override
  protected Outcome apply(ResourceID id, DisklessKafkaUser user) {
    Optional<Outcome> refused = refusal(user);
    if (refused.isPresent()) {
      return refused.get();
    }
    ClusterAdminAccess.Access access =
        ClusterAdminAccess.of(client, user.getMetadata().getNamespace(), user.getSpec().cluster);
    if (access.refusal().isPresent()) {
      return new Outcome(false, access.refusal().get().reason(), access.refusal().get().message());
    }
    boolean tls = tls(user);
    Optional<X509Certificate> certificate = Optional.empty();
    String password = null;
    if (tls) {
      certificate = TlsUserSecret.certificate(secret(user));
      if (certificate.isEmpty()) {
        return new Outcome(false, "SecretPending", "the user's certificate is not issued yet");
      }
    } else {
      password = password(user);
      if (password != null && password.isEmpty()) {
        return new Outcome(false, "SecretPending", "the user's Secret is not there yet");
      }
    }
    String name = user.getMetadata().getName();
    try (Admin admin = Admin.create(access.configs().get())) {
      if (password != null && !Sha256.hex(password).equals(registered.get(id))) {
        admin
            .alterUserScramCredentials(
                List.of(
                    new UserScramCredentialUpsertion(
                        name,
                        new ScramCredentialInfo(ScramMechanism.SCRAM_SHA_512, 4096),
                        password)))
            .all()
            .get(30, TimeUnit.SECONDS);
        registered.put(id, Sha256.hex(password));
      } else if (password == null) {
        // A tls user (or one without credentials) has no SCRAM credential, also after a switch.
        removeCredentials(admin, name);
        registered.remove(id);
      }
      Set<AclBinding> desired = desiredAcls(user);
      int[] changes = syncAcls(admin, name, desired);
      String acls =
          desired.size()
              + " ACLs in cluster "
              + user.getSpec().cluster
              + " ("
              + changes[0]
              + " created, "
              + changes[1]
              + " deleted in the last sync)";
      if (tls && !access.listeners().orElseThrow().clientCertificates()) {
        return new Outcome(
            false,
            "NoTlsListener",
            "certificate and "
                + acls
                + ", but the cluster has no listener with authentication type tls, so the"
                + " certificate cannot log in");
      }
      String credentials =
          tls
              ? "certificate CN="
                  + name
                  + " (until "
                  + certificate.get().getNotAfter().toInstant()
                  + ") and "
              : password != null ? "SCRAM-SHA-512 credentials and " : "";
      return new Outcome(true, "InSync", credentials + acls);
    } catch (ExecutionException e) {
      return new Outcome(false, "AdminRequestFailed", e.getCause().toString());
    } catch (IllegalStateException e) {
      return new Outcome(false, "AclsNotEnabled", e.getMessage());
    } catch (Exception e) {
      if (e instanceof InterruptedException) {
        Thread.currentThread().interrupt();
      }
      return new Outcome(false, "AdminRequestFailed", e.toString());
    }
  }

  @Override
  protected Outcome remove(ResourceID id, DisklessKafkaUser user) {
    if (reserved(user)) {
      // It never made anything: what is registered under the name is the operator's own.
      return new Outcome(true, "Removed", "nothing was registered for a reserved name");
    }
    ClusterAdminAccess.Access access =
        ClusterAdminAccess.of(client, user.getMetadata().getNamespace(), user.getSpec().cluster);
    if (access.refusal().filter(r -> r.reason().equals("ClusterNotFound")).isPresent()) {
      return new Outcome(true, "ClusterGone", "the cluster no longer exists");
    }
    if (access.refusal().isPresent()) {
      return new Outcome(false, access.refusal().get().reason(), access.refusal().get().message());
    }
    String name = user.getMetadata().getName();
    try (Admin admin = Admin.create(access.configs().get())) {
      removeCredentials(admin, name);
      syncAcls(admin, name, Set.of());
      registered.remove(id);
      return new Outcome(true, "Removed", "credentials and ACLs removed");
    } catch (Exception failure) {
      if (failure instanceof InterruptedException) {
        Thread.currentThread().interrupt();
      }
      return new Outcome(false, "AdminRequestFailed", failure.toString());
    }
  }

  private static boolean tls(DisklessKafkaUser user) {
    return user.getSpec().authentication != null
        && user.getSpec().authentication.type == DisklessKafkaUserSpec.Authentication.Type.TLS;
  }

  /** The password of a SCRAM user's Secret; empty while the Secret is not there yet. */
  private String password(DisklessKafkaUser user) {
    if (user.getSpec().authentication == null) {
      return null;
    }
    Secret secret = secret(user);
    if (secret == null
        || !GeneratedPasswords.holds(secret, UserSecretDependentResource.PASSWORD_KEY)) {
      return "";
    }
    return new String(
        Base64.getDecoder().decode(secret.getData().get(UserSecretDependentResource.PASSWORD_KEY)),
        StandardCharsets.UTF_8);
  }

  private Secret secret(DisklessKafkaUser user) {
    return client
        .secrets()
        .inNamespace(user.getMetadata().getNamespace())
        .withName(user.getMetadata().getName())
        .get();
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
    Collection<AclBinding> current;
    try {
      current =
          admin
              .describeAcls(
                  new AclBindingFilter(
                      ResourcePatternFilter.ANY,
                      new AccessControlEntryFilter(
                          principal, null, AclOperation.ANY, AclPermissionType.ANY)))
              .values()
              .get(30, TimeUnit.SECONDS);
    } catch (ExecutionException e) {
      // A cluster without spec.authorization keeps no ACLs: a user without any is in step; one
      // with some says what to change.
      if (e.getCause() instanceof SecurityDisabledException) {
        if (desired.isEmpty()) {
          return new int[] {0, 0};
        }
        throw new IllegalStateException(
            "the cluster has no authorization (spec.authorization), so it keeps no ACLs; remove"
                + " the user's acls or enable authorization",
            e.getCause());
      }
      throw e;
    }
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

  /**
   * Why a user may not be named as the operator's own user: the brokers' super user list always
   * holds it, so a certificate or password issued under the name would be a super user's, and
   * registering or removing credentials under it would lock the operator out of the cluster.
   */
  static final Outcome RESERVED =
      new Outcome(
          false,
          "ReservedName",
          "the name "
              + OperatorCredentialsDependentResource.USER
              + " is the operator's own user on every cluster (a super user); choose another"
              + " name: nothing is issued or registered for this one");

  /** Whether the user has the operator's own user's name. */
  public static boolean reserved(DisklessKafkaUser user) {
    return OperatorCredentialsDependentResource.USER.equals(user.getMetadata().getName());
  }

  /** The longest common name RFC 5280 allows (ub-common-name). */
  static final int MAX_COMMON_NAME = 64;

  /**
   * Why nothing may be issued or registered for the user, if anything: a reserved name, or a tls
   * user whose name (its certificate's common name) is longer than RFC 5280 allows, which TLS
   * stacks may refuse.
   */
  public static Optional<Outcome> refusal(DisklessKafkaUser user) {
    if (reserved(user)) {
      return Optional.of(RESERVED);
    }
    String name = user.getMetadata().getName();
    if (tls(user) && name.length() > MAX_COMMON_NAME) {
      return Optional.of(
          new Outcome(
              false,
              "NameTooLong",
              "a tls user's name is its certificate's common name, at most "
                  + MAX_COMMON_NAME
                  + " characters (RFC 5280); "
                  + name
                  + " has "
                  + name.length()
                  + ": nothing is issued for it"));
    }
    return Optional.empty();
  }
}
