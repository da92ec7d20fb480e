#ifndef FLEET_TLS_H
#define FLEET_TLS_H
/* TLS client connections for fleet's webhook and Pushgateway posts, on OpenSSL (the library libssh2 links).
   The socket stays fleet's: it is non-blocking, and the caller polls when a call asks it to. */
#include <stddef.h>

#define FLEET_TLS_ERROR (-1)
#define FLEET_TLS_WANT_READ (-2)
#define FLEET_TLS_WANT_WRITE (-3)

typedef struct fleet_tls fleet_tls;

/* "OpenSSL 3.0.17 1 Jul 2025": the library this binary runs with. */
const char *fleet_tls_library_version(void);

/* A client on the connected socket `fd` for `host` (a DNS name, sent as SNI, or an IP literal), which the
   server's certificate must name. Trusts the certificates of the PEM file `ca_file` and of the hashed folder
   `ca_dir` (either may be NULL, not both). TLS 1.2 at least. NULL on failure, the reason in `err`. */
fleet_tls *fleet_tls_client(int fd, const char *host, const char *ca_file, const char *ca_dir, char *err, size_t err_len);

/* 1 when the handshake is done (the certificate verified), FLEET_TLS_WANT_READ/WRITE, or FLEET_TLS_ERROR. */
int fleet_tls_handshake(fleet_tls *tls);

/* Bytes written (> 0), FLEET_TLS_WANT_READ/WRITE, or FLEET_TLS_ERROR. */
long fleet_tls_write(fleet_tls *tls, const void *buf, size_t len);

/* Bytes read (> 0), 0 when the server closed the connection, FLEET_TLS_WANT_READ/WRITE, or FLEET_TLS_ERROR. */
long fleet_tls_read(fleet_tls *tls, void *buf, size_t len);

/* Why the last call failed, for people (never holds data sent or received). */
void fleet_tls_last_error(const fleet_tls *tls, char *buf, size_t len);

void fleet_tls_free(fleet_tls *tls);

#endif
