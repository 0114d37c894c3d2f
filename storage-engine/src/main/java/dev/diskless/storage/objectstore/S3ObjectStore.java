package dev.diskless.storage.objectstore;

import dev.diskless.storage.StorageException;
import dev.diskless.storage.StorageException.Kind;
import dev.diskless.storage.metrics.StorageMetrics;
import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.auth.credentials.DefaultCredentialsProvider;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.awscore.retry.AwsRetryStrategy;
import software.amazon.awssdk.core.async.AsyncRequestBody;
import software.amazon.awssdk.core.checksums.RequestChecksumCalculation;
import software.amazon.awssdk.core.checksums.ResponseChecksumValidation;
import software.amazon.awssdk.core.exception.SdkClientException;
import software.amazon.awssdk.http.apache5.Apache5HttpClient;
import software.amazon.awssdk.http.nio.netty.NettyNioAsyncHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.retries.api.BackoffStrategy;
import software.amazon.awssdk.services.s3.S3AsyncClient;
import software.amazon.awssdk.services.s3.S3BaseClientBuilder;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.Delete;
import software.amazon.awssdk.services.s3.model.DeleteObjectsResponse;
import software.amazon.awssdk.services.s3.model.HeadObjectResponse;
import software.amazon.awssdk.services.s3.model.ObjectIdentifier;
import software.amazon.awssdk.services.s3.model.S3Error;
import software.amazon.awssdk.services.s3.model.S3Exception;

/**
 * {@link ObjectStore} over the AWS SDK v2 asynchronous S3 client. Retries (5xx, SlowDown,
 * throttling, timeouts, connection resets) are the SDK's standard strategy with full-jitter
 * exponential backoff and no circuit breaker, so a long S3 brown-out slows the WAL down instead of
 * failing it early.
 *
 * <p>PUTs carry {@code If-None-Match: *}. When a PUT was applied but its response lost, the SDK's
 * retry gets 412 Precondition Failed; the object is then ours only if its size and ETag (the MD5 of
 * a single-part upload) match what we sent, which a HEAD checks.
 *
 * <p>For a store given an endpoint, a PUT's and a ranged GET's first attempt go out without the S3
 * client ({@link DirectRequests}); whatever that path does not answer plainly is handed to the
 * client and its retries.
 */
public final class S3ObjectStore implements ObjectStore {

  private static final Logger LOG = LoggerFactory.getLogger(S3ObjectStore.class);
  private static final int DELETE_BATCH = 1000;
  private static final int SHORT_READ_ATTEMPTS = 3;
  private static final String DIRECT_PUTS = "diskless.objectstore.direct.puts";
  private static final String DIRECT_GETS = "diskless.objectstore.direct.gets";

  private final ObjectStoreConfig config;
  private final S3AsyncClient client;
  private final S3Client reader;
  private final ExecutorService reads = Executors.newVirtualThreadPerTaskExecutor();
  private final ExecutorService directPuts = Executors.newVirtualThreadPerTaskExecutor();
  private final Optional<DirectRequests> direct;
  private final StorageMetrics metrics;

  public S3ObjectStore(ObjectStoreConfig config, StorageMetrics metrics) {
    this.config = config;
    this.metrics = metrics;
    AwsCredentialsProvider credentials = credentials(config);
    this.client = buildClient(config, credentials);
    this.reader = buildReader(config, credentials);
    this.direct = DirectRequests.forConfig(config, credentials::resolveCredentials);
    if (direct.isPresent()) {
      // Every outcome exists from the start, so a dashboard shows zero hand-overs as zero.
      metrics.count(DIRECT_PUTS, "outcome", "stored", 0);
      metrics.count(DIRECT_PUTS, "outcome", "handed-over", 0);
      metrics.count(DIRECT_GETS, "outcome", "read", 0);
      metrics.count(DIRECT_GETS, "outcome", "handed-over", 0);
    }
  }

  static S3AsyncClient buildClient(ObjectStoreConfig config, AwsCredentialsProvider credentials) {
    return common(S3AsyncClient.builder(), config, credentials)
        .httpClientBuilder(
            NettyNioAsyncHttpClient.builder()
                .maxConcurrency(config.maxConnections())
                .connectionTimeout(Duration.ofSeconds(10))
                .connectionAcquisitionTimeout(Duration.ofSeconds(60)))
        .build();
  }

  /**
   * The client ranged GETs use when the direct path hands them over (or the store has no endpoint
   * of its own). The asynchronous client's Netty handler copies every response chunk into a fresh
   * heap buffer before our body copies it again (12 % of the broker's samples in a catch-up
   * profile); a blocking read of the response stream lands the socket's bytes in our array at once.
   * Reads run on virtual threads, so a waiting GET holds no platform thread.
   */
  static S3Client buildReader(ObjectStoreConfig config, AwsCredentialsProvider credentials) {
    return common(S3Client.builder(), config, credentials)
        .httpClientBuilder(
            Apache5HttpClient.builder()
                .maxConnections(config.maxConnections())
                .connectionTimeout(Duration.ofSeconds(10))
                .connectionAcquisitionTimeout(Duration.ofSeconds(60)))
        .build();
  }

  /** Static keys when configured, else the AWS default chain; one provider for every path. */
  private static AwsCredentialsProvider credentials(ObjectStoreConfig config) {
    return config
        .credentials()
        .<AwsCredentialsProvider>map(
            c ->
                StaticCredentialsProvider.create(
                    AwsBasicCredentials.create(c.accessKeyId(), c.secretAccessKey())))
        .orElseGet(() -> DefaultCredentialsProvider.builder().build());
  }

  /** What both clients share: endpoint, credentials, checksums, retries and timeouts. */
  private static <B extends S3BaseClientBuilder<B, ?>> B common(
      B builder, ObjectStoreConfig config, AwsCredentialsProvider credentials) {
    BackoffStrategy backoff =
        BackoffStrategy.exponentialDelay(config.baseBackoff(), config.maxBackoff());
    builder
        .region(Region.of(config.region()))
        .credentialsProvider(credentials)
        .forcePathStyle(config.pathStyle())
        // Compatible stores do not all implement the newer flexible checksums; MD5/ETag checks
        // suffice.
        .requestChecksumCalculation(RequestChecksumCalculation.WHEN_REQUIRED)
        .responseChecksumValidation(ResponseChecksumValidation.WHEN_REQUIRED)
        .overrideConfiguration(
            o ->
                o.retryStrategy(
                        AwsRetryStrategy.standardRetryStrategy().toBuilder()
                            .maxAttempts(config.maxAttempts())
                            .backoffStrategy(backoff)
                            .throttlingBackoffStrategy(backoff)
                            .circuitBreakerEnabled(false)
                            .build())
                    .apiCallAttemptTimeout(config.attemptTimeout())
                    .apiCallTimeout(callTimeout(config)));
    config.endpoint().ifPresent(builder::endpointOverride);
    return builder;
  }

  @Override
  public String keyPrefix() {
    return config.keyPrefix();
  }

  /**
   * The size of the views an upload's body is handed to the HTTP client in. Netty copies a heap
   * buffer into a direct one before writing it, and its allocator pools only buffers up to about a
   * megabyte: one view of a multi-megabyte object (a WAL object, a 64 MiB segment) made it
   * allocate, zero and free that much native memory per upload, a fifth of the broker's CPU while
   * compacting.
   */
  static final int BODY_PIECE_BYTES = 256 << 10;

  /** {@code body} as views of at most {@link #BODY_PIECE_BYTES}, in order, sharing its bytes. */
  static ByteBuffer[] pieces(ByteBuffer body) {
    int size = body.remaining();
    int count = Math.max(1, (size + BODY_PIECE_BYTES - 1) / BODY_PIECE_BYTES);
    ByteBuffer[] out = new ByteBuffer[count];
    for (int i = 0; i < count; i++) {
      int from = i * BODY_PIECE_BYTES;
      out[i] = body.slice(body.position() + from, Math.min(BODY_PIECE_BYTES, size - from));
    }
    return out;
  }

  @Override
  public CompletableFuture<Void> put(String key, ByteBuffer data) {
    long start = System.nanoTime();
    // The caller does not touch data again (ObjectStore#put), so the body is a view, not a copy;
    // slice() because the SDK rewinds the view it is given, and every retry re-reads it.
    ByteBuffer body = data.slice();
    int size = body.remaining();
    boolean tryDirect = direct.isPresent() && direct.get().available();
    CompletableFuture<Boolean> first =
        !tryDirect
            ? CompletableFuture.completedFuture(false)
            : CompletableFuture.supplyAsync(
                () -> direct.get().put(key, body.duplicate(), config.conditionalPuts()),
                directPuts);
    CompletableFuture<Void> result =
        first.thenCompose(
            stored -> {
              if (tryDirect) {
                metrics.count(DIRECT_PUTS, "outcome", stored ? "stored" : "handed-over", 1);
              }
              return stored ? CompletableFuture.completedFuture(null) : sdkPut(key, body, size);
            });
    return record(result, "put", start, size);
  }

  /** A PUT through the S3 client, with its retries and the lost-response check. */
  private CompletableFuture<Void> sdkPut(String key, ByteBuffer body, int size) {
    return client
        .putObject(
            b -> {
              b.bucket(config.bucket()).key(key).contentLength((long) size);
              if (config.conditionalPuts()) {
                b.ifNoneMatch("*");
              }
            },
            AsyncRequestBody.fromByteBuffersUnsafe(pieces(body)))
        .<Void>thenApply(r -> null)
        .exceptionallyCompose(
            t -> {
              Throwable cause = unwrap(t);
              if (cause instanceof S3Exception s3 && s3.statusCode() == 412) {
                // Only here is the MD5 needed: hashing every upload cost ~10 % of produce CPU.
                return verifyOwnPut(key, size, md5Hex(body.duplicate()));
              }
              return CompletableFuture.failedFuture(cause);
            });
  }

  /**
   * A 412 after a retried PUT: the first attempt landed if the stored object is byte-for-byte ours.
   */
  private CompletableFuture<Void> verifyOwnPut(String key, int size, String md5) {
    return client
        .headObject(b -> b.bucket(config.bucket()).key(key))
        .thenCompose(
            (HeadObjectResponse head) -> {
              String etag = head.eTag() == null ? "" : head.eTag().replace("\"", "");
              if (head.contentLength() == size && etag.equalsIgnoreCase(md5)) {
                LOG.info(
                    "object_key={} PUT retried after a lost response; stored object verified", key);
                return CompletableFuture.<Void>completedFuture(null);
              }
              return CompletableFuture.failedFuture(
                  new StorageException(
                      Kind.STORAGE_UNAVAILABLE,
                      "object "
                          + key
                          + " already exists with different content (size "
                          + head.contentLength()
                          + ", etag "
                          + etag
                          + "); refusing to overwrite"));
            });
  }

  @Override
  public CompletableFuture<ByteBuffer> get(String key, long position, int length) {
    if (length == 0) {
      return CompletableFuture.completedFuture(ByteBuffer.allocate(0));
    }
    long start = System.nanoTime();
    return record(getAttempt(key, position, length, 1), "get", start, length);
  }

  private CompletableFuture<ByteBuffer> getAttempt(
      String key, long position, int length, int attempt) {
    String range = DirectRequests.range(position, length);
    return CompletableFuture.supplyAsync(() -> read(key, position, length, range), reads)
        .thenCompose(
            buffer -> {
              if (buffer.remaining() == length) {
                return CompletableFuture.completedFuture(buffer);
              }
              // A truncated body that the HTTP layer did not notice: never hand partial bytes to a
              // reader.
              if (attempt < SHORT_READ_ATTEMPTS) {
                LOG.warn(
                    "object_key={} range={} short read of {} bytes, retrying",
                    key,
                    range,
                    buffer.remaining());
                return getAttempt(key, position, length, attempt + 1);
              }
              return CompletableFuture.failedFuture(
                  new StorageException(
                      Kind.STORAGE_UNAVAILABLE,
                      "object "
                          + key
                          + " returned "
                          + buffer.remaining()
                          + " of "
                          + length
                          + " bytes"));
            });
  }

  /** The direct path's read when it works, else the S3 client's. */
  private ByteBuffer read(String key, long position, int length, String range) {
    if (direct.isPresent() && direct.get().available()) {
      Optional<ByteBuffer> body = direct.get().get(key, position, length);
      metrics.count(DIRECT_GETS, "outcome", body.isPresent() ? "read" : "handed-over", 1);
      if (body.isPresent()) {
        return body.get();
      }
    }
    return readRange(key, range, length);
  }

  private ByteBuffer readRange(String key, String range, int length) {
    try {
      return reader.getObject(
          b -> b.bucket(config.bucket()).key(key).range(range),
          (response, in) -> RangeBody.read(key, length, in));
    } catch (SdkClientException e) {
      // The SDK wraps what the body reader threw; the reader's own refusal is the error to report.
      if (e.getCause() instanceof StorageException refused) {
        throw refused;
      }
      throw e;
    }
  }

  @Override
  public CompletableFuture<Void> delete(Collection<String> keys) {
    if (keys.isEmpty()) {
      return CompletableFuture.completedFuture(null);
    }
    List<String> all = new ArrayList<>(keys);
    List<CompletableFuture<Void>> batches = new ArrayList<>();
    for (int i = 0; i < all.size(); i += DELETE_BATCH) {
      List<String> batch = all.subList(i, Math.min(all.size(), i + DELETE_BATCH));
      long start = System.nanoTime();
      List<ObjectIdentifier> ids =
          batch.stream().map(k -> ObjectIdentifier.builder().key(k).build()).toList();
      CompletableFuture<Void> f =
          client
              .deleteObjects(
                  b ->
                      b.bucket(config.bucket())
                          .delete(Delete.builder().objects(ids).quiet(true).build()))
              .thenApply(S3ObjectStore::checkDeleteErrors);
      batches.add(record(f, "delete", start, 0));
    }
    return CompletableFuture.allOf(batches.toArray(CompletableFuture[]::new));
  }

  private static Void checkDeleteErrors(DeleteObjectsResponse response) {
    List<S3Error> errors =
        response.errors().stream().filter(e -> !"NoSuchKey".equals(e.code())).toList();
    if (!errors.isEmpty()) {
      S3Error first = errors.get(0);
      throw new StorageException(
          Kind.STORAGE_UNAVAILABLE,
          errors.size()
              + " objects could not be deleted, first "
              + first.key()
              + ": "
              + first.code()
              + " "
              + first.message());
    }
    return null;
  }

  @Override
  public CompletableFuture<List<ObjectInfo>> list(String prefix) {
    long start = System.nanoTime();
    List<ObjectInfo> out = new CopyOnWriteArrayList<>();
    CompletableFuture<Void> done =
        client
            .listObjectsV2Paginator(b -> b.bucket(config.bucket()).prefix(prefix))
            .contents()
            .subscribe(o -> out.add(new ObjectInfo(o.key(), o.size(), o.lastModified())));
    return record(done, "list", start, 0).thenApply(v -> List.copyOf(out));
  }

  /**
   * Checks that the bucket exists and is reachable with these credentials; the error names what is
   * wrong.
   */
  public CompletableFuture<Void> checkBucket() {
    return client
        .headBucket(b -> b.bucket(config.bucket()))
        .<Void>thenApply(r -> null)
        .exceptionallyCompose(
            t -> {
              Throwable cause = unwrap(t);
              String detail =
                  cause instanceof S3Exception s3
                      ? switch (s3.statusCode()) {
                        case 404 -> "bucket " + config.bucket() + " does not exist (NoSuchBucket)";
                        case 403 ->
                            "access to bucket "
                                + config.bucket()
                                + " denied (AccessDenied): check the credentials";
                        default ->
                            "bucket "
                                + config.bucket()
                                + ": HTTP "
                                + s3.statusCode()
                                + " "
                                + s3.getMessage();
                      }
                      : "bucket " + config.bucket() + " unreachable: " + cause;
              return CompletableFuture.failedFuture(
                  new StorageException(Kind.STORAGE_UNAVAILABLE, detail, cause));
            });
  }

  /** Creates the bucket; succeeds if it already exists and is ours. */
  public CompletableFuture<Void> createBucketIfMissing() {
    return checkBucket()
        .exceptionallyCompose(
            t ->
                client
                    .createBucket(b -> b.bucket(config.bucket()))
                    .<Void>thenApply(r -> null)
                    .exceptionallyCompose(
                        e -> {
                          Throwable cause = unwrap(e);
                          if (cause instanceof S3Exception s3
                              && "BucketAlreadyOwnedByYou"
                                  .equals(s3.awsErrorDetails().errorCode())) {
                            return CompletableFuture.completedFuture(null);
                          }
                          return CompletableFuture.failedFuture(cause);
                        }));
  }

  /**
   * The most one call may take with all its retries; past it the call fails rather than wait
   * forever.
   */
  static Duration callTimeout(ObjectStoreConfig config) {
    return config
        .attemptTimeout()
        .plus(config.maxBackoff())
        .multipliedBy(config.maxAttempts())
        .plusSeconds(1);
  }

  private <T> CompletableFuture<T> record(
      CompletableFuture<T> future, String operation, long startNanos, long bytes) {
    // A last resort beside the SDK's own call timeout: a response that never completes (a body cut
    // off in a way
    // the HTTP client does not notice) must not hold a reader or the WAL forever.
    return future
        .orTimeout(
            callTimeout(config).toMillis() + 1000, java.util.concurrent.TimeUnit.MILLISECONDS)
        .whenComplete(
            (v, t) -> {
              Duration latency = Duration.ofNanos(System.nanoTime() - startNanos);
              String outcome = t == null ? "success" : outcome(unwrap(t));
              metrics.objectStoreCall(operation, outcome, latency, t == null ? bytes : 0);
            })
        .exceptionallyCompose(
            t -> CompletableFuture.failedFuture(asStorageError(operation, unwrap(t))));
  }

  private static String outcome(Throwable t) {
    if (t instanceof S3Exception s3) {
      return "http_" + s3.statusCode();
    }
    return t.getClass().getSimpleName();
  }

  private StorageException asStorageError(String operation, Throwable t) {
    if (t instanceof StorageException se) {
      return se;
    }
    String detail =
        t instanceof S3Exception s3 ? s3.awsErrorDetails().errorMessage() : t.toString();
    return new StorageException(
        Kind.STORAGE_UNAVAILABLE,
        "object store " + operation + " on bucket " + config.bucket() + " failed: " + detail,
        t);
  }

  private static Throwable unwrap(Throwable t) {
    Throwable current = t;
    while (current instanceof CompletionException && current.getCause() != null) {
      current = current.getCause();
    }
    return current;
  }

  private static String md5Hex(ByteBuffer bytes) {
    try {
      MessageDigest md5 = MessageDigest.getInstance("MD5");
      md5.update(bytes);
      return HexFormat.of().formatHex(md5.digest());
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("MD5 is required by every JDK", e);
    }
  }

  @Override
  public void close() {
    reads.shutdownNow();
    directPuts.shutdownNow();
    direct.ifPresent(DirectRequests::close);
    reader.close();
    client.close();
  }
}
