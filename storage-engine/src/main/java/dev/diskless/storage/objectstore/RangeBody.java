package dev.diskless.storage.objectstore;

import dev.diskless.storage.StorageException;
import dev.diskless.storage.StorageException.Kind;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import software.amazon.awssdk.http.Abortable;

/**
 * Reads the body of a ranged GET into one array of the range's size, straight from the response
 * stream: the range says how many bytes to expect, so one allocation and one copy suffice (the
 * SDK's {@code toBytes()} grew a ByteArrayOutputStream and copied it again, about 7 % of the
 * broker's CPU in a catch-up profile). A body shorter than the range, or cut off by the connection,
 * is handed on as it is (the caller checks the length and retries); a longer one fails, since a
 * store that ignored the range would not honour it on a retry either.
 */
final class RangeBody {

  private RangeBody() {}

  static ByteBuffer read(String key, int length, InputStream in) throws IOException {
    byte[] body = new byte[length];
    int read = 0;
    try {
      while (read < length) {
        int n = in.read(body, read, length - read);
        if (n < 0) {
          break;
        }
        read += n;
      }
    } catch (IOException cutShort) {
      // A body cut off mid-way (the connection closed before Content-Length bytes came): the SDK
      // would report it as an unmarshalling failure without retrying; a short body is retried.
      abort(in);
      return ByteBuffer.wrap(body, 0, read);
    }
    if (read == length && in.read() != -1) {
      // Closing would drain the rest of a body of any length into the pooled connection; the
      // connection is dropped instead.
      abort(in);
      throw new StorageException(
          Kind.STORAGE_UNAVAILABLE,
          "object " + key + " returned more than the " + length + " bytes asked for");
    }
    return ByteBuffer.wrap(body, 0, read);
  }

  private static void abort(InputStream in) {
    if (in instanceof Abortable abortable) {
      abortable.abort();
    }
  }
}
