package dev.diskless.operator.reconciler.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** One client per key, built once, closed by its last holder's release. */
class SharedClientsTest {

  /** A client that counts its closes. */
  private static final class Client implements AutoCloseable {
    final AtomicInteger closed = new AtomicInteger();

    @Override
    public void close() {
      closed.incrementAndGet();
    }
  }

  @Test
  void holdersOfOneKeyShareOneClientClosedByTheLastRelease() {
    SharedClients<String, Client> clients = new SharedClients<>();
    AtomicInteger built = new AtomicInteger();
    Client a = clients.acquire("k", () -> count(built));
    Client b = clients.acquire("k", () -> count(built));
    assertThat(b).isSameAs(a);
    assertThat(built).hasValue(1);
    assertThat(clients.get("k")).isSameAs(a);

    clients.release("k");
    assertThat(a.closed).hasValue(0);
    assertThat(clients.open()).isEqualTo(1);
    clients.release("k");
    assertThat(a.closed).hasValue(1);
    assertThat(clients.open()).isZero();
    assertThat(clients.get("k")).isNull();

    // A release too many changes nothing; the next acquire builds a new one.
    clients.release("k");
    assertThat(a.closed).hasValue(1);
    assertThat(clients.acquire("k", () -> count(built))).isNotSameAs(a);
    assertThat(built).hasValue(2);
  }

  @Test
  void otherKeysGetOtherClientsAndCloseAllClosesEveryOne() {
    SharedClients<String, Client> clients = new SharedClients<>();
    Client a = clients.acquire("a", Client::new);
    Client b = clients.acquire("b", Client::new);
    assertThat(b).isNotSameAs(a);
    clients.release("a");
    assertThat(a.closed).hasValue(1);
    assertThat(b.closed).hasValue(0);
    clients.acquire("c", Client::new);
    clients.closeAll();
    assertThat(b.closed).hasValue(1);
    assertThat(clients.open()).isZero();
  }

  private static Client count(AtomicInteger built) {
    built.incrementAndGet();
    return new Client();
  }
}
