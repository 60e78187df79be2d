/* zsock.c — ZeroMQ sockets on the loop; see zsock.h (named so it does not shadow <zmq.h>). */
#include "zsock.h"

#include <errno.h>
#include <string.h>
#include <zmq.h>

struct bai_zsock_s {
    bai_loop_t *loop;
    void *sock;
    int fd;
    uint64_t rtoken, wtoken;
};

static void *s_ctx;

static void *s_context(void)
{
    if (!s_ctx) {
        s_ctx = zmq_ctx_new();
        if (!s_ctx)
            BAI_OOM();
        zmq_ctx_set(s_ctx, ZMQ_BLOCKY, 0);
    }
    return s_ctx;
}

static int s_zerr(bai_err_t *err, const char *what)
{
    int e = zmq_errno();
    bai_err_make(err, e == EAGAIN ? BAI_E_AGAIN : BAI_E_ZMQ, e, "%s: %s", what, zmq_strerror(e));
    return -1;
}

/* Re-read ZMQ_EVENTS and complete waiters whose direction is ready. */
static void s_check(bai_zsock_t *s)
{
    int ev = 0;
    size_t len = sizeof ev;
    if (zmq_getsockopt(s->sock, ZMQ_EVENTS, &ev, &len) < 0)
        return;
    if ((ev & ZMQ_POLLIN) && s->rtoken) {
        bai_loop_complete(s->loop, s->rtoken);
        s->rtoken = 0;
    }
    if ((ev & ZMQ_POLLOUT) && s->wtoken) {
        bai_loop_complete(s->loop, s->wtoken);
        s->wtoken = 0;
    }
}

static void s_on_fd(bai_loop_t *loop, int fd, uint32_t events, void *ud)
{
    BAI_UNUSED(loop);
    BAI_UNUSED(fd);
    BAI_UNUSED(events);
    s_check(ud);
}

int bai_zsock_new(bai_loop_t *loop, int type, bai_zsock_t **out, bai_err_t *err)
{
    void *sock = zmq_socket(s_context(), type);
    if (!sock)
        return s_zerr(err, "zmq_socket");
    int linger = 100;
    zmq_setsockopt(sock, ZMQ_LINGER, &linger, sizeof linger);
    int fd;
    size_t len = sizeof fd;
    if (zmq_getsockopt(sock, ZMQ_FD, &fd, &len) < 0) {
        s_zerr(err, "zmq_getsockopt(ZMQ_FD)");
        zmq_close(sock);
        return -1;
    }
    bai_zsock_t *s = bai_xcalloc(1, sizeof(*s));
    s->loop = loop;
    s->sock = sock;
    s->fd = fd;
    if (bai_loop_watch(loop, fd, EPOLLIN, s_on_fd, s, err) < 0) {
        zmq_close(sock);
        free(s);
        return -1;
    }
    *out = s;
    return 0;
}

int bai_zsock_bind(bai_zsock_t *s, const char *endpoint, bai_err_t *err)
{
    if (zmq_bind(s->sock, endpoint) < 0)
        return s_zerr(err, endpoint);
    return 0;
}

int bai_zsock_connect(bai_zsock_t *s, const char *endpoint, bai_err_t *err)
{
    if (zmq_connect(s->sock, endpoint) < 0)
        return s_zerr(err, endpoint);
    return 0;
}

int bai_zsock_setopt(bai_zsock_t *s, int opt, const void *val, size_t len, bai_err_t *err)
{
    if (zmq_setsockopt(s->sock, opt, val, len) < 0)
        return s_zerr(err, "zmq_setsockopt");
    return 0;
}

int bai_zsock_getopt(bai_zsock_t *s, int opt, void *val, size_t *len, bai_err_t *err)
{
    if (zmq_getsockopt(s->sock, opt, val, len) < 0)
        return s_zerr(err, "zmq_getsockopt");
    return 0;
}

void bai_zmsg_clear(bai_zmsg_t *m)
{
    for (size_t i = 0; i < m->n; i++)
        free(m->data[i]);
    free(m->data);
    free(m->len);
    memset(m, 0, sizeof *m);
}

int bai_zsock_recv(bai_zsock_t *s, bai_zmsg_t *msg, bai_err_t *err)
{
    memset(msg, 0, sizeof *msg);
    size_t cap = 0;
    for (;;) {
        zmq_msg_t part;
        zmq_msg_init(&part);
        if (zmq_msg_recv(&part, s->sock, msg->n == 0 ? ZMQ_DONTWAIT : 0) < 0) {
            zmq_msg_close(&part);
            bai_zmsg_clear(msg);
            s_zerr(err, "zmq_msg_recv");
            s_check(s);
            return -1;
        }
        if (msg->n == cap) {
            cap = cap ? cap * 2 : 4;
            msg->data = bai_xrealloc(msg->data, cap * sizeof(char *));
            msg->len = bai_xrealloc(msg->len, cap * sizeof(size_t));
        }
        size_t n = zmq_msg_size(&part);
        msg->data[msg->n] = bai_xmalloc(n + 1);
        memcpy(msg->data[msg->n], zmq_msg_data(&part), n);
        msg->data[msg->n][n] = '\0';
        msg->len[msg->n] = n;
        msg->n++;
        int more = zmq_msg_more(&part);
        zmq_msg_close(&part);
        if (!more)
            break;
    }
    s_check(s);
    return 0;
}

int bai_zsock_send(bai_zsock_t *s, const char *const *data, const size_t *len, size_t n,
                   bai_err_t *err)
{
    if (n == 0)
        return bai_err_make(err, BAI_E_INVAL, 0, "zmq send: no frames");
    for (size_t i = 0; i < n; i++) {
        int flags = (i + 1 < n ? ZMQ_SNDMORE : 0) | (i == 0 ? ZMQ_DONTWAIT : 0);
        if (zmq_send(s->sock, data[i], len[i], flags) < 0) {
            s_zerr(err, "zmq_send");
            s_check(s);
            return -1;
        }
    }
    s_check(s);
    return 0;
}

uint64_t bai_zsock_notify(bai_zsock_t *s, int zmq_event, uint64_t token)
{
    uint64_t old;
    if (zmq_event == ZMQ_POLLIN) {
        old = s->rtoken;
        s->rtoken = token;
    } else {
        old = s->wtoken;
        s->wtoken = token;
    }
    s_check(s);
    return old;
}

void bai_zsock_free(bai_zsock_t **sp)
{
    if (!sp || !*sp)
        return;
    bai_zsock_t *s = *sp;
    bai_loop_unwatch(s->loop, s->fd);
    zmq_close(s->sock);
    free(s);
    *sp = NULL;
}

int bai_zmq_curve_keypair(char pub[41], char sec[41], bai_err_t *err)
{
    if (zmq_curve_keypair(pub, sec) < 0)
        return s_zerr(err, "zmq_curve_keypair");
    return 0;
}
