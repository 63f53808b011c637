// Requests Node refuses before our handler sees them (head too large, unparsable) still get a
// Kubernetes Status, not Node's empty-bodied 431/400: the aggregator passes the answer on to
// kubectl or the HPA controller, which read the code and the message.
import type { Duplex } from "node:stream";
import { failure, type Status } from "./status.js";

/**
 * The largest request head we read: kube-apiserver (Go's net/http default) accepts 1 MiB, so a
 * long labelSelector it forwards through the aggregator must fit here too (Node's default is
 * 16 KiB, which refused a 100 KB selector that kube-apiserver had accepted).
 */
export const MAX_HEADER_BYTES = 1 << 20;

export function clientErrorStatus(err: Error & { code?: string }): Status {
  if (err.code === "HPE_HEADER_OVERFLOW")
    return failure(
      "RequestHeaderFieldsTooLarge",
      `the request's line and headers are larger than ${MAX_HEADER_BYTES} bytes`,
    );
  return failure("BadRequest", `malformed HTTP request: ${err.code ?? err.message}`);
}

/** A `clientError` listener for http(s).Server. */
export function answerClientError(err: Error & { code?: string }, socket: Duplex): void {
  // A reset or timed-out connection has nobody left to answer.
  if (err.code === "ECONNRESET" || !socket.writable) {
    socket.destroy();
    return;
  }
  const status = clientErrorStatus(err);
  const body = JSON.stringify(status);
  const reason = status.code === 431 ? "Request Header Fields Too Large" : "Bad Request";
  socket.end(
    `HTTP/1.1 ${status.code} ${reason}\r\n` +
      "Content-Type: application/json\r\n" +
      `Content-Length: ${Buffer.byteLength(body)}\r\n` +
      "Connection: close\r\n\r\n" +
      body,
  );
}
