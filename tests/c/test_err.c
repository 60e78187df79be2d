/* test_err.c — the C error object: make, wrap, release, codes from errno. */
#include "err.h"
#include "tap.h"

#include <errno.h>
#include <string.h>

static int t_make_sets_fields(void)
{
    bai_err_t err = NULL;
    int rc = bai_err_make(&err, BAI_E_INVAL, 22, "bad %s %d", "value", 7);
    TAP_CHECK(rc == -1);
    TAP_CHECK(err != NULL);
    TAP_CHECK(err->code == BAI_E_INVAL);
    TAP_CHECK(err->sys == 22);
    TAP_CHECK(err->status == 0);
    TAP_CHECK(strcmp(err->msg, "bad value 7") == 0);
    bai_err_release(&err);
    TAP_CHECK(err == NULL);
    return TAP_PASS;
}

static int t_make_replaces_previous(void)
{
    bai_err_t err = NULL;
    bai_err_make(&err, BAI_E_INVAL, 0, "first");
    bai_err_make(&err, BAI_E_TIMEOUT, 0, "second");
    TAP_CHECK(err->code == BAI_E_TIMEOUT);
    TAP_CHECK(strcmp(err->msg, "second") == 0);
    bai_err_release(&err);
    return TAP_PASS;
}

static int t_make_null_err(void)
{
    TAP_CHECK(bai_err_make(NULL, BAI_E_INVAL, 0, "ignored") == -1);
    TAP_CHECK(bai_err_sys(NULL, "ignored") == -1);
    return TAP_PASS;
}

static int t_wrap_prefixes(void)
{
    bai_err_t err = NULL;
    bai_err_make(&err, BAI_E_NOENT, 2, "inner");
    TAP_CHECK(bai_err_wrap(&err, "outer %d", 1) == -1);
    TAP_CHECK(strcmp(err->msg, "outer 1: inner") == 0);
    TAP_CHECK(err->code == BAI_E_NOENT);
    TAP_CHECK(err->sys == 2);
    bai_err_release(&err);
    /* wrapping nothing stays nothing */
    TAP_CHECK(bai_err_wrap(&err, "ctx") == -1);
    TAP_CHECK(err == NULL);
    return TAP_PASS;
}

static int t_release_null_safe(void)
{
    bai_err_t err = NULL;
    bai_err_release(&err);
    bai_err_release(NULL);
    TAP_CHECK(err == NULL);
    return TAP_PASS;
}

static int t_sys_maps_errno(void)
{
    static const struct {
        int sys;
        int code;
    } cases[] = {
        {ENOENT, BAI_E_NOENT}, {EEXIST, BAI_E_EXIST}, {EPERM, BAI_E_PERM},
        {EACCES, BAI_E_PERM},  {EAGAIN, BAI_E_AGAIN}, {EIO, BAI_E_SYS},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        bai_err_t err = NULL;
        errno = cases[i].sys;
        TAP_CHECK(bai_err_sys(&err, "op %zu", i) == -1);
        TAP_CHECK(err->code == cases[i].code);
        TAP_CHECK(err->sys == cases[i].sys);
        TAP_CHECK(strncmp(err->msg, "op ", 3) == 0);
        TAP_CHECK(strstr(err->msg, strerror(cases[i].sys)) != NULL);
        TAP_CHECK(errno == cases[i].sys);
        bai_err_release(&err);
    }
    return TAP_PASS;
}

static int t_code_names(void)
{
    TAP_CHECK(strcmp(bai_err_code_name(BAI_E_NOENT), "ENOENT") == 0);
    TAP_CHECK(strcmp(bai_err_code_name(BAI_E_TOOBIG), "E2BIG") == 0);
    TAP_CHECK(strcmp(bai_err_code_name(BAI_E_ARCHIVE), "EARCHIVE") == 0);
    TAP_CHECK(strcmp(bai_err_code_name(-1), "EUNKNOWN") == 0);
    TAP_CHECK(strcmp(bai_err_code_name(BAI_E__COUNT), "EUNKNOWN") == 0);
    return TAP_PASS;
}

static const tap_test_t tests[] = {
    {"make sets code, sys and message", t_make_sets_fields},
    {"make replaces a previous error", t_make_replaces_previous},
    {"make and sys with a NULL error pointer just return -1", t_make_null_err},
    {"wrap prefixes the message and keeps the code", t_wrap_prefixes},
    {"release is safe on NULL", t_release_null_safe},
    {"sys maps errno to domain codes", t_sys_maps_errno},
    {"code names are stable", t_code_names},
};

TAP_MAIN(tests)
