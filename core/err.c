/* err.c — error objects; see err.h. */
#include "err.h"

#include <errno.h>
#include <stdarg.h>
#include <string.h>

void *bai_xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p)
        BAI_OOM();
    return p;
}

void *bai_xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (!p)
        BAI_OOM();
    return p;
}

void *bai_xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (!q)
        BAI_OOM();
    return q;
}

char *bai_xstrdup(const char *s)
{
    char *p = strdup(s);
    if (!p)
        BAI_OOM();
    return p;
}

char *bai_xstrndup(const char *s, size_t n)
{
    char *p = strndup(s, n);
    if (!p)
        BAI_OOM();
    return p;
}

void bai_buf_append(bai_buf_t *b, const void *p, size_t n)
{
    if (n == 0)
        return;
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + n)
            cap *= 2;
        b->data = bai_xrealloc(b->data, cap);
        b->cap = cap;
    }
    memcpy(b->data + b->len, p, n);
    b->len += n;
}

void bai_buf_consume(bai_buf_t *b, size_t n)
{
    if (n >= b->len) {
        b->len = 0;
        return;
    }
    memmove(b->data, b->data + n, b->len - n);
    b->len -= n;
}

void bai_buf_free(bai_buf_t *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

static char *s_vformat(const char *fmt, va_list ap)
{
    char *s = NULL;
    if (vasprintf(&s, fmt, ap) < 0)
        BAI_OOM();
    return s;
}

int bai_err_make(bai_err_t *err, int code, int sys, const char *fmt, ...)
{
    if (!err)
        return -1;
    bai_err_release(err);
    bai_err_t e = bai_xcalloc(1, sizeof(*e));
    va_list ap;
    va_start(ap, fmt);
    e->msg = s_vformat(fmt, ap);
    va_end(ap);
    e->code = code;
    e->sys = sys;
    *err = e;
    return -1;
}

int bai_err_sys(bai_err_t *err, const char *fmt, ...)
{
    int saved = errno;
    if (!err)
        return -1;
    va_list ap;
    va_start(ap, fmt);
    char *ctx = s_vformat(fmt, ap);
    va_end(ap);
    bai_err_make(err, BAI_E_SYS, saved, "%s: %s", ctx, strerror(saved));
    free(ctx);
    if (saved == ENOENT)
        (*err)->code = BAI_E_NOENT;
    else if (saved == EEXIST)
        (*err)->code = BAI_E_EXIST;
    else if (saved == EACCES || saved == EPERM || saved == EXDEV)
        (*err)->code = BAI_E_PERM;
    else if (saved == EAGAIN)
        (*err)->code = BAI_E_AGAIN;
    errno = saved;
    return -1;
}

int bai_err_wrap(bai_err_t *err, const char *fmt, ...)
{
    if (!err || !*err)
        return -1;
    va_list ap;
    va_start(ap, fmt);
    char *ctx = s_vformat(fmt, ap);
    va_end(ap);
    char *msg = NULL;
    if (asprintf(&msg, "%s: %s", ctx, (*err)->msg) < 0)
        BAI_OOM();
    free(ctx);
    free((*err)->msg);
    (*err)->msg = msg;
    return -1;
}

void bai_err_release(bai_err_t *err)
{
    if (!err || !*err)
        return;
    free((*err)->msg);
    free(*err);
    *err = NULL;
}

const char *bai_err_code_name(int code)
{
    static const char *const names[BAI_E__COUNT] = {
        [BAI_E_OK] = "OK",
        [BAI_E_SYS] = "ESYS",
        [BAI_E_INVAL] = "EINVAL",
        [BAI_E_NOENT] = "ENOENT",
        [BAI_E_EXIST] = "EEXIST",
        [BAI_E_PERM] = "EPERM",
        [BAI_E_TIMEOUT] = "ETIMEDOUT",
        [BAI_E_CANCELED] = "ECANCELED",
        [BAI_E_AGAIN] = "EAGAIN",
        [BAI_E_PROTO] = "EPROTO",
        [BAI_E_HTTP] = "EHTTP",
        [BAI_E_ZMQ] = "EZMQ",
        [BAI_E_ARCHIVE] = "EARCHIVE",
        [BAI_E_TOOBIG] = "E2BIG",
        [BAI_E_CLOSED] = "ECLOSED",
    };
    if (code < 0 || code >= BAI_E__COUNT || !names[code])
        return "EUNKNOWN";
    return names[code];
}
