package dev.diskless.broker.security;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.netty.handler.ssl.ClientAuth;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import javax.net.ssl.SSLPeerUnverifiedException;
import javax.net.ssl.SSLSession;
import org.apache.kafka.common.security.auth.KafkaPrincipal;
import org.apache.kafka.common.security.ssl.SslPrincipalMapper;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The listener's TLS context, built from its PEM files and built again when one of them changes
 * (cert-manager renews a certificate by rewriting the Secret, which the kubelet swaps in place):
 * each new connection looks at the files' modification times and gets the current context; a
 * renewal that cannot be read keeps the previous context and is logged. Also turns a client
 * certificate into Kafka's principal with Kafka's {@code ssl.principal.mapping.rules}. Reloads and
 * the served certificate's expiry are metrics ({@link #bindTo}), so that a renewal that did not
 * arrive can be alerted on before clients see an expired certificate.
 */
public final class TlsContexts implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(TlsContexts.class);

  /** A built context, the files' times it was built from, and its certificate's expiry. */
  private record Loaded(SslContext context, List<FileTime> modified, long notAfterEpochSeconds) {}

  /** How often the files are looked at. */
  public static final java.time.Duration RELOAD_CHECK = java.time.Duration.ofSeconds(5);

  private final TlsConfig config;
  private final SslPrincipalMapper principals;
  private final java.util.concurrent.ScheduledExecutorService watcher =
      java.util.concurrent.Executors.newSingleThreadScheduledExecutor(
          Thread.ofPlatform().name("tls-reload").daemon().factory());
  private volatile Loaded loaded;
  private final AtomicLong reloads = new AtomicLong();
  private final AtomicLong refusedReloads = new AtomicLong();

  /**
   * Builds the first context (a file that cannot be read fails here, naming it) and looks at the
   * files every {@link #RELOAD_CHECK} from then on.
   */
  public TlsContexts(TlsConfig config) {
    this.config = config;
    this.principals = SslPrincipalMapper.fromRules(config.principalMappingRules());
    this.loaded = load();
    watcher.scheduleWithFixedDelay(
        this::reloadIfChanged,
        RELOAD_CHECK.toMillis(),
        RELOAD_CHECK.toMillis(),
        java.util.concurrent.TimeUnit.MILLISECONDS);
  }

  /**
   * Registers, tagged with {@code listener}: {@code diskless.tls.certificate.expiry.timestamp} (the
   * served certificate's notAfter, in seconds since the epoch, as cert-manager's own expiry metric)
   * and {@code diskless.tls.reloads} (files changed and loaded, or changed but refused).
   */
  public TlsContexts bindTo(MeterRegistry meters, String listener) {
    Gauge.builder(
            "diskless.tls.certificate.expiry.timestamp", this, t -> t.loaded.notAfterEpochSeconds())
        .description("When the certificate this listener serves expires (notAfter)")
        .baseUnit("seconds")
        .tag("listener", listener)
        .register(meters);
    for (var outcome :
        List.of(Map.entry("reloaded", reloads), Map.entry("refused", refusedReloads))) {
      FunctionCounter.builder("diskless.tls.reloads", outcome.getValue(), AtomicLong::get)
          .description(
              "Changes of this listener's TLS files: loaded, or refused (the previous certificate kept)")
          .tag("listener", listener)
          .tag("outcome", outcome.getKey())
          .register(meters);
    }
    return this;
  }

  /** The context for a new connection: never touches the files (an event loop asks). */
  public SslContext current() {
    return loaded.context();
  }

  /** Rebuilds the context if a file changed since it was built; runs on the watcher thread. */
  void reloadIfChanged() {
    Loaded now = loaded;
    List<FileTime> modified;
    try {
      modified = modified();
    } catch (IOException e) {
      // Mid-swap (the kubelet replaces a Secret's files by a symlink switch): next look.
      return;
    }
    if (modified.equals(now.modified())) {
      return;
    }
    try {
      loaded = load();
      reloads.incrementAndGet();
      LOG.info(
          "TLS certificate {} reloaded, valid until {}",
          config.certificate(),
          java.time.Instant.ofEpochSecond(loaded.notAfterEpochSeconds()));
    } catch (RuntimeException e) {
      // Keep serving with the old one; try again once the files change again.
      loaded = new Loaded(now.context(), modified, now.notAfterEpochSeconds());
      refusedReloads.incrementAndGet();
      LOG.error(
          "TLS files changed but cannot be loaded, keeping the previous certificate: {}",
          e.getMessage());
    }
  }

  @Override
  public void close() {
    watcher.shutdownNow();
  }

  /**
   * The principal of a client that presented a certificate (its distinguished name through the
   * mapping rules), or ANONYMOUS, as Kafka's DefaultKafkaPrincipalBuilder does for SSL.
   */
  public KafkaPrincipal principal(SSLSession session) {
    try {
      String dn = session.getPeerPrincipal().getName();
      return new KafkaPrincipal(KafkaPrincipal.USER_TYPE, principals.getName(dn));
    } catch (SSLPeerUnverifiedException e) {
      return KafkaPrincipal.ANONYMOUS;
    } catch (IOException e) {
      throw new IllegalStateException("ssl.principal.mapping.rules: " + e.getMessage(), e);
    }
  }

  private Loaded load() {
    List<FileTime> modified;
    try {
      modified = modified();
    } catch (IOException e) {
      throw new IllegalArgumentException("cannot read TLS file: " + e.getMessage(), e);
    }
    try {
      SslContextBuilder builder =
          SslContextBuilder.forServer(config.certificate().toFile(), config.key().toFile())
              .sslProvider(SslProvider.JDK)
              .protocols("TLSv1.3", "TLSv1.2")
              .clientAuth(
                  switch (config.clientAuth()) {
                    case NONE -> ClientAuth.NONE;
                    case REQUESTED -> ClientAuth.OPTIONAL;
                    case REQUIRED -> ClientAuth.REQUIRE;
                  });
      if (!config.ca().isEmpty()) {
        builder.trustManager(trusted(config.ca()));
      }
      // The chain's first certificate is the one clients check first (and the first to expire).
      long notAfter =
          trusted(List.of(config.certificate()))[0].getNotAfter().toInstant().getEpochSecond();
      return new Loaded(builder.build(), modified, notAfter);
    } catch (Exception e) {
      throw new IllegalArgumentException(
          "cannot load the TLS certificate "
              + config.certificate()
              + " and key "
              + config.key()
              + (config.ca().isEmpty() ? "" : " with CA " + config.ca())
              + ": "
              + e.getMessage(),
          e);
    }
  }

  /** Every certificate of every CA file (each may hold a bundle). */
  static java.security.cert.X509Certificate[] trusted(List<Path> files) throws Exception {
    java.security.cert.CertificateFactory factory =
        java.security.cert.CertificateFactory.getInstance("X.509");
    List<java.security.cert.X509Certificate> out = new ArrayList<>();
    for (Path f : files) {
      try (var in = Files.newInputStream(f)) {
        var certificates = factory.generateCertificates(in);
        if (certificates.isEmpty()) {
          throw new IllegalArgumentException(f + " holds no certificate");
        }
        for (var c : certificates) {
          out.add((java.security.cert.X509Certificate) c);
        }
      }
    }
    return out.toArray(java.security.cert.X509Certificate[]::new);
  }

  private List<FileTime> modified() throws IOException {
    List<Path> files = new ArrayList<>(List.of(config.certificate(), config.key()));
    files.addAll(config.ca());
    List<FileTime> times = new ArrayList<>();
    for (Path f : files) {
      times.add(Files.getLastModifiedTime(f));
    }
    return times;
  }
}
