package dev.diskless.storage.metadata;

/**
 * What a lease renewal found: renewed, or lost in one of two ways that a broker reports differently
 * (an operator reading "taken over" looks for a second broker with the same identity; "expired"
 * points at a pause or a metadata outage). Either loss ends the registration.
 *
 * @param detail what the database showed, for the log
 */
public record LeaseRenewal(Outcome outcome, String detail) {

  /** How a renewal ended. */
  public enum Outcome {
    RENEWED,
    /** The lease ran out by the database's clock; the id is still this registration's. */
    EXPIRED,
    /** Another registration holds the node id now. */
    TAKEN_OVER
  }

  static final LeaseRenewal SUCCESS = new LeaseRenewal(Outcome.RENEWED, "");

  static LeaseRenewal expired(String detail) {
    return new LeaseRenewal(Outcome.EXPIRED, detail);
  }

  static LeaseRenewal takenOver(String detail) {
    return new LeaseRenewal(Outcome.TAKEN_OVER, detail);
  }

  public boolean renewed() {
    return outcome == Outcome.RENEWED;
  }
}
