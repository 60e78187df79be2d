/*
 * err.h — the C error object (crun style): the error pointer is always the last
 * parameter; failure returns a negative value (or NULL) and sets *err; success leaves
 * *err untouched. The caller owns the error and releases it with bai_err_release().
 */
#ifndef BAI_ERR_H
#define BAI_ERR_H

#ifdef __cplusplus
extern "C" {
#endif

#include "bai.h"

/* Stable domain codes; err_lua.c maps each to the string code Lua sees. */
enum {
    BAI_E_OK = 0,
    BAI_E_SYS,      /* a system call failed; sys holds errno */
    BAI_E_INVAL,    /* invalid argument or malformed input */
    BAI_E_NOENT,    /* not found */
    BAI_E_EXIST,    /* already exists */
    BAI_E_PERM,     /* permission denied / outside a confined root */
    BAI_E_TIMEOUT,  /* deadline passed */
    BAI_E_CANCELED, /* cancelled before completion */
    BAI_E_AGAIN,    /* would block; retry after the readiness token */
    BAI_E_PROTO,    /* protocol or format violation */
    BAI_E_HTTP,     /* transport error talking HTTP */
    BAI_E_ZMQ,      /* libzmq error; sys holds zmq_errno() */
    BAI_E_ARCHIVE,  /* libarchive error */
    BAI_E_TOOBIG,   /* a size limit was exceeded */
    BAI_E_CLOSED,   /* the object was closed */
    BAI_E__COUNT
};

struct bai_err_s {
    int code;   /* BAI_E_* */
    int sys;    /* errno-style value, 0 if none */
    int status; /* HTTP status, 0 if none */
    char *msg;  /* heap string owned by the error */
};
typedef struct bai_err_s *bai_err_t;

/** Set *err (if err is not NULL) and return -1. Any previous *err is released first. */
int bai_err_make(bai_err_t *err, int code, int sys, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/** Like bai_err_make with code BAI_E_SYS and sys = errno; appends strerror(errno). */
int bai_err_sys(bai_err_t *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/** Prefix the message of an existing error: "context: inner". Returns -1. */
int bai_err_wrap(bai_err_t *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/** Free the error and set *err to NULL. Safe on NULL. */
void bai_err_release(bai_err_t *err);

/** Stable string name of a domain code, e.g. "ETIMEDOUT". */
const char *bai_err_code_name(int code);

#ifdef __cplusplus
}
#endif

#endif
