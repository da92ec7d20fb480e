/* wanproxy: a userspace WAN delay for the fleet lab (this kernel has no netem).
 *
 *   wanproxy RTT_MS MAPFILE STATSFILE
 *
 * MAPFILE: one "LISTEN_ADDR LISTEN_PORT UPSTREAM_ADDR UPSTREAM_PORT" per line (IPv4). One process, one epoll
 * loop, serves every listener. Every chunk read from either side is written to the other side RTT/2 later,
 * in order and without throttling (one global FIFO: every chunk waits the same time, so arrival order is
 * deadline order). EOF is delayed the same way. Loopback skips the TCP handshake's round trip: the upstream
 * connection is opened 1.5 RTT after the accept (the SYN, the SYN-ACK and the client's ACK), so the server's
 * first byte reaches the client 2 RTT after its connect, as over a real path.
 *
 * On close each connection appends "listen_port up_bytes down_bytes up_chunks down_chunks turns ms" to
 * STATSFILE; turns counts the client->server chunks read after a server->client chunk (the round trips the
 * client waited for, the TCP handshake not included). SIGTERM/SIGINT end the process.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BUF 65536

enum { C2U = 0, U2C = 1 };

struct listener { int kind; int fd; struct sockaddr_in up; int port; };
struct conn;
struct side { int kind; int fd; struct conn *c; };
struct conn {
    struct side s[2];        /* s[0]: client socket, s[1]: upstream socket */
    int connected;           /* upstream connect finished */
    int dead;
    int refs;                /* queued events pointing here + 1 while open */
    char *out[2]; size_t outlen[2]; int eofwant[2], eofdone[2];   /* per direction (into s[dir^1]... see dst) */
    struct sockaddr_in up; int port;
    uint64_t bytes[2], chunks[2], turns, t0; int last;
};
struct ev { uint64_t when; struct conn *c; int dir; char *data; size_t len; struct ev *next; };
struct fifo { struct ev *head, *tail; };

static uint64_t half_ns, connect_ns;
static int ep;
static FILE *stats;
static struct fifo dataq, connq;
static volatile sig_atomic_t stop;

static uint64_t now_ns(void) {
    struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

static void push(struct fifo *q, struct ev *e) {
    e->next = NULL;
    if (q->tail) q->tail->next = e; else q->head = e;
    q->tail = e;
}

static struct ev *pop(struct fifo *q) {
    struct ev *e = q->head;
    if (e) { q->head = e->next; if (!q->head) q->tail = NULL; }
    return e;
}

static void unref(struct conn *c) {
    if (--c->refs == 0) { free(c->out[0]); free(c->out[1]); free(c); }
}

/* destination socket of a direction */
static int dst(struct conn *c, int dir) { return c->s[dir == C2U ? 1 : 0].fd; }

static void watch(struct conn *c, int which) {
    struct side *s = &c->s[which];
    if (s->fd < 0) return;
    int dir_in = which == 0 ? U2C : C2U;   /* data written into this socket */
    struct epoll_event e = { .events = s->kind == 2 ? EPOLLIN : 0, .data.ptr = s };
    if (c->outlen[dir_in] > 0) e.events |= EPOLLOUT;
    if (which == 1 && !c->connected) e.events = EPOLLOUT;
    epoll_ctl(ep, EPOLL_CTL_MOD, s->fd, &e);
}

static void finish(struct conn *c) {
    if (c->dead) return;
    c->dead = 1;
    if (stats) {
        fprintf(stats, "%d %llu %llu %llu %llu %llu %llu\n", c->port, (unsigned long long)c->bytes[C2U],
                (unsigned long long)c->bytes[U2C], (unsigned long long)c->chunks[C2U],
                (unsigned long long)c->chunks[U2C], (unsigned long long)c->turns,
                (unsigned long long)((now_ns() - c->t0) / 1000000u));
        fflush(stats);
    }
    for (int i = 0; i < 2; i++) {
        if (c->s[i].fd >= 0) { epoll_ctl(ep, EPOLL_CTL_DEL, c->s[i].fd, NULL); close(c->s[i].fd); c->s[i].fd = -1; }
    }
    unref(c);
}

static void maybe_done(struct conn *c) {
    if (c->eofdone[C2U] && c->eofdone[U2C]) finish(c);
}

/* Write pending bytes of direction dir; then a pending EOF. */
static void flush_dir(struct conn *c, int dir) {
    int fd = dst(c, dir);
    if (c->dead || fd < 0 || (dir == C2U && !c->connected)) return;
    while (c->outlen[dir] > 0) {
        ssize_t n = write(fd, c->out[dir], c->outlen[dir]);
        if (n < 0) {
            if (errno == EAGAIN || errno == EINTR) break;
            finish(c); return;
        }
        memmove(c->out[dir], c->out[dir] + n, c->outlen[dir] - (size_t)n);
        c->outlen[dir] -= (size_t)n;
    }
    if (c->outlen[dir] == 0 && c->eofwant[dir] && !c->eofdone[dir]) {
        shutdown(fd, SHUT_WR);
        c->eofdone[dir] = 1;
    }
    watch(c, dir == C2U ? 1 : 0);
    maybe_done(c);
}

static void deliver(struct ev *e) {
    struct conn *c = e->c;
    if (!c->dead) {
        if (e->data) {
            c->out[e->dir] = realloc(c->out[e->dir], c->outlen[e->dir] + e->len);
            if (!c->out[e->dir]) { perror("wanproxy: realloc"); exit(1); }
            memcpy(c->out[e->dir] + c->outlen[e->dir], e->data, e->len);
            c->outlen[e->dir] += e->len;
        } else {
            c->eofwant[e->dir] = 1;
        }
        flush_dir(c, e->dir);
    }
    free(e->data);
    unref(c);
    free(e);
}

static void start_upstream(struct conn *c) {
    if (c->dead) return;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) { finish(c); return; }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    c->s[1].fd = fd;
    struct epoll_event e = { .events = EPOLLOUT, .data.ptr = &c->s[1] };
    epoll_ctl(ep, EPOLL_CTL_ADD, fd, &e);
    if (connect(fd, (struct sockaddr *)&c->up, sizeof c->up) < 0 && errno != EINPROGRESS) finish(c);
}

static void on_readable(struct conn *c, int which) {
    int dir = which == 0 ? C2U : U2C;
    char *buf = malloc(BUF);
    if (!buf) { perror("wanproxy: malloc"); exit(1); }
    ssize_t n = read(c->s[which].fd, buf, BUF);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) { free(buf); return; }
    struct ev *e = calloc(1, sizeof *e);
    if (!e) { perror("wanproxy: calloc"); exit(1); }
    e->when = now_ns() + half_ns; e->c = c; e->dir = dir;
    if (n > 0) {
        e->data = buf; e->len = (size_t)n;
        c->bytes[dir] += (uint64_t)n; c->chunks[dir]++;
        if (dir == C2U && c->last == U2C) c->turns++;
        c->last = dir;
    } else {
        free(buf);  /* EOF or error: the other side gets a delayed EOF; this side is not read again */
        c->s[which].kind = 3;
        watch(c, which);
    }
    c->refs++;
    push(&dataq, e);
}

static void on_accept(struct listener *l) {
    for (;;) {
        int fd = accept4(l->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) return;
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        struct conn *c = calloc(1, sizeof *c);
        if (!c) { perror("wanproxy: calloc"); exit(1); }
        c->s[0] = (struct side){ 2, fd, c };
        c->s[1] = (struct side){ 2, -1, c };
        c->up = l->up; c->port = l->port; c->refs = 2; c->t0 = now_ns(); c->last = -1;
        struct epoll_event e = { .events = EPOLLIN, .data.ptr = &c->s[0] };
        epoll_ctl(ep, EPOLL_CTL_ADD, fd, &e);
        struct ev *ce = calloc(1, sizeof *ce);
        if (!ce) { perror("wanproxy: calloc"); exit(1); }
        ce->when = c->t0 + connect_ns; ce->c = c;
        push(&connq, ce);
    }
}

static void on_side(struct side *s, uint32_t events) {
    struct conn *c = s->c;
    int which = s == &c->s[0] ? 0 : 1;
    if (c->dead) return;
    if (which == 1 && !c->connected && (events & (EPOLLOUT | EPOLLERR | EPOLLHUP))) {
        int err = 0; socklen_t len = sizeof err;
        getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &err, &len);
        if (err) { finish(c); return; }
        c->connected = 1;
        watch(c, 1);
        flush_dir(c, C2U);
        return;
    }
    if ((events & (EPOLLIN | EPOLLHUP | EPOLLERR)) && s->kind == 2) on_readable(c, which);
    else if ((events & (EPOLLHUP | EPOLLERR)) && s->kind == 3) {
        /* read side over and the peer gone: stop the level-triggered hang-up from spinning the loop */
        epoll_ctl(ep, EPOLL_CTL_DEL, s->fd, NULL);
        s->kind = 4;
        if (c->outlen[which == 0 ? U2C : C2U] > 0) { finish(c); return; }
    }
    if (!c->dead && (events & EPOLLOUT)) flush_dir(c, which == 0 ? U2C : C2U);
}

static void on_signal(int sig) { (void)sig; stop = 1; }

int main(int argc, char **argv) {
    if (argc != 4) { fprintf(stderr, "usage: wanproxy RTT_MS MAPFILE STATSFILE\n"); return 2; }
    char *end;
    long rtt = strtol(argv[1], &end, 10);
    if (*end || rtt < 0 || rtt > 10000) { fprintf(stderr, "wanproxy: RTT_MS must be 0..10000, got '%s'\n", argv[1]); return 2; }
    half_ns = (uint64_t)rtt * 500000u;
    connect_ns = (uint64_t)rtt * 1500000u;
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0) { rl.rlim_cur = rl.rlim_max; setrlimit(RLIMIT_NOFILE, &rl); }
    signal(SIGPIPE, SIG_IGN);
    signal(SIGTERM, on_signal);
    signal(SIGINT, on_signal);
    stats = fopen(argv[3], "a");
    if (!stats) { perror(argv[3]); return 1; }
    FILE *map = fopen(argv[2], "r");
    if (!map) { perror(argv[2]); return 1; }
    ep = epoll_create1(EPOLL_CLOEXEC);
    char la[64], ua[64]; int lp, up, line = 0, count = 0;
    while (fscanf(map, "%63s %d %63s %d", la, &lp, ua, &up) == 4) {
        line++;
        struct listener *l = calloc(1, sizeof *l);
        if (!l) return 1;
        l->kind = 1; l->port = lp;
        struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)lp) };
        l->up = (struct sockaddr_in){ .sin_family = AF_INET, .sin_port = htons((uint16_t)up) };
        if (inet_pton(AF_INET, la, &a.sin_addr) != 1 || inet_pton(AF_INET, ua, &l->up.sin_addr) != 1) {
            fprintf(stderr, "wanproxy: %s:%d: bad address\n", argv[2], line); return 2;
        }
        l->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        int one = 1;
        setsockopt(l->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (l->fd < 0 || bind(l->fd, (struct sockaddr *)&a, sizeof a) < 0 || listen(l->fd, 4096) < 0) {
            fprintf(stderr, "wanproxy: cannot listen on %s:%d: %s\n", la, lp, strerror(errno)); return 1;
        }
        struct epoll_event e = { .events = EPOLLIN, .data.ptr = l };
        epoll_ctl(ep, EPOLL_CTL_ADD, l->fd, &e);
        count++;
    }
    fclose(map);
    if (count == 0) { fprintf(stderr, "wanproxy: %s: no listeners\n", argv[2]); return 2; }
    fprintf(stderr, "wanproxy: %d listeners, rtt %ld ms\n", count, rtt);
    struct epoll_event evs[256];
    while (!stop) {
        uint64_t now = now_ns(), next = UINT64_MAX;
        struct ev *e;
        while ((e = connq.head) && e->when <= now) {
            pop(&connq); start_upstream(e->c); unref(e->c); free(e);
        }
        while ((e = dataq.head) && e->when <= now) { pop(&dataq); deliver(e); }
        if (connq.head) next = connq.head->when;
        if (dataq.head && dataq.head->when < next) next = dataq.head->when;
        int timeout = -1;
        if (next != UINT64_MAX) {
            now = now_ns();
            timeout = next <= now ? 0 : (int)((next - now + 999999u) / 1000000u);
        }
        int n = epoll_wait(ep, evs, 256, timeout);
        for (int i = 0; i < n; i++) {
            int kind = *(int *)evs[i].data.ptr;
            if (kind == 1) on_accept(evs[i].data.ptr);
            else on_side(evs[i].data.ptr, evs[i].events);
        }
    }
    return 0;
}
