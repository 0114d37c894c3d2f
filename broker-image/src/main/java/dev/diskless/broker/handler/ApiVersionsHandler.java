package dev.diskless.broker.handler;

import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.function.Supplier;
import org.apache.kafka.common.feature.Features;
import org.apache.kafka.common.message.ApiVersionsResponseData.ApiVersion;
import org.apache.kafka.common.message.ApiVersionsResponseData.ApiVersionCollection;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.requests.ApiVersionsRequest;
import org.apache.kafka.common.requests.ApiVersionsResponse;
import org.apache.kafka.common.requests.RequestContext;

/**
 * Advertises exactly the APIs this broker implements ({@link ApiRegistry}), each up to the version
 * it handles.
 */
final class ApiVersionsHandler {

  /** API → highest version implemented, from {@link ApiRegistry}. */
  private final Supplier<Map<ApiKeys, Short>> implemented;

  ApiVersionsHandler(Supplier<Map<ApiKeys, Short>> implemented) {
    this.implemented = implemented;
  }

  CompletableFuture<ApiVersionsResponse> handle(
      RequestContext context, ApiVersionsRequest request) {
    if (request.hasUnsupportedRequestVersion()) {
      return CompletableFuture.completedFuture(
          request.getErrorResponse(0, Errors.UNSUPPORTED_VERSION.exception()));
    }
    ApiVersionCollection versions = new ApiVersionCollection();
    implemented
        .get()
        .forEach(
            (key, max) -> {
              ApiVersion v = ApiVersionsResponse.toApiVersion(key);
              versions.add(v.setMaxVersion((short) Math.min(max, v.maxVersion())));
            });
    return CompletableFuture.completedFuture(
        new ApiVersionsResponse.Builder()
            .setApiVersions(versions)
            .setSupportedFeatures(Features.emptySupportedFeatures())
            .setFinalizedFeatures(Map.of())
            .setFinalizedFeaturesEpoch(-1)
            .build());
  }
}
