package com.example.service.lifecycle.internal;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * Tells from a connection's first bytes what its client speaks, then leaves the pipeline: HTTP/1
 * goes on to the request decoder; the HTTP/2 preface (RFC 9113 §3.4) and a TLS handshake are
 * reported. Until it decides, the bytes wait here, under the head timeout. It looks at the
 * connection's first bytes only: a TLS client sends its handshake first, and after a request a
 * stray 0x16 byte is Netty's decoder's to answer as a malformed request.
 */
final class ProtocolSniffer extends ByteToMessageDecoder {

  /** Its name in the pipeline, just before Vert.x's request decoder. */
  static final String NAME = "protocolSniffer";

  /** What it found, other than HTTP/1. */
  interface Verdict {
    /** A TLS handshake on this plain port: answer and close. */
    void tls();

    /**
     * The HTTP/2 preface: switch the pipeline to HTTP/2. The sniffer then removes itself, passing
     * the preface and what follows to the handler after it.
     */
    void http2();
  }

  private static final byte[] HTTP2_PREFACE =
      "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1);

  private static final byte TLS_HANDSHAKE = 0x16;

  private final boolean http2;
  private final Verdict verdict;

  /**
   * @param http2 whether to look for the HTTP/2 preface; else it is just a malformed HTTP/1 request
   */
  ProtocolSniffer(boolean http2, Verdict verdict) {
    this.http2 = http2;
    this.verdict = verdict;
  }

  @Override
  protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
    if (!in.isReadable()) {
      return;
    }
    if (in.getByte(in.readerIndex()) == TLS_HANDSHAKE) {
      in.skipBytes(in.readableBytes());
      verdict.tls();
      ctx.pipeline().remove(this);
      return;
    }
    if (http2) {
      int preface = prefaceBytes(in);
      if (preface == HTTP2_PREFACE.length) {
        verdict.http2();
        ctx.pipeline().remove(this);
        return;
      }
      if (preface == in.readableBytes()) {
        return; // so far the preface: wait for the rest
      }
    }
    ctx.pipeline().remove(this);
  }

  /** How many of the buffer's first bytes match the preface's. */
  private static int prefaceBytes(ByteBuf buffer) {
    int n = Math.min(buffer.readableBytes(), HTTP2_PREFACE.length);
    for (int i = 0; i < n; i++) {
      if (buffer.getByte(buffer.readerIndex() + i) != HTTP2_PREFACE[i]) {
        return i;
      }
    }
    return n;
  }
}
