package dev.diskless.broker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.diskless.broker.config.BrokerConfig;
import dev.diskless.broker.testing.KafkaTool;
import dev.diskless.storage.StorageConfig;
import dev.diskless.storage.metadata.MetadataStore;
import dev.diskless.storage.metadata.ScramCredentialStore;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import javax.security.auth.callback.Callback;
import javax.security.auth.callback.NameCallback;
import javax.security.auth.callback.PasswordCallback;
import javax.security.sasl.SaslClient;
import javax.security.sasl.SaslException;
import javax.security.sasl.SaslServer;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.ScramCredentialInfo;
import org.apache.kafka.clients.admin.ScramMechanism;
import org.apache.kafka.clients.admin.UserScramCredentialDeletion;
import org.apache.kafka.clients.admin.UserScramCredentialUpsertion;
import org.apache.kafka.clients.admin.UserScramCredentialsDescription;
import org.apache.kafka.common.errors.DuplicateResourceException;
import org.apache.kafka.common.errors.ResourceNotFoundException;
import org.apache.kafka.common.errors.UnacceptableCredentialException;
import org.apache.kafka.common.security.authenticator.CredentialCache;
import org.apache.kafka.common.security.scram.ScramCredential;
import org.apache.kafka.common.security.scram.internals.ScramSaslClient;
import org.apache.kafka.common.security.scram.internals.ScramSaslServer;
import org.apache.kafka.common.security.scram.internals.ScramServerCallbackHandler;
import org.apache.kafka.common.security.token.delegation.internals.DelegationTokenCache;
import org.apache.kafka.tools.ConfigCommand;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * SCRAM credentials managed as with Kafka: Admin's alter and describe calls and kafka-configs.sh
 * store salted credentials in PostgreSQL (never the password), refuse what Kafka refuses with its
 * errors, and what is stored is what Kafka's own SCRAM server accepts the password against.
 */
class ScramCredentialsIT {

  private StorageConfig storage;
  private Broker broker;
  private Admin admin;

  @BeforeEach
  void start() throws Exception {
    storage = TestStorage.fresh();
    broker = Broker.start(BrokerConfig.local("scram", storage));
    admin =
        Admin.create(
            Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, "127.0.0.1:" + broker.port()));
  }

  @AfterEach
  void stop() {
    admin.close();
    broker.close();
  }

  @Test
  void credentialsAreStoredSaltedDescribedAndCheckedByKafkasScramServer() throws Exception {
    admin
        .alterUserScramCredentials(
            List.of(
                new UserScramCredentialUpsertion(
                    "alice", new ScramCredentialInfo(ScramMechanism.SCRAM_SHA_256, 8192), "a-pw"),
                new UserScramCredentialUpsertion(
                    "bob", new ScramCredentialInfo(ScramMechanism.SCRAM_SHA_512, 4096), "b-pw")))
        .all()
        .get();
    // As a user does it: the tool computes the salted password and sends it.
    KafkaTool.run(
        ConfigCommand::main,
        "--bootstrap-server",
        "127.0.0.1:" + broker.port(),
        "--alter",
        "--add-config",
        "SCRAM-SHA-512=[iterations=5000,password=c-pw]",
        "--entity-type",
        "users",
        "--entity-name",
        "carol");

    Map<String, UserScramCredentialsDescription> all =
        admin.describeUserScramCredentials().all().get();
    assertThat(all).containsOnlyKeys("alice", "bob", "carol");
    assertThat(all.get("alice").credentialInfos())
        .containsExactly(new ScramCredentialInfo(ScramMechanism.SCRAM_SHA_256, 8192));
    assertThat(all.get("carol").credentialInfos())
        .containsExactly(new ScramCredentialInfo(ScramMechanism.SCRAM_SHA_512, 5000));
    // Asked for by name and unknown: RESOURCE_NOT_FOUND (all() lists it with no credentials).
    var nobody = admin.describeUserScramCredentials(List.of("nobody", "alice"));
    assertThat(nobody.all().get().get("nobody").credentialInfos()).isEmpty();
    assertThatThrownBy(() -> nobody.description("nobody").get())
        .hasCauseInstanceOf(ResourceNotFoundException.class);

    List<ScramCredentialStore.Credential> stored;
    try (MetadataStore metadata = MetadataStore.open(storage.metadata())) {
      stored = new ScramCredentialStore(metadata).all().get();
    }
    assertThat(stored).hasSize(3);
    ScramCredentialStore.Credential alice =
        stored.stream().filter(c -> c.user().equals("alice")).findFirst().orElseThrow();
    ScramCredentialStore.Credential carol =
        stored.stream().filter(c -> c.user().equals("carol")).findFirst().orElseThrow();
    authenticate("SCRAM-SHA-256", alice, "alice", "a-pw");
    authenticate("SCRAM-SHA-512", carol, "carol", "c-pw");
    assertThatThrownBy(() -> authenticate("SCRAM-SHA-256", alice, "alice", "wrong"))
        .isInstanceOf(SaslException.class)
        .hasMessageContaining("Invalid client credentials");

    admin
        .alterUserScramCredentials(
            List.of(new UserScramCredentialDeletion("bob", ScramMechanism.SCRAM_SHA_512)))
        .all()
        .get();
    assertThat(admin.describeUserScramCredentials().all().get()).containsOnlyKeys("alice", "carol");
  }

  @Test
  void whatKafkaRefusesIsRefusedWithItsErrorsAndNothingOfItIsStored() throws Exception {
    var results =
        admin
            .alterUserScramCredentials(
                List.of(
                    new UserScramCredentialUpsertion(
                        "few", new ScramCredentialInfo(ScramMechanism.SCRAM_SHA_256, 1000), "x"),
                    new UserScramCredentialDeletion("ghost", ScramMechanism.SCRAM_SHA_256),
                    new UserScramCredentialUpsertion(
                        "twice", new ScramCredentialInfo(ScramMechanism.SCRAM_SHA_256, 4096), "x"),
                    new UserScramCredentialUpsertion(
                        "twice", new ScramCredentialInfo(ScramMechanism.SCRAM_SHA_512, 4096), "x"),
                    new UserScramCredentialUpsertion(
                        "fine", new ScramCredentialInfo(ScramMechanism.SCRAM_SHA_256, 4096), "x")))
            .values();
    assertCause(results.get("few"), UnacceptableCredentialException.class, "Too few iterations");
    assertCause(results.get("ghost"), ResourceNotFoundException.class, "does not exist");
    assertCause(results.get("twice"), DuplicateResourceException.class, "twice");
    results.get("fine").get();
    assertThat(admin.describeUserScramCredentials().all().get()).containsOnlyKeys("fine");
  }

  private static void assertCause(
      org.apache.kafka.common.KafkaFuture<Void> f, Class<? extends Throwable> type, String text) {
    assertThatThrownBy(f::get)
        .isInstanceOf(ExecutionException.class)
        .cause()
        .isInstanceOf(type)
        .hasMessageContaining(text);
  }

  /** A full SCRAM exchange between Kafka's client and server over the stored credential. */
  private static void authenticate(
      String mechanism, ScramCredentialStore.Credential stored, String user, String password)
      throws Exception {
    var internal =
        org.apache.kafka.common.security.scram.internals.ScramMechanism.forMechanismName(mechanism);
    CredentialCache.Cache<ScramCredential> cache =
        new CredentialCache().createCache(mechanism, ScramCredential.class);
    cache.put(
        stored.user(),
        new ScramCredential(
            stored.salt(), stored.storedKey(), stored.serverKey(), stored.iterations()));
    ScramServerCallbackHandler serverCallbacks =
        new ScramServerCallbackHandler(
            cache,
            new DelegationTokenCache(
                org.apache.kafka.common.security.scram.internals.ScramMechanism.mechanismNames()));
    serverCallbacks.configure(Map.of(), mechanism, List.of());
    SaslServer server = new ScramSaslServer(internal, Map.of(), serverCallbacks);
    SaslClient client =
        new ScramSaslClient(
            internal,
            callbacks -> {
              for (Callback cb : callbacks) {
                if (cb instanceof NameCallback n) {
                  n.setName(user);
                } else if (cb instanceof PasswordCallback p) {
                  p.setPassword(password.toCharArray());
                }
              }
            });
    byte[] clientFirst = client.evaluateChallenge(new byte[0]);
    byte[] serverFirst = server.evaluateResponse(clientFirst);
    byte[] clientFinal = client.evaluateChallenge(serverFirst);
    byte[] serverFinal = server.evaluateResponse(clientFinal);
    client.evaluateChallenge(serverFinal);
    assertThat(server.isComplete()).isTrue();
    assertThat(client.isComplete()).isTrue();
    assertThat(server.getAuthorizationID()).isEqualTo(user);
  }
}
