/* test_zsock.c — core/zsock.c: PUSH/PULL over loopback TCP, multipart messages, EAGAIN,
 * readiness tokens driven by the loop (ZMQ_FD is edge-like), CURVE keypairs. */
#include "tap.h"
#include "zsock.h"

#include <string.h>
#include <zmq.h>

/* bind `pull` on an ephemeral loopback port and connect `push` to it */
static int s_pair(bai_loop_t *loop, bai_zsock_t **push, bai_zsock_t **pull, char *ep, size_t eplen)
{
    bai_err_t err = NULL;
    if (bai_zsock_new(loop, ZMQ_PULL, pull, &err) < 0 ||
        bai_zsock_new(loop, ZMQ_PUSH, push, &err) < 0)
        goto fail;
    int linger = 0;
    if (bai_zsock_setopt(*push, ZMQ_LINGER, &linger, sizeof linger, &err) < 0 ||
        bai_zsock_setopt(*pull, ZMQ_LINGER, &linger, sizeof linger, &err) < 0)
        goto fail;
    if (bai_zsock_bind(*pull, "tcp://127.0.0.1:*", &err) < 0)
        goto fail;
    size_t n = eplen;
    if (bai_zsock_getopt(*pull, ZMQ_LAST_ENDPOINT, ep, &n, &err) < 0)
        goto fail;
    if (strncmp(ep, "tcp://127.0.0.1:", 16) != 0 || strcmp(ep, "tcp://127.0.0.1:*") == 0) {
        printf("# unexpected last endpoint %s\n", ep);
        return -1;
    }
    if (bai_zsock_connect(*push, ep, &err) < 0)
        goto fail;
    return 0;
fail:
    printf("# %s\n", err ? err->msg : "?");
    bai_err_release(&err);
    return -1;
}

/* step the loop until `token` completes; returns 1 when it did */
static int s_wait_token(bai_loop_t *loop, uint64_t token, double secs)
{
    double until = bai_monotonic() + secs;
    while (bai_monotonic() < until) {
        bai_err_t err = NULL;
        if (bai_loop_step(loop, 0.05, &err) < 0) {
            bai_err_release(&err);
            return 0;
        }
        uint64_t toks[16];
        size_t n;
        int got = 0;
        while ((n = bai_loop_drain(loop, toks, BAI_ARRAY_LEN(toks))) > 0)
            for (size_t i = 0; i < n; i++)
                got |= toks[i] == token;
        if (got)
            return 1;
    }
    return 0;
}

/* receive one message, waiting through readiness tokens */
static int s_recv_wait(bai_loop_t *loop, bai_zsock_t *s, bai_zmsg_t *m, double secs)
{
    double until = bai_monotonic() + secs;
    for (;;) {
        bai_err_t err = NULL;
        if (bai_zsock_recv(s, m, &err) == 0)
            return 0;
        int again = err->code == BAI_E_AGAIN;
        bai_err_release(&err);
        if (!again || bai_monotonic() >= until)
            return -1;
        uint64_t tok = bai_loop_token_new(loop);
        bai_zsock_notify(s, ZMQ_POLLIN, tok);
        s_wait_token(loop, tok, until - bai_monotonic());
    }
}

static int t_push_pull(void)
{
    bai_err_t err = NULL;
    bai_loop_t *loop = NULL;
    TAP_CHECK(bai_loop_new(&loop, &err) == 0);
    bai_zsock_t *push = NULL, *pull = NULL;
    char ep[256];
    TAP_CHECK(s_pair(loop, &push, &pull, ep, sizeof ep) == 0);
    TAP_DIAG("endpoint %s", ep);
    const char *frames[] = {"hello"};
    size_t lens[] = {5};
    /* PUSH queues while connecting; a would-block here is retried via the write token */
    for (int tries = 0;; tries++) {
        if (bai_zsock_send(push, frames, lens, 1, &err) == 0)
            break;
        TAP_CHECK(err->code == BAI_E_AGAIN && tries < 50);
        bai_err_release(&err);
        uint64_t tok = bai_loop_token_new(loop);
        bai_zsock_notify(push, ZMQ_POLLOUT, tok);
        s_wait_token(loop, tok, 0.2);
    }
    bai_zmsg_t m;
    TAP_CHECK(s_recv_wait(loop, pull, &m, 5.0) == 0);
    TAP_CHECK(m.n == 1 && m.len[0] == 5 && memcmp(m.data[0], "hello", 5) == 0);
    TAP_CHECK(m.data[0][5] == '\0');
    bai_zmsg_clear(&m);
    TAP_CHECK(m.n == 0 && m.data == NULL);
    bai_zsock_free(&push);
    bai_zsock_free(&pull);
    TAP_CHECK(push == NULL && pull == NULL);
    bai_loop_free(&loop);
    return TAP_PASS;
}

static int t_multipart(void)
{
    bai_err_t err = NULL;
    bai_loop_t *loop = NULL;
    TAP_CHECK(bai_loop_new(&loop, &err) == 0);
    bai_zsock_t *push = NULL, *pull = NULL;
    char ep[256];
    TAP_CHECK(s_pair(loop, &push, &pull, ep, sizeof ep) == 0);
    /* frames with an empty one and embedded NUL bytes */
    const char *frames[] = {"a", "", "b\0c", "last frame"};
    size_t lens[] = {1, 0, 3, 10};
    TAP_CHECK(bai_zsock_send(push, frames, lens, 4, &err) == 0);
    const char *two[] = {"x", "y"};
    size_t twol[] = {1, 1};
    TAP_CHECK(bai_zsock_send(push, two, twol, 2, &err) == 0);
    bai_zmsg_t m;
    TAP_CHECK(s_recv_wait(loop, pull, &m, 5.0) == 0);
    TAP_CHECK(m.n == 4);
    for (size_t i = 0; i < 4; i++)
        TAP_CHECK(m.len[i] == lens[i] && memcmp(m.data[i], frames[i], lens[i]) == 0);
    bai_zmsg_clear(&m);
    TAP_CHECK(s_recv_wait(loop, pull, &m, 5.0) == 0);
    TAP_CHECK(m.n == 2 && m.data[0][0] == 'x' && m.data[1][0] == 'y');
    bai_zmsg_clear(&m);
    /* zero frames is EINVAL */
    TAP_CHECK(bai_zsock_send(push, frames, lens, 0, &err) == -1);
    TAP_CHECK(err && err->code == BAI_E_INVAL);
    bai_err_release(&err);
    bai_zsock_free(&push);
    bai_zsock_free(&pull);
    bai_loop_free(&loop);
    return TAP_PASS;
}

static int t_recv_empty(void)
{
    bai_err_t err = NULL;
    bai_loop_t *loop = NULL;
    TAP_CHECK(bai_loop_new(&loop, &err) == 0);
    bai_zsock_t *push = NULL, *pull = NULL;
    char ep[256];
    TAP_CHECK(s_pair(loop, &push, &pull, ep, sizeof ep) == 0);
    bai_zmsg_t m;
    TAP_CHECK(bai_zsock_recv(pull, &m, &err) == -1);
    TAP_CHECK(err && err->code == BAI_E_AGAIN);
    TAP_CHECK(m.n == 0 && m.data == NULL);
    bai_err_release(&err);
    /* a bad endpoint is a ZMQ error */
    TAP_CHECK(bai_zsock_bind(pull, "nonsense://x", &err) == -1);
    TAP_CHECK(err && err->code == BAI_E_ZMQ);
    bai_err_release(&err);
    bai_zsock_free(&push);
    bai_zsock_free(&pull);
    bai_loop_free(&loop);
    return TAP_PASS;
}

static int t_notify(void)
{
    bai_err_t err = NULL;
    bai_loop_t *loop = NULL;
    TAP_CHECK(bai_loop_new(&loop, &err) == 0);
    bai_zsock_t *push = NULL, *pull = NULL;
    char ep[256];
    TAP_CHECK(s_pair(loop, &push, &pull, ep, sizeof ep) == 0);
    /* register first, nothing queued: the token must not complete yet */
    uint64_t tok = bai_loop_token_new(loop);
    TAP_CHECK(bai_zsock_notify(pull, ZMQ_POLLIN, tok) == 0);
    TAP_CHECK(!s_wait_token(loop, tok, 0.1));
    /* a second registration replaces the first and returns it */
    uint64_t tok2 = bai_loop_token_new(loop);
    TAP_CHECK(bai_zsock_notify(pull, ZMQ_POLLIN, tok2) == tok);
    const char *frames[] = {"ping"};
    size_t lens[] = {4};
    TAP_CHECK(bai_zsock_send(push, frames, lens, 1, &err) == 0);
    /* the message arrives: the loop (through ZMQ_FD) completes the token */
    TAP_CHECK(s_wait_token(loop, tok2, 5.0));
    bai_zmsg_t m;
    TAP_CHECK(bai_zsock_recv(pull, &m, &err) == 0);
    TAP_CHECK(m.n == 1 && m.len[0] == 4 && memcmp(m.data[0], "ping", 4) == 0);
    bai_zmsg_clear(&m);
    /* several messages in one burst: each later wait completes (edge semantics handled) */
    for (int i = 0; i < 20; i++)
        TAP_CHECK(bai_zsock_send(push, frames, lens, 1, &err) == 0);
    int got = 0;
    double until = bai_monotonic() + 5.0;
    while (got < 20 && bai_monotonic() < until) {
        if (bai_zsock_recv(pull, &m, &err) == 0) {
            got++;
            bai_zmsg_clear(&m);
            continue;
        }
        TAP_CHECK(err->code == BAI_E_AGAIN);
        bai_err_release(&err);
        uint64_t t = bai_loop_token_new(loop);
        bai_zsock_notify(pull, ZMQ_POLLIN, t);
        s_wait_token(loop, t, until - bai_monotonic());
    }
    TAP_CHECK(got == 20);
    /* a PUSH with a peer is writable: the POLLOUT token completes at registration */
    uint64_t wt = bai_loop_token_new(loop);
    bai_zsock_notify(push, ZMQ_POLLOUT, wt);
    uint64_t toks[8];
    size_t n = bai_loop_drain(loop, toks, 8);
    TAP_CHECK(n == 1 && toks[0] == wt);
    bai_zsock_free(&push);
    bai_zsock_free(&pull);
    bai_loop_free(&loop);
    return TAP_PASS;
}

static int t_curve_keypair(void)
{
    bai_err_t err = NULL;
    char pub[41], sec[41];
    if (!zmq_has("curve")) {
        TAP_DIAG("libzmq without CURVE");
        return TAP_SKIP;
    }
    TAP_CHECK(bai_zmq_curve_keypair(pub, sec, &err) == 0);
    TAP_CHECK(strlen(pub) == 40 && strlen(sec) == 40 && strcmp(pub, sec) != 0);
    uint8_t raw[32];
    TAP_CHECK(zmq_z85_decode(raw, pub) != NULL);
    return TAP_PASS;
}

static const tap_test_t tests[] = {
    {"PUSH/PULL round trip over an ephemeral loopback port", t_push_pull},
    {"multipart messages keep frames, empty frames and NUL bytes", t_multipart},
    {"recv on an empty socket is EAGAIN; a bad endpoint is EZMQ", t_recv_empty},
    {"the POLLIN token completes when a message arrives", t_notify},
    {"curve_keypair gives two 40-char z85 keys", t_curve_keypair},
};

TAP_MAIN(tests)
