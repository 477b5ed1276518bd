/**
 * The gRPC status a gRPC client should see for an answer the proxy gives itself (the HTTP
 * status → gRPC code mapping of grpc/doc/http-grpc-status-mapping.md, with 403 and 504 made
 * precise), sent as `grpc-status` alongside the HTTP status.
 */
const GRPC_CODES: Readonly<Record<number, number>> = {
  400: 13, // INTERNAL
  403: 7, // PERMISSION_DENIED
  404: 12, // UNIMPLEMENTED (no route rule matched: what a gRPC server says of an unknown method)
  429: 8, // RESOURCE_EXHAUSTED
  502: 14, // UNAVAILABLE
  503: 14, // UNAVAILABLE
  504: 4, // DEADLINE_EXCEEDED
};

export function grpcStatusFor(httpStatus: number): string {
  return String(GRPC_CODES[httpStatus] ?? 2 /* UNKNOWN */);
}
