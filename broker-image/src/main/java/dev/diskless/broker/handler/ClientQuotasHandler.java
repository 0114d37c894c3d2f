package dev.diskless.broker.handler;

import dev.diskless.broker.quota.ClientQuotas;
import dev.diskless.storage.metadata.ClientQuotaStore;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.quota.ClientQuotaAlteration;
import org.apache.kafka.common.quota.ClientQuotaEntity;
import org.apache.kafka.common.requests.AbstractResponse;
import org.apache.kafka.common.requests.AlterClientQuotasRequest;
import org.apache.kafka.common.requests.AlterClientQuotasResponse;
import org.apache.kafka.common.requests.ApiError;
import org.apache.kafka.common.requests.DescribeClientQuotasRequest;
import org.apache.kafka.common.requests.DescribeClientQuotasResponse;
import org.apache.kafka.common.requests.RequestContext;
import org.apache.kafka.server.config.QuotaConfig;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * AlterClientQuotas and DescribeClientQuotas, as Kafka's controller answers them: entities and
 * values validated with its rules and messages, each valid entity's changes stored together
 * (nothing with validate_only), then this broker's quotas reloaded before the answer. Only the
 * quotas this broker enforces are accepted: producer and consumer byte rates and request
 * percentages of users and client ids; controller_mutation_rate and IP connection rates are refused
 * with a message that says so rather than stored without effect.
 */
final class ClientQuotasHandler {

  private static final Logger LOG = LoggerFactory.getLogger(ClientQuotasHandler.class);

  private final ClientQuotas quotas;
  private final ClientQuotaStore store;

  ClientQuotasHandler(BrokerContext broker) {
    this.quotas = broker.quotas();
    this.store = broker.quotaStore();
  }

  CompletableFuture<AbstractResponse> describe(
      RequestContext ctx, DescribeClientQuotasRequest request) {
    return CompletableFuture.completedFuture(
        new DescribeClientQuotasResponse(quotas.describe(request.data())));
  }

  CompletableFuture<AbstractResponse> alter(RequestContext ctx, AlterClientQuotasRequest request) {
    Map<ClientQuotaEntity, ApiError> results = new LinkedHashMap<>();
    List<ClientQuotaStore.Change> changes = new ArrayList<>();
    for (ClientQuotaAlteration alteration : request.entries()) {
      ClientQuotaEntity entity = alteration.entity();
      if (results.containsKey(entity)) {
        results.put(
            entity, new ApiError(Errors.INVALID_REQUEST, "Ignoring duplicate entity " + entity));
        continue;
      }
      Map<String, Double> ops = new HashMap<>();
      ApiError error = ApiError.NONE;
      for (ClientQuotaAlteration.Op op : alteration.ops()) {
        if (ops.containsKey(op.key())) {
          error =
              new ApiError(
                  Errors.INVALID_REQUEST,
                  "Duplicate quota key "
                      + op.key()
                      + " not updating quota for this entity "
                      + entity);
        }
        ops.put(op.key(), op.value());
      }
      if (error.isSuccess()) {
        error = validate(entity, ops);
      }
      results.put(entity, error);
      if (error.isSuccess()) {
        ClientQuotaStore.Entity stored = ClientQuotas.stored(entity);
        // A removal is always sent: this broker's copy may not have a value just set elsewhere.
        ops.forEach(
            (key, value) ->
                changes.add(new ClientQuotaStore.Change(stored, key, Optional.ofNullable(value))));
      }
    }
    if (request.validateOnly() || changes.isEmpty()) {
      return CompletableFuture.completedFuture(
          AlterClientQuotasResponse.fromQuotaEntities(results, 0));
    }
    return store
        .apply(changes)
        .thenCompose(v -> quotas.reload().exceptionally(t -> null))
        .<AbstractResponse>thenApply(
            v -> {
              LOG.info("{} altered client quotas: {}", ctx.principal(), request.entries());
              return AlterClientQuotasResponse.fromQuotaEntities(results, 0);
            })
        .exceptionally(
            t -> {
              ApiError failed = ApiError.fromThrowable(t);
              results.replaceAll((e, r) -> r.isSuccess() ? failed : r);
              return AlterClientQuotasResponse.fromQuotaEntities(results, 0);
            });
  }

  /** Kafka's checks of an entity and its new values, then ours: only enforced keys. */
  private static ApiError validate(ClientQuotaEntity entity, Map<String, Double> ops) {
    Map<String, String> parts = entity.entries();
    if (parts.isEmpty()) {
      return new ApiError(Errors.INVALID_REQUEST, "Invalid empty client quota entity");
    }
    for (var part : parts.entrySet()) {
      if (!ClientQuotaEntity.isValidEntityType(part.getKey())) {
        return new ApiError(
            Errors.INVALID_REQUEST, "Unhandled client quota entity type: " + part.getKey());
      }
      if (part.getValue() != null && part.getValue().isEmpty()) {
        return new ApiError(Errors.INVALID_REQUEST, "Empty " + part.getKey() + " not supported");
      }
    }
    if (parts.containsKey(ClientQuotaEntity.IP)) {
      if (parts.size() > 1) {
        return new ApiError(
            Errors.INVALID_REQUEST,
            "Invalid quota entity combination, IP entity shouldnot be combined with User or"
                + " ClientId");
      }
      return new ApiError(
          Errors.INVALID_REQUEST,
          "IP quotas (connection_creation_rate) are not enforced by this cluster");
    }
    Map<String, ConfigDef.ConfigKey> keys = QuotaConfig.userAndClientQuotaConfigs().configKeys();
    for (var op : ops.entrySet()) {
      String key = op.getKey();
      Double value = op.getValue();
      if (value == null) {
        continue;
      }
      ConfigDef.ConfigKey configKey = keys.get(key);
      if (configKey == null) {
        return new ApiError(Errors.INVALID_REQUEST, "Invalid configuration key " + key);
      }
      if (value <= 0.0) {
        return new ApiError(Errors.INVALID_REQUEST, "Quota " + key + " must be greater than 0");
      }
      if (configKey.type() != ConfigDef.Type.DOUBLE && Math.abs(value % 1.0) > 1e-6) {
        return new ApiError(Errors.INVALID_REQUEST, key + " cannot be a fractional value.");
      }
      if (!ClientQuotas.ENFORCED.contains(key)) {
        return new ApiError(
            Errors.INVALID_REQUEST,
            "Quota "
                + key
                + " is not enforced by this cluster (producer_byte_rate, consumer_byte_rate and"
                + " request_percentage are)");
      }
    }
    return ApiError.NONE;
  }
}
