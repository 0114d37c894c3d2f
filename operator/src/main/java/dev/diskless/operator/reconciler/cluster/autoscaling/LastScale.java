package dev.diskless.operator.reconciler.cluster.autoscaling;

import java.time.Instant;

/**
 * When and which way the broker count last changed, as recorded in the status, so that the guard
 * against a direction change inside a window survives an operator restart.
 *
 * @param at when the count changed
 * @param direction UP or DOWN
 */
public record LastScale(Instant at, ScaleDirection direction) {}
