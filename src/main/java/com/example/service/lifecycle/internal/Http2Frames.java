package com.example.service.lifecycle.internal;

import io.netty.buffer.ByteBuf;

/**
 * Follows the HTTP/2 frames a client sends through the bytes of its connection, however they are
 * split: past its 24-byte preface, reading only each frame's 9-byte header (RFC 9113 §4.1), its
 * length, type and flags. It never consumes, copies or keeps a byte.
 */
final class Http2Frames {

  /** What a walk reports, frame by frame. */
  interface Events {
    /** The first byte of a frame's header has arrived. */
    default void frameBegan() {}

    /** A frame's header is whole. */
    default void header(int type, int flags) {}

    /** A frame has gone by whole. */
    default void frameEnded(int type, int flags) {}
  }

  private static final int PREFACE_LENGTH = 24;
  private static final int HEADER_LENGTH = 9;

  private final byte[] header = new byte[HEADER_LENGTH];
  private int prefaceLeft = PREFACE_LENGTH;
  private int headerRead;
  private int payloadLeft;
  private int type;
  private int flags;

  /** Follows the frames in {@code bytes}, from its reader index to its writer index. */
  void walk(ByteBuf bytes, Events events) {
    int at = bytes.readerIndex();
    int end = bytes.writerIndex();
    while (at < end) {
      if (prefaceLeft > 0) {
        int n = Math.min(prefaceLeft, end - at);
        prefaceLeft -= n;
        at += n;
        continue;
      }
      if (headerRead == 0 && end - at >= HEADER_LENGTH) {
        // The usual case, a whole header at hand: one read of the buffer, checked for access once,
        // holds its length (3 bytes), type and flags.
        events.frameBegan();
        long word = bytes.getLong(at);
        payloadLeft = (int) (word >>> 40);
        type = (int) (word >>> 32) & 0xff;
        flags = (int) (word >>> 24) & 0xff;
        headerRead = HEADER_LENGTH;
        at += HEADER_LENGTH;
        events.header(type, flags);
      } else if (headerRead < HEADER_LENGTH) {
        if (headerRead == 0) {
          events.frameBegan();
        }
        header[headerRead++] = bytes.getByte(at++);
        if (headerRead == HEADER_LENGTH) {
          payloadLeft = (header[0] & 0xff) << 16 | (header[1] & 0xff) << 8 | (header[2] & 0xff);
          type = header[3] & 0xff;
          flags = header[4] & 0xff;
          events.header(type, flags);
        }
      } else {
        int n = Math.min(payloadLeft, end - at);
        payloadLeft -= n;
        at += n;
      }
      if (headerRead == HEADER_LENGTH && payloadLeft == 0) {
        headerRead = 0;
        events.frameEnded(type, flags);
      }
    }
  }
}
