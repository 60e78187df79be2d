/*
 * http.h — HTTP requests on the event loop through libcurl's multi_socket interface
 * (used for the Docker Engine API over its unix socket). curl's socket and timer
 * callbacks map onto loop watches and loop timers; finished transfers complete tokens.
 *
 * Context: loop thread only. curl callbacks run inside bai_loop_step() and only touch
 * request buffers; nothing here calls into Lua.
 */
#ifndef BAI_HTTP_H
#define BAI_HTTP_H

#include "loop.h"

typedef struct bai_http_s bai_http_t;
typedef struct bai_http_req_s bai_http_req_t;

typedef struct {
    const char *method;         /* "GET", "POST", "PUT", "DELETE", "HEAD" */
    const char *url;            /* e.g. "http://localhost/v1.41/_ping" */
    const char *unix_socket;    /* NULL for TCP */
    const char *const *headers; /* NULL-terminated "Name: value" lines, or NULL */
    const char *body;           /* copied; NULL for none */
    size_t body_len;
    double timeout;  /* whole-transfer limit in seconds; 0 = none */
    size_t max_body; /* buffered mode: fail with BAI_E_TOOBIG past this; 0 = no limit */
    int stream;      /* 1: the caller drains the body as it arrives */
} bai_http_opts_t;

/** The client for a loop (one multi handle). Free with bai_http_free(). */
int bai_http_new(bai_loop_t *loop, bai_http_t **out, bai_err_t *err);
void bai_http_free(bai_http_t **hp);

/** Start a request; `token` completes when it ends (success or failure). The request
 * belongs to the caller: free it with bai_http_req_free() (which aborts it if running). */
int bai_http_request(bai_http_t *h, const bai_http_opts_t *o, uint64_t token, bai_http_req_t **out,
                     bai_err_t *err);

/** 0 while running; 1 when finished, with *status the HTTP status (0 if none); -1 with
 * *err set (on every call) when the transfer failed. */
int bai_http_req_finished(bai_http_req_t *r, long *status, bai_err_t *err);

/** Body received so far (buffered mode: the whole body once finished). Callers in stream
 * mode consume from it. */
bai_buf_t *bai_http_req_body(bai_http_req_t *r);
/** Raw response header lines of the last response. */
bai_buf_t *bai_http_req_headers(bai_http_req_t *r);
/** Stream mode: complete token when body data is available or the request ends. */
void bai_http_req_notify_data(bai_http_req_t *r, uint64_t token);
/** Abort (if running) and free; NULLs *rp. */
void bai_http_req_free(bai_http_req_t **rp);

#endif
