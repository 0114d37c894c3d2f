package dev.diskless.storage.testing.fault;

import java.time.Duration;

/** What the fault proxy does to one request. */
public sealed interface Fault {

  /** Forward untouched. */
  record None() implements Fault {}

  /** Answer with an S3 error without forwarding (500 InternalError, 503 SlowDown). */
  record Status(int code, String s3Code) implements Fault {}

  /** Wait, then forward. */
  record Delay(Duration delay) implements Fault {}

  /** Reset the connection without forwarding. */
  record Reset() implements Fault {}

  /** Forward (the store applies it), then reset the connection instead of answering. */
  record DropResponse() implements Fault {}

  /** Forward, then send the full Content-Length header but only half the body, and close. */
  record TruncateBody() implements Fault {}

  /**
   * Forward, then answer with the body twice over (Content-Length to match), as a store that sends
   * more than the range asked for.
   */
  record LongerBody() implements Fault {}

  Fault NONE = new None();
}
