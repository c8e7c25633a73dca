package com.example.service;

import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2HeadersFrame;
import io.netty.handler.codec.http2.Http2ChannelDuplexHandler;
import io.netty.handler.codec.http2.Http2DataFrame;
import io.netty.handler.codec.http2.Http2Frame;
import io.netty.handler.codec.http2.Http2FrameCodec;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2FrameStream;
import io.netty.handler.codec.http2.Http2GoAwayFrame;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import io.netty.handler.codec.http2.Http2ResetFrame;
import io.netty.util.ReferenceCountUtil;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;

/**
 * One HTTP/2 connection with prior knowledge, made with Netty's frame codec so that a test sees
 * every GOAWAY as it arrives and can open a stream at an exact moment: between two GOAWAYs, say.
 * PINGs are acknowledged by the codec, in the order frames arrive.
 */
final class H2Client implements AutoCloseable {

  /** A response: its status, body, and the RST_STREAM error code that ended it, or null. */
  record Response(int status, String body, Long resetCode) {}

  /** A GOAWAY as received. */
  record GoAway(int lastStreamId, long errorCode) {}

  private final EventLoopGroup group =
      new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
  private final Channel channel;
  private final Http2FrameCodec codec;
  private final Frames frames = new Frames();
  private final List<GoAway> goAways = new CopyOnWriteArrayList<>();
  private final List<CompletableFuture<GoAway>> goAwayWaiters = new CopyOnWriteArrayList<>();
  private final Map<Integer, Exchange> exchanges = new ConcurrentHashMap<>();
  private volatile Consumer<GoAway> onGoAway = g -> {};

  private static final class Exchange {
    final CompletableFuture<Response> response = new CompletableFuture<>();
    final StringBuilder body = new StringBuilder();
    int status;
  }

  H2Client(String host, int port) throws InterruptedException {
    codec = Http2FrameCodecBuilder.forClient().build();
    channel =
        new Bootstrap()
            .group(group)
            .channel(NioSocketChannel.class)
            .handler(
                new ChannelInitializer<Channel>() {
                  @Override
                  protected void initChannel(Channel ch) {
                    ch.pipeline().addLast(codec, frames);
                  }
                })
            .connect(host, port)
            .sync()
            .channel();
    for (int i = 0; i < 4; i++) {
      goAwayWaiters.add(new CompletableFuture<>());
    }
  }

  /** Called on the connection's thread as each GOAWAY arrives, before the frames after it. */
  void onGoAway(Consumer<GoAway> action) {
    onGoAway = action;
  }

  /** The {@code n}th GOAWAY (from 0), when it arrives. */
  CompletableFuture<GoAway> goAway(int n) {
    return goAwayWaiters.get(n);
  }

  List<GoAway> goAways() {
    return List.copyOf(goAways);
  }

  /**
   * Opens a stream with {@code GET path}; call it from any thread, or from {@link #onGoAway}.
   *
   * @return the response, with the stream's id known once the HEADERS frame is written
   */
  CompletableFuture<Response> get(String path, CompletableFuture<Integer> streamId) {
    Exchange exchange = new Exchange();
    Runnable open =
        () -> {
          Http2FrameStream stream = frames.newStream();
          DefaultHttp2Headers headers = new DefaultHttp2Headers();
          headers.method("GET").path(path).scheme("http").authority("localhost");
          channel
              .writeAndFlush(new DefaultHttp2HeadersFrame(headers, true).stream(stream))
              .addListener(
                  f -> {
                    if (f.isSuccess()) {
                      exchanges.put(stream.id(), exchange);
                      streamId.complete(stream.id());
                    } else {
                      streamId.completeExceptionally(f.cause());
                      exchange.response.completeExceptionally(f.cause());
                    }
                  });
        };
    if (channel.eventLoop().inEventLoop()) {
      open.run();
    } else {
      channel.eventLoop().execute(open);
    }
    return exchange.response;
  }

  CompletableFuture<Response> get(String path) {
    return get(path, new CompletableFuture<>());
  }

  /** Completes when the server has closed the connection. */
  CompletableFuture<Void> closed() {
    CompletableFuture<Void> closed = new CompletableFuture<>();
    channel.closeFuture().addListener(f -> closed.complete(null));
    return closed;
  }

  @Override
  public void close() {
    channel.close().awaitUninterruptibly();
    group.shutdownGracefully(0, 0, java.util.concurrent.TimeUnit.MILLISECONDS);
  }

  private final class Frames extends Http2ChannelDuplexHandler {
    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      try {
        if (msg instanceof Http2Frame frame) {
          read(frame);
        }
      } finally {
        ReferenceCountUtil.release(msg);
      }
    }

    private void read(Http2Frame frame) {
      if (frame instanceof Http2GoAwayFrame goAwayFrame) {
        GoAway goAway = new GoAway(goAwayFrame.lastStreamId(), goAwayFrame.errorCode());
        int n = goAways.size();
        goAways.add(goAway);
        onGoAway.accept(goAway);
        if (n < goAwayWaiters.size()) {
          goAwayWaiters.get(n).complete(goAway);
        }
      } else if (frame instanceof Http2HeadersFrame headers) {
        Exchange exchange = exchanges.get(headers.stream().id());
        CharSequence status = headers.headers().status();
        if (status != null) {
          exchange.status = Integer.parseInt(status.toString());
        }
        if (headers.isEndStream()) {
          complete(exchange, null);
        }
      } else if (frame instanceof Http2DataFrame data) {
        Exchange exchange = exchanges.get(data.stream().id());
        exchange.body.append(data.content().toString(StandardCharsets.UTF_8));
        if (data.isEndStream()) {
          complete(exchange, null);
        }
      } else if (frame instanceof Http2ResetFrame reset) {
        complete(exchanges.get(reset.stream().id()), reset.errorCode());
      }
    }

    private void complete(Exchange exchange, Long resetCode) {
      exchange.response.complete(
          new Response(exchange.status, exchange.body.toString(), resetCode));
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
      for (Exchange exchange : exchanges.values()) {
        exchange.response.completeExceptionally(new IllegalStateException("connection closed"));
      }
    }
  }
}
