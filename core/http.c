/* http.c — libcurl multi_socket on the loop; see http.h. */
#include "http.h"

#include <curl/curl.h>
#include <string.h>

struct bai_http_s {
    bai_loop_t *loop;
    CURLM *multi;
    uint64_t timer;
    int running;
};

struct bai_http_req_s {
    bai_http_t *h;
    CURL *easy;
    struct curl_slist *hdrs;
    char *body;
    uint64_t token;      /* completes at the end */
    uint64_t data_token; /* stream mode: completes on data */
    int stream;
    size_t max_body;
    int done, toobig;
    CURLcode result;
    long status;
    bai_buf_t resp;
    bai_buf_t resp_headers;
};

static void s_check_done(bai_http_t *h)
{
    CURLMsg *m;
    int left;
    while ((m = curl_multi_info_read(h->multi, &left))) {
        if (m->msg != CURLMSG_DONE)
            continue;
        bai_http_req_t *r = NULL;
        curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&r);
        curl_multi_remove_handle(h->multi, m->easy_handle);
        if (!r)
            continue;
        r->done = 1;
        r->result = m->data.result;
        curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &r->status);
        bai_loop_complete(h->loop, r->token);
        if (r->data_token) {
            bai_loop_complete(h->loop, r->data_token);
            r->data_token = 0;
        }
    }
}

static void s_on_timer(bai_loop_t *loop, uint64_t id, void *ud)
{
    BAI_UNUSED(loop);
    BAI_UNUSED(id);
    bai_http_t *h = ud;
    h->timer = 0;
    curl_multi_socket_action(h->multi, CURL_SOCKET_TIMEOUT, 0, &h->running);
    s_check_done(h);
}

static int s_timer_cb(CURLM *multi, long ms, void *ud)
{
    BAI_UNUSED(multi);
    bai_http_t *h = ud;
    if (h->timer) {
        bai_loop_timer_stop(h->loop, h->timer);
        h->timer = 0;
    }
    if (ms >= 0)
        h->timer = bai_loop_timer_start(h->loop, (double)ms / 1000.0, s_on_timer, h);
    return 0;
}

static void s_on_io(bai_loop_t *loop, int fd, uint32_t events, void *ud)
{
    BAI_UNUSED(loop);
    bai_http_t *h = ud;
    int flags = 0;
    if (events & EPOLLIN)
        flags |= CURL_CSELECT_IN;
    if (events & EPOLLOUT)
        flags |= CURL_CSELECT_OUT;
    if (events & (EPOLLERR | EPOLLHUP))
        flags |= CURL_CSELECT_ERR;
    curl_multi_socket_action(h->multi, fd, flags, &h->running);
    s_check_done(h);
}

static int s_socket_cb(CURL *easy, curl_socket_t s, int what, void *ud, void *sockp)
{
    BAI_UNUSED(easy);
    BAI_UNUSED(sockp);
    bai_http_t *h = ud;
    if (what == CURL_POLL_REMOVE) {
        bai_loop_unwatch(h->loop, s);
        return 0;
    }
    uint32_t ev = 0;
    if (what & CURL_POLL_IN)
        ev |= EPOLLIN;
    if (what & CURL_POLL_OUT)
        ev |= EPOLLOUT;
    /* a socket the loop cannot watch would stall the transfer: make curl abort it */
    return bai_loop_watch(h->loop, s, ev, s_on_io, h, NULL) < 0 ? -1 : 0;
}

int bai_http_new(bai_loop_t *loop, bai_http_t **out, bai_err_t *err)
{
    static int inited;
    if (!inited) {
        if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
            return bai_err_make(err, BAI_E_HTTP, 0, "curl_global_init failed");
        inited = 1;
    }
    bai_http_t *h = bai_xcalloc(1, sizeof(*h));
    h->loop = loop;
    h->multi = curl_multi_init();
    if (!h->multi) {
        free(h);
        return bai_err_make(err, BAI_E_HTTP, 0, "curl_multi_init failed");
    }
    curl_multi_setopt(h->multi, CURLMOPT_SOCKETFUNCTION, s_socket_cb);
    curl_multi_setopt(h->multi, CURLMOPT_SOCKETDATA, h);
    curl_multi_setopt(h->multi, CURLMOPT_TIMERFUNCTION, s_timer_cb);
    curl_multi_setopt(h->multi, CURLMOPT_TIMERDATA, h);
    *out = h;
    return 0;
}

void bai_http_free(bai_http_t **hp)
{
    if (!hp || !*hp)
        return;
    bai_http_t *h = *hp;
    if (h->timer)
        bai_loop_timer_stop(h->loop, h->timer);
    curl_multi_cleanup(h->multi);
    free(h);
    *hp = NULL;
}

static size_t s_write_cb(char *ptr, size_t size, size_t nmemb, void *ud)
{
    bai_http_req_t *r = ud;
    size_t n = size * nmemb;
    if (!r->stream && r->max_body && r->resp.len + n > r->max_body) {
        r->toobig = 1;
        return 0; /* aborts the transfer with CURLE_WRITE_ERROR */
    }
    bai_buf_append(&r->resp, ptr, n);
    if (r->stream && r->data_token) {
        bai_loop_complete(r->h->loop, r->data_token);
        r->data_token = 0;
    }
    return n;
}

static size_t s_header_cb(char *ptr, size_t size, size_t nmemb, void *ud)
{
    bai_http_req_t *r = ud;
    size_t n = size * nmemb;
    /* a new status line (redirect, 100-continue) starts a fresh header block */
    if (n >= 5 && memcmp(ptr, "HTTP/", 5) == 0)
        r->resp_headers.len = 0;
    bai_buf_append(&r->resp_headers, ptr, n);
    return n;
}

int bai_http_request(bai_http_t *h, const bai_http_opts_t *o, uint64_t token, bai_http_req_t **out,
                     bai_err_t *err)
{
    CURL *e = curl_easy_init();
    if (!e)
        return bai_err_make(err, BAI_E_HTTP, 0, "curl_easy_init failed");
    bai_http_req_t *r = bai_xcalloc(1, sizeof(*r));
    r->h = h;
    r->easy = e;
    r->token = token;
    r->stream = o->stream;
    r->max_body = o->max_body;
    curl_easy_setopt(e, CURLOPT_PRIVATE, r);
    curl_easy_setopt(e, CURLOPT_URL, o->url);
    if (o->unix_socket)
        curl_easy_setopt(e, CURLOPT_UNIX_SOCKET_PATH, o->unix_socket);
    curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, o->method);
    if (strcmp(o->method, "HEAD") == 0)
        curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, s_write_cb);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, r);
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, s_header_cb);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, r);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    if (o->timeout > 0)
        curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)(o->timeout * 1000));
    /* no 100-continue round trip for bodies over 1 KiB */
    r->hdrs = curl_slist_append(NULL, "Expect:");
    for (const char *const *p = o->headers; p && *p; p++)
        r->hdrs = curl_slist_append(r->hdrs, *p);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, r->hdrs);
    if (o->body || strcmp(o->method, "POST") == 0 || strcmp(o->method, "PUT") == 0) {
        size_t n = o->body ? o->body_len : 0;
        r->body = bai_xmalloc(n + 1);
        if (n)
            memcpy(r->body, o->body, n);
        curl_easy_setopt(e, CURLOPT_POSTFIELDS, r->body);
        curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)n);
    }
    CURLMcode mc = curl_multi_add_handle(h->multi, e);
    if (mc != CURLM_OK) {
        bai_err_make(err, BAI_E_HTTP, 0, "curl_multi_add_handle: %s", curl_multi_strerror(mc));
        bai_http_req_free(&r);
        return -1;
    }
    *out = r;
    return 0;
}

int bai_http_req_finished(bai_http_req_t *r, long *status, bai_err_t *err)
{
    if (!r->done)
        return 0;
    *status = r->status;
    if (r->result != CURLE_OK) {
        if (r->toobig)
            return bai_err_make(err, BAI_E_TOOBIG, 0, "response body exceeds %zu bytes",
                                r->max_body);
        if (r->result == CURLE_OPERATION_TIMEDOUT)
            return bai_err_make(err, BAI_E_TIMEOUT, 0, "%s", curl_easy_strerror(r->result));
        return bai_err_make(err, BAI_E_HTTP, (int)r->result, "%s", curl_easy_strerror(r->result));
    }
    return 1;
}

bai_buf_t *bai_http_req_body(bai_http_req_t *r)
{
    return &r->resp;
}

bai_buf_t *bai_http_req_headers(bai_http_req_t *r)
{
    return &r->resp_headers;
}

void bai_http_req_notify_data(bai_http_req_t *r, uint64_t token)
{
    if (r->resp.len > 0 || r->done)
        bai_loop_complete(r->h->loop, token);
    else
        r->data_token = token;
}

void bai_http_req_free(bai_http_req_t **rp)
{
    if (!rp || !*rp)
        return;
    bai_http_req_t *r = *rp;
    if (!r->done)
        curl_multi_remove_handle(r->h->multi, r->easy);
    curl_easy_cleanup(r->easy);
    curl_slist_free_all(r->hdrs);
    free(r->body);
    bai_buf_free(&r->resp);
    bai_buf_free(&r->resp_headers);
    free(r);
    *rp = NULL;
}
