package dev.diskless.storage.wal.volume;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;

/**
 * The volume WAL: appends are fsynced into this broker's directory under {@code root} on a
 * ReadWriteMany volume shared by all brokers, acknowledged at once, and uploaded to objects in the
 * background.
 *
 * @param segmentBytes a WAL file is closed and a new one started at this size (default 64 MiB)
 * @param maxUnuploadedBytes acknowledged bytes not yet committed to object storage beyond which
 *     appends are refused with a retriable error (default 1 GiB), which bounds the volume during an
 *     object-store outage
 * @param leaseWait how long a new owner waits for a previous owner's lease to expire before giving
 *     up the open
 */
public record VolumeWalConfig(
    Path root, long segmentBytes, long maxUnuploadedBytes, Duration leaseWait) {

  public VolumeWalConfig {
    Objects.requireNonNull(root, "root");
    if (segmentBytes < 1 << 20) {
      throw new IllegalArgumentException("volume WAL segmentBytes must be >= 1 MiB");
    }
  }

  public static VolumeWalConfig at(Path root) {
    return new VolumeWalConfig(root, 64L << 20, 1L << 30, Duration.ofMinutes(2));
  }
}
