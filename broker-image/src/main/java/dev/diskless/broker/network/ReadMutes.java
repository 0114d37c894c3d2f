package dev.diskless.broker.network;

import io.netty.channel.Channel;
import io.netty.util.AttributeKey;

/**
 * Why a connection is not being read: waiting for request memory ({@link RequestFrameDecoder}) and
 * a quota throttle ({@link KafkaRequestHandler}) each hold a mute; reading resumes when none is
 * left, so neither ends the other's. Called on the channel's event loop only.
 */
final class ReadMutes {

  private static final AttributeKey<Integer> HELD = AttributeKey.valueOf("diskless.readMutes");

  private ReadMutes() {}

  static void mute(Channel channel) {
    Integer held = channel.attr(HELD).get();
    int next = (held == null ? 0 : held) + 1;
    channel.attr(HELD).set(next);
    if (next == 1) {
      channel.config().setAutoRead(false);
    }
  }

  static void unmute(Channel channel) {
    Integer held = channel.attr(HELD).get();
    int next = Math.max(0, (held == null ? 0 : held) - 1);
    channel.attr(HELD).set(next);
    if (next == 0) {
      channel.config().setAutoRead(true);
    }
  }
}
