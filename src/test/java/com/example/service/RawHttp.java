package com.example.service;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;

/**
 * One keep-alive HTTP/1.1 client connection over a plain socket, so tests see exactly what the
 * server sent: headers as written, EOF, resets and partial responses.
 */
public final class RawHttp implements AutoCloseable {

  /** A response as read off the wire; header names in lower case. */
  public record Response(String statusLine, int status, Map<String, String> headers, String body) {
    public boolean connectionClose() {
      return "close".equalsIgnoreCase(headers.get("connection"));
    }
  }

  /** The connection ended before a whole response arrived; {@code partial} if any byte did. */
  public static final class Truncated extends EOFException {
    final boolean partial;

    Truncated(boolean partial) {
      super(partial ? "connection closed mid-response" : "connection closed before a response");
      this.partial = partial;
    }
  }

  /**
   * Opens {@code n} connections that each send {@code GET path}; each future gets its answer, read
   * on {@code readers} (the test's own threads).
   */
  static List<CompletableFuture<Response>> inFlight(int port, String path, int n, Executor readers)
      throws IOException {
    List<CompletableFuture<Response>> responses = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      RawHttp c = new RawHttp("127.0.0.1", port, 30_000);
      c.send(path);
      responses.add(
          CompletableFuture.supplyAsync(
              () -> {
                try (c) {
                  return c.read();
                } catch (IOException e) {
                  throw new UncheckedIOException(e);
                }
              },
              readers));
    }
    return responses;
  }

  private final Socket socket;
  private final InputStream in;
  private final OutputStream out;
  private final String host;

  public RawHttp(String host, int port, int readTimeoutMs) throws IOException {
    this.host = host + ":" + port;
    socket = new Socket();
    socket.setTcpNoDelay(true);
    socket.connect(new InetSocketAddress(host, port), 5_000);
    socket.setSoTimeout(readTimeoutMs);
    in = new BufferedInputStream(socket.getInputStream());
    out = socket.getOutputStream();
  }

  /** Sends {@code GET path} and does not wait for the answer. */
  void send(String path) throws IOException {
    send(path, "GET");
  }

  /** Sends a request without a body and does not wait for the answer. */
  void send(String path, String method) throws IOException {
    out.write(
        (method + " " + path + " HTTP/1.1\r\nHost: " + host + "\r\n\r\n")
            .getBytes(StandardCharsets.US_ASCII));
    out.flush();
  }

  /** Sends bytes as they are: for requests no well-behaved client would send. */
  void write(byte[] raw) throws IOException {
    out.write(raw);
    out.flush();
  }

  /** Sends ISO-8859-1 text as it is. */
  public void write(String raw) throws IOException {
    write(raw.getBytes(StandardCharsets.ISO_8859_1));
  }

  /** Reads one response to a HEAD request: its head only. */
  Response readHead() throws IOException {
    String statusLine = line(true);
    Map<String, String> headers = new TreeMap<>();
    for (String h = line(false); !h.isEmpty(); h = line(false)) {
      int colon = h.indexOf(':');
      headers.put(
          h.substring(0, colon).trim().toLowerCase(Locale.ROOT), h.substring(colon + 1).trim());
    }
    return new Response(statusLine, Integer.parseInt(statusLine.split(" ")[1]), headers, "");
  }

  /** Reads one response with a Content-Length or chunked body. */
  public Response read() throws IOException {
    Response head = readHead();
    byte[] body;
    if ("chunked".equalsIgnoreCase(head.headers().get("transfer-encoding"))) {
      body = chunkedBody();
    } else {
      body = exactly(Integer.parseInt(head.headers().getOrDefault("content-length", "0")));
    }
    return new Response(
        head.statusLine(), head.status(), head.headers(), new String(body, StandardCharsets.UTF_8));
  }

  private byte[] chunkedBody() throws IOException {
    ByteArrayOutputStream body = new ByteArrayOutputStream();
    for (int size = Integer.parseInt(line(false), 16); size > 0; ) {
      body.writeBytes(exactly(size));
      line(false); // the CRLF after the chunk
      size = Integer.parseInt(line(false), 16);
    }
    line(false); // the empty line after the last chunk
    return body.toByteArray();
  }

  private byte[] exactly(int length) throws IOException {
    byte[] bytes = in.readNBytes(length);
    if (bytes.length < length) {
      throw new Truncated(true);
    }
    return bytes;
  }

  /** Sends a WebSocket upgrade request for {@code path} and reads the response head. */
  Response upgradeToWebSocket(String path) throws IOException {
    write(
        "GET "
            + path
            + " HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n");
    return readHead();
  }

  /** Reads one line, without its line ending: e.g. of an event stream. */
  String readLine() throws IOException {
    return line(false);
  }

  /** On an upgraded connection: sends a short WebSocket text frame (masked, with a zero key). */
  void sendText(String text) throws IOException {
    byte[] payload = text.getBytes(StandardCharsets.UTF_8);
    byte[] frame = new byte[6 + payload.length];
    frame[0] = (byte) 0x81;
    frame[1] = (byte) (0x80 | payload.length);
    System.arraycopy(payload, 0, frame, 6, payload.length);
    write(frame);
  }

  /** On an upgraded connection: reads a short unmasked frame from the server, returns its text. */
  String readText() throws IOException {
    byte[] head = exactly(2);
    return new String(exactly(head[1] & 0x7f), StandardCharsets.UTF_8);
  }

  Response get(String path) throws IOException {
    send(path);
    return read();
  }

  /** Sends {@code POST path} with a JSON body and reads the answer. */
  Response postJson(String path, String json) throws IOException {
    byte[] body = json.getBytes(StandardCharsets.UTF_8);
    out.write(
        ("POST "
                + path
                + " HTTP/1.1\r\nHost: "
                + host
                + "\r\nContent-Type: application/json\r\nContent-Length: "
                + body.length
                + "\r\n\r\n")
            .getBytes(StandardCharsets.US_ASCII));
    out.write(body);
    out.flush();
    return read();
  }

  /** True once the server has closed the connection (reads EOF), false on a timeout. */
  boolean closedByServer() throws IOException {
    try {
      return in.read() == -1;
    } catch (java.net.SocketTimeoutException e) {
      return false;
    } catch (java.net.SocketException e) {
      return true; // reset
    }
  }

  private String line(boolean first) throws IOException {
    ByteArrayOutputStream buf = new ByteArrayOutputStream(64);
    int b;
    while ((b = in.read()) != '\n') {
      if (b == -1) {
        throw new Truncated(!first || buf.size() > 0);
      }
      if (b != '\r') {
        buf.write(b);
      }
    }
    return buf.toString(StandardCharsets.US_ASCII);
  }

  @Override
  public void close() throws IOException {
    socket.close();
  }
}
