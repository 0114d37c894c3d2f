package dev.diskless.broker.security;

import dev.diskless.broker.cluster.TableMirror;
import dev.diskless.broker.ops.KafkaMetricsBridge;
import dev.diskless.storage.metadata.AclStore;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.function.BooleanSupplier;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.acl.AclPermissionType;
import org.apache.kafka.common.internals.Plugin;
import org.apache.kafka.common.metrics.MetricConfig;
import org.apache.kafka.common.metrics.Metrics;
import org.apache.kafka.common.resource.PatternType;
import org.apache.kafka.common.resource.ResourceType;
import org.apache.kafka.common.utils.Time;
import org.apache.kafka.metadata.authorizer.StandardAcl;
import org.apache.kafka.metadata.authorizer.StandardAuthorizer;
import org.apache.kafka.server.authorizer.Authorizer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Kafka's StandardAuthorizer fed from the ACLs in PostgreSQL instead of KRaft: all of them are
 * loaded before the broker answers its first request, and loaded again whenever the table changes
 * ({@link TableMirror}).
 */
public final class AclAuthorizer implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(AclAuthorizer.class);

  private final StandardAuthorizer standard = new StandardAuthorizer();
  private final Metrics metrics;
  private final Plugin<Authorizer> plugin;
  private volatile TableMirror<AclStore.Acl> mirror;

  private AclAuthorizer(AuthorizationConfig config, int nodeId, MeterRegistry meters) {
    // Its metrics (authorizations allowed and denied, ACL count) reach /metrics as kafka.*.
    this.metrics =
        new Metrics(new MetricConfig(), List.of(new KafkaMetricsBridge(meters)), Time.SYSTEM);
    Map<String, Object> configs = new HashMap<>(config.authorizerConfigs());
    configs.put("node.id", Integer.toString(nodeId));
    standard.configure(configs);
    // Through Plugin so that the authorizer gets its metrics: it records them on every call.
    this.plugin = Plugin.wrapInstance(standard, metrics, "authorizer.class.name");
  }

  /** Loads every ACL, then answers; fails if they cannot be read. */
  public static AclAuthorizer start(
      AuthorizationConfig config, AclStore store, int nodeId, MeterRegistry meters) {
    AclAuthorizer a = new AclAuthorizer(config, nodeId, meters);
    try {
      a.mirror = new TableMirror<>("acls", store::all, a::install);
      a.standard.completeInitialLoad();
      return a;
    } catch (RuntimeException e) {
      a.close();
      throw e;
    }
  }

  /** Reads ACLs again while {@code listening} is false, and after a failed reload. */
  public void pollWhileNotHearing(BooleanSupplier listening) {
    mirror.pollWhileNotHearing(listening);
  }

  /** The authorizer requests are checked with. */
  public Plugin<Authorizer> plugin() {
    return plugin;
  }

  /** Reads all ACLs and installs them; completes once they are installed. */
  public CompletableFuture<Void> reload() {
    return mirror.reload();
  }

  private void install(List<AclStore.Acl> acls) {
    Map<Uuid, StandardAcl> byId = new HashMap<>();
    for (AclStore.Acl a : acls) {
      byId.put(
          new Uuid(a.id().getMostSignificantBits(), a.id().getLeastSignificantBits()),
          toStandard(a));
    }
    standard.loadSnapshot(byId);
    LOG.debug("{} ACLs loaded", byId.size());
  }

  /** Kafka's ACL for a stored row. */
  public static StandardAcl toStandard(AclStore.Acl a) {
    return new StandardAcl(
        ResourceType.fromCode(a.resourceType()),
        a.resourceName(),
        PatternType.fromCode(a.patternType()),
        a.principal(),
        a.host(),
        AclOperation.fromCode(a.operation()),
        AclPermissionType.fromCode(a.permissionType()));
  }

  @Override
  public void close() {
    if (mirror != null) {
      mirror.close();
    }
    try {
      plugin.close();
    } catch (Exception e) {
      LOG.debug("closing the authorizer: {}", e.toString());
    }
    metrics.close();
  }
}
