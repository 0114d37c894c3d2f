package dev.diskless.broker.handler;

import dev.diskless.storage.metadata.ScramCredentialStore;
import dev.diskless.storage.metadata.ScramCredentialStore.Credential;
import dev.diskless.storage.metadata.ScramCredentialStore.Key;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.clients.admin.ScramMechanism;
import org.apache.kafka.common.message.AlterUserScramCredentialsRequestData.ScramCredentialDeletion;
import org.apache.kafka.common.message.AlterUserScramCredentialsRequestData.ScramCredentialUpsertion;
import org.apache.kafka.common.message.AlterUserScramCredentialsResponseData;
import org.apache.kafka.common.message.AlterUserScramCredentialsResponseData.AlterUserScramCredentialsResult;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.requests.AlterUserScramCredentialsRequest;
import org.apache.kafka.common.requests.AlterUserScramCredentialsResponse;
import org.apache.kafka.common.requests.ApiError;
import org.apache.kafka.common.security.scram.internals.ScramFormatter;

/**
 * AlterUserScramCredentials with the rules and messages of Kafka's controller
 * (ScramControlManager): per user, one change per request (DUPLICATE_RESOURCE otherwise), a known
 * mechanism, a non-empty name, 4096–16384 iterations, and deletions only of credentials that exist.
 * The client sends a salt and the salted password, never the password; what is stored is the salt,
 * the stored key and the server key derived from it, as Kafka stores them. The valid changes of a
 * request are applied in one transaction.
 */
final class AlterUserScramCredentialsHandler {

  private static final int MAX_ITERATIONS = 16384;

  private final ScramCredentialStore store;

  AlterUserScramCredentialsHandler(ScramCredentialStore store) {
    this.store = store;
  }

  CompletableFuture<AlterUserScramCredentialsResponse> handle(
      AlterUserScramCredentialsRequest request) {
    return store.all().thenCompose(existing -> alter(request, existing));
  }

  private CompletableFuture<AlterUserScramCredentialsResponse> alter(
      AlterUserScramCredentialsRequest request, List<Credential> existing) {
    Set<Key> present = new HashSet<>();
    existing.forEach(c -> present.add(new Key(c.user(), c.mechanism())));
    Map<String, ScramCredentialDeletion> deletions = new LinkedHashMap<>();
    Map<String, ScramCredentialUpsertion> upsertions = new LinkedHashMap<>();
    Map<String, ApiError> errors = new LinkedHashMap<>();
    for (ScramCredentialDeletion d : request.data().deletions()) {
      if (errors.containsKey(d.name())) {
        continue;
      }
      if (deletions.remove(d.name()) != null) {
        errors.put(d.name(), twice());
        continue;
      }
      ApiError error = validate(d.name(), d.mechanism());
      if (error.isSuccess() && !present.contains(new Key(d.name(), d.mechanism()))) {
        error =
            new ApiError(
                Errors.RESOURCE_NOT_FOUND,
                "Attempt to delete a user credential that does not exist");
      }
      if (error.isFailure()) {
        errors.put(d.name(), error);
      } else {
        deletions.put(d.name(), d);
      }
    }
    for (ScramCredentialUpsertion u : request.data().upsertions()) {
      if (errors.containsKey(u.name())) {
        continue;
      }
      if (deletions.remove(u.name()) != null || upsertions.remove(u.name()) != null) {
        errors.put(u.name(), twice());
        continue;
      }
      ApiError error = validate(u.name(), u.mechanism());
      if (error.isSuccess() && u.iterations() < internal(u.mechanism()).minIterations()) {
        error = new ApiError(Errors.UNACCEPTABLE_CREDENTIAL, "Too few iterations");
      } else if (error.isSuccess() && u.iterations() > MAX_ITERATIONS) {
        error = new ApiError(Errors.UNACCEPTABLE_CREDENTIAL, "Too many iterations");
      }
      if (error.isFailure()) {
        errors.put(u.name(), error);
      } else {
        upsertions.put(u.name(), u);
      }
    }
    List<Credential> writes = new ArrayList<>();
    for (ScramCredentialUpsertion u : List.copyOf(upsertions.values())) {
      try {
        ScramFormatter formatter = new ScramFormatter(internal(u.mechanism()));
        writes.add(
            new Credential(
                u.name(),
                u.mechanism(),
                u.salt(),
                formatter.storedKey(formatter.clientKey(u.saltedPassword())),
                formatter.serverKey(u.saltedPassword()),
                u.iterations()));
      } catch (Exception e) {
        upsertions.remove(u.name());
        errors.put(u.name(), ApiError.fromThrowable(e));
      }
    }
    List<Key> removals =
        deletions.values().stream().map(d -> new Key(d.name(), d.mechanism())).toList();
    return store
        .apply(removals, writes)
        .thenApply(
            v -> {
              AlterUserScramCredentialsResponseData response =
                  new AlterUserScramCredentialsResponseData();
              deletions.keySet().forEach(user -> response.results().add(ok(user)));
              upsertions.keySet().forEach(user -> response.results().add(ok(user)));
              errors.forEach(
                  (user, e) ->
                      response
                          .results()
                          .add(
                              new AlterUserScramCredentialsResult()
                                  .setUser(user)
                                  .setErrorCode(e.error().code())
                                  .setErrorMessage(e.message())));
              return new AlterUserScramCredentialsResponse(response);
            });
  }

  private static AlterUserScramCredentialsResult ok(String user) {
    return new AlterUserScramCredentialsResult().setUser(user).setErrorCode(Errors.NONE.code());
  }

  private static ApiError twice() {
    return new ApiError(
        Errors.DUPLICATE_RESOURCE, "A user credential cannot be altered twice in the same request");
  }

  private static ApiError validate(String user, byte mechanism) {
    if (user.isEmpty()) {
      return new ApiError(Errors.UNACCEPTABLE_CREDENTIAL, "Username must not be empty");
    }
    if (ScramMechanism.fromType(mechanism) == ScramMechanism.UNKNOWN) {
      return new ApiError(Errors.UNSUPPORTED_SASL_MECHANISM, "Unknown SCRAM mechanism");
    }
    return ApiError.NONE;
  }

  private static org.apache.kafka.common.security.scram.internals.ScramMechanism internal(
      byte mechanism) {
    return org.apache.kafka.common.security.scram.internals.ScramMechanism.forMechanismName(
        ScramMechanism.fromType(mechanism).mechanismName());
  }
}
