package dev.diskless.broker.handler;

import dev.diskless.storage.metadata.ScramCredentialStore;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.clients.admin.ScramMechanism;
import org.apache.kafka.common.requests.DescribeUserScramCredentialsRequest;
import org.apache.kafka.common.requests.DescribeUserScramCredentialsResponse;
import org.apache.kafka.image.ScramImage;
import org.apache.kafka.metadata.ScramCredentialData;

/**
 * DescribeUserScramCredentials: the mechanisms and iteration counts of the users asked for (all
 * users when none is named), answered by Kafka's own ScramImage over the stored credentials, so
 * unknown and duplicated users get exactly Kafka's RESOURCE_NOT_FOUND and DUPLICATE_RESOURCE. Salts
 * and keys are never returned.
 */
final class DescribeUserScramCredentialsHandler {

  private final ScramCredentialStore store;

  DescribeUserScramCredentialsHandler(ScramCredentialStore store) {
    this.store = store;
  }

  CompletableFuture<DescribeUserScramCredentialsResponse> handle(
      DescribeUserScramCredentialsRequest request) {
    return store
        .all()
        .thenApply(
            all -> {
              Map<ScramMechanism, Map<String, ScramCredentialData>> byMechanism = new HashMap<>();
              for (ScramCredentialStore.Credential c : all) {
                byMechanism
                    .computeIfAbsent(ScramMechanism.fromType(c.mechanism()), m -> new HashMap<>())
                    .put(
                        c.user(),
                        new ScramCredentialData(
                            c.salt(), c.storedKey(), c.serverKey(), c.iterations()));
              }
              return new DescribeUserScramCredentialsResponse(
                  new ScramImage(byMechanism).describe(request.data()));
            });
  }
}
