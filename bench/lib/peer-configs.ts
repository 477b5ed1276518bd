/**
 * Configuration files of the reference programs (pure text), as in the baseline method: one
 * process, one thread, no logs, keep-alive on both sides.
 */

export interface Address {
  readonly host: string;
  readonly port: number;
}

function nginxFrame(prefix: string, http: string): string {
  return `daemon off;
master_process off;
worker_processes 1;
error_log stderr error;
pid ${prefix}/nginx.pid;
events { worker_connections 16384; }
http {
  access_log off;
  client_body_temp_path ${prefix}/body;
  proxy_temp_path ${prefix}/proxy;
  keepalive_requests 1000000;
  keepalive_timeout 65s;
${http}}
`;
}

/** nginx answering 200 `ok` to everything. */
export function nginxUpstreamConfig(prefix: string, listen: Address): string {
  return nginxFrame(prefix, `  server {
    listen ${listen.host}:${listen.port};
    location / { default_type text/plain; return 200 "ok"; }
  }
`);
}

/** nginx as a plain keep-alive reverse proxy. */
export function nginxProxyConfig(prefix: string, listen: Address, upstream: Address): string {
  return nginxFrame(prefix, `  upstream up {
    server ${upstream.host}:${upstream.port};
    keepalive 128;
    keepalive_requests 1000000;
    keepalive_timeout 60s;
  }
  server {
    listen ${listen.host}:${listen.port};
    location / {
      proxy_pass http://up;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
    }
  }
`);
}

/** haproxy as a plain keep-alive reverse proxy (one thread). */
export function haproxyConfig(listen: Address, upstream: Address): string {
  return `global
  nbthread 1
  maxconn 4096
defaults
  mode http
  option http-keep-alive
  timeout connect 5s
  timeout client 30s
  timeout server 30s
frontend bench
  bind ${listen.host}:${listen.port}
  default_backend upstream
backend upstream
  server up ${upstream.host}:${upstream.port} maxconn 256
`;
}
