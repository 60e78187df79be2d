/*
 * zsock.h — ZeroMQ sockets on the event loop. Each socket's ZMQ_FD is watched; because
 * that fd only signals *changes*, ZMQ_EVENTS is re-read after every send and receive
 * (bai_zsock_recv/send do it) and whenever a waiter registers.
 *
 * Context: loop thread only. One process-wide zmq context, created on first use.
 */
#ifndef BAI_ZSOCK_H
#define BAI_ZSOCK_H

#include "loop.h"

typedef struct bai_zsock_s bai_zsock_t;

/* A received or outgoing message: n frames. */
typedef struct {
    size_t n;
    char **data;
    size_t *len;
} bai_zmsg_t;

/** New socket of a ZMQ_* type on the loop. Returns 0 or -1 with *err. */
int bai_zsock_new(bai_loop_t *loop, int type, bai_zsock_t **out, bai_err_t *err);
int bai_zsock_bind(bai_zsock_t *s, const char *endpoint, bai_err_t *err);
int bai_zsock_connect(bai_zsock_t *s, const char *endpoint, bai_err_t *err);
int bai_zsock_setopt(bai_zsock_t *s, int opt, const void *val, size_t len, bai_err_t *err);
int bai_zsock_getopt(bai_zsock_t *s, int opt, void *val, size_t *len, bai_err_t *err);

/** Receive one whole multipart message without blocking. Returns 0 and fills *msg
 * (free with bai_zmsg_clear), or -1 with *err (code BAI_E_AGAIN when none is queued). */
int bai_zsock_recv(bai_zsock_t *s, bai_zmsg_t *msg, bai_err_t *err);

/** Send n frames as one message without blocking; -1 with BAI_E_AGAIN at the HWM. */
int bai_zsock_send(bai_zsock_t *s, const char *const *data, const size_t *len, size_t n,
                   bai_err_t *err);

/** Complete `token` once the socket can receive (ZMQ_POLLIN) or send (ZMQ_POLLOUT).
 * One waiter per direction: a second registration replaces the first (returns the old
 * token, or 0). */
uint64_t bai_zsock_notify(bai_zsock_t *s, int zmq_event, uint64_t token);

/** Close (LINGER as set) and free; NULLs *sp. */
void bai_zsock_free(bai_zsock_t **sp);

void bai_zmsg_clear(bai_zmsg_t *msg);

/** Z85 helpers and keypairs for CURVE (z85 text is 40 chars for 32 bytes). */
int bai_zmq_curve_keypair(char pub[41], char sec[41], bai_err_t *err);

#endif
