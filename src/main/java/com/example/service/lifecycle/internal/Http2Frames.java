package com.example.service.lifecycle.internal;

import io.netty.buffer.ByteBuf;

/**
 * Follows the HTTP/2 frames a client sends through the bytes of its connection, however they are
 * split: past its 24-byte preface, reading each frame's 9-byte header (RFC 9113 §4.1), its length,
 * type and flags, and no payload but a WINDOW_UPDATE's increment. It never consumes, copies or
 * keeps a byte.
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

    /**
     * A WINDOW_UPDATE frame of the right length has gone by whole, just before {@link #frameEnded}.
     * One Netty's codec then rejects (an increment of 0, a window past its maximum) closes the
     * connection.
     */
    default void windowUpdate(int streamId, int increment) {}
  }

  private static final int PREFACE_LENGTH = 24;
  private static final int HEADER_LENGTH = 9;
  private static final int WINDOW_UPDATE = 0x8;
  private static final int WINDOW_UPDATE_LENGTH = 4;

  private final byte[] header = new byte[HEADER_LENGTH];
  private int prefaceLeft = PREFACE_LENGTH;
  private int headerRead;
  private int length;
  private int payloadLeft;
  private int type;
  private int flags;
  private int streamId;
  private int increment;

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
        length = payloadLeft = (int) (word >>> 40);
        type = (int) (word >>> 32) & 0xff;
        flags = (int) (word >>> 24) & 0xff;
        if (type == WINDOW_UPDATE) {
          streamId = ((int) word & 0xffffff) << 8 | bytes.getByte(at + 8) & 0xff;
        }
        headerRead = HEADER_LENGTH;
        at += HEADER_LENGTH;
        events.header(type, flags);
      } else if (headerRead < HEADER_LENGTH) {
        if (headerRead == 0) {
          events.frameBegan();
        }
        header[headerRead++] = bytes.getByte(at++);
        if (headerRead == HEADER_LENGTH) {
          length =
              payloadLeft = (header[0] & 0xff) << 16 | (header[1] & 0xff) << 8 | (header[2] & 0xff);
          type = header[3] & 0xff;
          flags = header[4] & 0xff;
          streamId =
              (header[5] & 0xff) << 24
                  | (header[6] & 0xff) << 16
                  | (header[7] & 0xff) << 8
                  | (header[8] & 0xff);
          events.header(type, flags);
        }
      } else {
        int n = Math.min(payloadLeft, end - at);
        if (type == WINDOW_UPDATE) {
          for (int i = at; i < at + n; i++) {
            increment = increment << 8 | bytes.getByte(i) & 0xff;
          }
        }
        payloadLeft -= n;
        at += n;
      }
      if (headerRead == HEADER_LENGTH && payloadLeft == 0) {
        headerRead = 0;
        if (type == WINDOW_UPDATE) {
          if (length == WINDOW_UPDATE_LENGTH) {
            // The reserved bits (RFC 9113 §6.9) are not part of either number.
            events.windowUpdate(streamId & 0x7fffffff, increment & 0x7fffffff);
          }
          increment = 0;
        }
        events.frameEnded(type, flags);
      }
    }
  }
}
