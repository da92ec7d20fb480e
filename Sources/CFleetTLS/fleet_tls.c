#include "fleet_tls.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

struct fleet_tls {
    SSL_CTX *ctx;
    SSL *ssl;
    char error[256];
};

const char *fleet_tls_library_version(void) { return OpenSSL_version(OPENSSL_VERSION); }

static void say(char *buf, size_t len, const char *what, const char *detail) {
    if (buf && len) snprintf(buf, len, "%s%s%s", what, detail && *detail ? ": " : "", detail ? detail : "");
}

/* The reason OpenSSL gives for the last failure (its error queue), or `fallback`. */
static void reason(char *buf, size_t len, const char *what, const char *fallback) {
    unsigned long code = ERR_peek_last_error();
    const char *text = code ? ERR_reason_error_string(code) : NULL;
    say(buf, len, what, text ? text : fallback);
    ERR_clear_error();
}

fleet_tls *fleet_tls_client(int fd, const char *host, const char *ca_file, const char *ca_dir, char *err, size_t err_len) {
    ERR_clear_error();
    if (!ca_file && !ca_dir) { say(err, err_len, "no CA certificates to verify the server with", NULL); return NULL; }
    fleet_tls *tls = calloc(1, sizeof *tls);
    if (!tls) { say(err, err_len, "out of memory", NULL); return NULL; }
    tls->ctx = SSL_CTX_new(TLS_client_method());
    if (!tls->ctx) { reason(err, err_len, "cannot create a TLS context", NULL); fleet_tls_free(tls); return NULL; }
    SSL_CTX_set_min_proto_version(tls->ctx, TLS1_2_VERSION);
    SSL_CTX_set_verify(tls->ctx, SSL_VERIFY_PEER, NULL);
    /* An HTTP server may close after its answer without a close_notify: that is the end of the body. */
    SSL_CTX_set_options(tls->ctx, SSL_OP_IGNORE_UNEXPECTED_EOF);
    if (SSL_CTX_load_verify_locations(tls->ctx, ca_file, ca_dir) != 1) {
        char where[128];
        snprintf(where, sizeof where, "cannot read the CA certificates in %s", ca_file ? ca_file : ca_dir);
        reason(err, err_len, where, NULL);
        fleet_tls_free(tls);
        return NULL;
    }
    tls->ssl = SSL_new(tls->ctx);
    if (!tls->ssl || SSL_set_fd(tls->ssl, fd) != 1) { reason(err, err_len, "cannot create a TLS session", NULL); fleet_tls_free(tls); return NULL; }
    SSL_set_mode(tls->ssl, SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    unsigned char address[16];
    int literal = inet_pton(AF_INET, host, address) == 1 || inet_pton(AF_INET6, host, address) == 1;
    int named = literal ? X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(tls->ssl), host)
                        : (SSL_set_tlsext_host_name(tls->ssl, host) == 1 && SSL_set1_host(tls->ssl, host) == 1);
    if (!named) { reason(err, err_len, "cannot set the server name to verify", NULL); fleet_tls_free(tls); return NULL; }
    return tls;
}

/* Maps a failed SSL_* call to WANT_READ/WANT_WRITE, 0 (closed) or an error with its reason kept. */
static long outcome(fleet_tls *tls, int rc, const char *what) {
    int code = SSL_get_error(tls->ssl, rc);
    switch (code) {
    case SSL_ERROR_WANT_READ: return FLEET_TLS_WANT_READ;
    case SSL_ERROR_WANT_WRITE: return FLEET_TLS_WANT_WRITE;
    case SSL_ERROR_ZERO_RETURN: return 0;
    case SSL_ERROR_SYSCALL:
        if (ERR_peek_last_error() == 0) {
            say(tls->error, sizeof tls->error, what, errno ? strerror(errno) : "the server closed the connection");
            return FLEET_TLS_ERROR;
        }
        break;
    default: break;
    }
    long verified = SSL_get_verify_result(tls->ssl);
    if (verified != X509_V_OK) {
        say(tls->error, sizeof tls->error, "certificate not trusted", X509_verify_cert_error_string(verified));
        ERR_clear_error();
    } else {
        reason(tls->error, sizeof tls->error, what, "protocol error");
    }
    return FLEET_TLS_ERROR;
}

int fleet_tls_handshake(fleet_tls *tls) {
    ERR_clear_error();
    int rc = SSL_connect(tls->ssl);
    if (rc == 1) return 1;
    long result = outcome(tls, rc, "handshake failed");
    return result == 0 ? FLEET_TLS_ERROR : (int)result;
}

long fleet_tls_write(fleet_tls *tls, const void *buf, size_t len) {
    ERR_clear_error();
    size_t written = 0;
    int rc = SSL_write_ex(tls->ssl, buf, len, &written);
    if (rc == 1) return (long)written;
    long result = outcome(tls, rc, "sending failed");
    return result == 0 ? FLEET_TLS_ERROR : result;
}

long fleet_tls_read(fleet_tls *tls, void *buf, size_t len) {
    ERR_clear_error();
    size_t got = 0;
    int rc = SSL_read_ex(tls->ssl, buf, len, &got);
    if (rc == 1) return (long)got;
    return outcome(tls, rc, "receiving failed");
}

void fleet_tls_last_error(const fleet_tls *tls, char *buf, size_t len) { say(buf, len, tls->error, NULL); }

void fleet_tls_free(fleet_tls *tls) {
    if (!tls) return;
    if (tls->ssl) SSL_free(tls->ssl);
    if (tls->ctx) SSL_CTX_free(tls->ctx);
    free(tls);
}
