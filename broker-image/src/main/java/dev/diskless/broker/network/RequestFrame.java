package dev.diskless.broker.network;

import io.netty.buffer.ByteBuf;

/**
 * One request's bytes (without the size prefix) and the memory reserved for them, which the request
 * handler gives back when the request is answered or dropped.
 */
record RequestFrame(ByteBuf body, RequestMemoryPool.Lease lease) {}
