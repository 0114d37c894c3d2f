package dev.diskless.storage.testing;

import java.io.DataInputStream;
import java.io.IOException;
import java.net.Socket;
import java.nio.ByteBuffer;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.requests.AbstractRequest;
import org.apache.kafka.common.requests.AbstractResponse;
import org.apache.kafka.common.requests.RequestHeader;
import org.apache.kafka.common.requests.ResponseHeader;

/** Sends requests as hand-built frames and parses the responses: for APIs clients hide. */
public final class RawKafkaClient {

  private RawKafkaClient() {}

  /** One request over a fresh socket. */
  public static AbstractResponse send(int port, AbstractRequest request) throws IOException {
    try (Socket s = new Socket("127.0.0.1", port)) {
      return send(s, 7, request);
    }
  }

  /**
   * One request over {@code s}, which stays open (to show the broker keeps serving it); fails if
   * the response answers another correlation id.
   */
  public static AbstractResponse send(Socket s, int correlationId, AbstractRequest request)
      throws IOException {
    ApiKeys api = request.apiKey();
    short version = request.version();
    ByteBuffer payload =
        request.serializeWithHeader(new RequestHeader(api, version, "raw", correlationId));
    byte[] body = new byte[payload.remaining()];
    payload.get(body);
    s.getOutputStream()
        .write(ByteBuffer.allocate(4 + body.length).putInt(body.length).put(body).array());
    DataInputStream in = new DataInputStream(s.getInputStream());
    byte[] response = new byte[in.readInt()];
    in.readFully(response);
    ByteBuffer buf = ByteBuffer.wrap(response);
    ResponseHeader header = ResponseHeader.parse(buf, api.responseHeaderVersion(version));
    if (header.correlationId() != correlationId) {
      throw new IOException(
          "response to correlation id " + header.correlationId() + ", expected " + correlationId);
    }
    return AbstractResponse.parseResponse(
        api, new org.apache.kafka.common.protocol.ByteBufferAccessor(buf), version);
  }
}
