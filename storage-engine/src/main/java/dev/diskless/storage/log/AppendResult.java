package dev.diskless.storage.log;

/**
 * Where an acknowledged append landed.
 *
 * @param logAppendTime the broker time stamped into the batches, or -1 when they keep their create
 *     time
 * @param duplicate true when an idempotent producer resent batches that were already appended:
 *     nothing new was written and the offsets are those of the original append
 */
public record AppendResult(
    long baseOffset, long lastOffset, long logAppendTime, long logStartOffset, boolean duplicate) {}
