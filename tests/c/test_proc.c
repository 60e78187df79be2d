/* test_proc.c — core/proc.c: spawn with pipes, exit through the pidfd, kill, stdin. */
#include "proc.h"
#include "tap.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

/* step the loop until the child exited and both captured streams ended */
static int s_drive(bai_loop_t *loop, bai_proc_t *p, double secs)
{
    double until = bai_monotonic() + secs;
    for (;;) {
        int code, signo, eo, ee;
        bai_proc_output(p, BAI_PROC_STDOUT, &eo);
        bai_proc_output(p, BAI_PROC_STDERR, &ee);
        if (bai_proc_exited(p, &code, &signo) && eo && ee)
            return 0;
        if (bai_monotonic() >= until)
            return -1;
        bai_err_t err = NULL;
        if (bai_loop_step(loop, 0.05, &err) < 0) {
            bai_err_release(&err);
            return -1;
        }
        uint64_t toks[16];
        while (bai_loop_drain(loop, toks, BAI_ARRAY_LEN(toks)) > 0)
            ;
    }
}

static int s_buf_is(bai_buf_t *b, const char *s)
{
    return b->len == strlen(s) && memcmp(b->data, s, b->len) == 0;
}

static int t_pipes_and_code(void)
{
    bai_err_t err = NULL;
    bai_loop_t *loop = NULL;
    TAP_CHECK(bai_loop_new(&loop, &err) == 0);
    const char *argv[] = {"sh", "-c", "echo out; echo err >&2; exit 7", NULL};
    bai_proc_opts_t o = {.argv = argv, .pipe_stdout = 1, .pipe_stderr = 1, .uid = -1, .gid = -1};
    bai_proc_t *p = NULL;
    TAP_CHECK(bai_proc_spawn(loop, &o, &p, &err) == 0);
    TAP_CHECK(err == NULL && p != NULL && bai_proc_pid(p) > 0);
    uint64_t exit_tok = bai_loop_token_new(loop);
    bai_proc_notify_exit(p, exit_tok);
    int code = -2, signo = -2;
    TAP_CHECK(s_drive(loop, p, 5.0) == 0);
    TAP_CHECK(bai_proc_exited(p, &code, &signo) == 1);
    TAP_CHECK(code == 7 && signo == 0);
    int eof = 0;
    bai_buf_t *out = bai_proc_output(p, BAI_PROC_STDOUT, &eof);
    TAP_CHECK(eof && s_buf_is(out, "out\n"));
    bai_buf_t *errb = bai_proc_output(p, BAI_PROC_STDERR, &eof);
    TAP_CHECK(eof && s_buf_is(errb, "err\n"));
    /* notifying after the end completes at once */
    uint64_t late = bai_loop_token_new(loop);
    bai_proc_notify_exit(p, late);
    bai_proc_notify_output(p, BAI_PROC_STDOUT, late + 1000);
    uint64_t toks[4];
    TAP_CHECK(bai_loop_drain(loop, toks, 4) == 2);
    TAP_CHECK(toks[0] == late && toks[1] == late + 1000);
    bai_proc_free(&p);
    TAP_CHECK(p == NULL);
    bai_loop_free(&loop);
    return TAP_PASS;
}

static int t_exit_token(void)
{
    bai_err_t err = NULL;
    bai_loop_t *loop = NULL;
    TAP_CHECK(bai_loop_new(&loop, &err) == 0);
    const char *argv[] = {"true", NULL};
    bai_proc_opts_t o = {.argv = argv, .uid = -1, .gid = -1};
    bai_proc_t *p = NULL;
    TAP_CHECK(bai_proc_spawn(loop, &o, &p, &err) == 0);
    uint64_t tok = bai_loop_token_new(loop);
    bai_proc_notify_exit(p, tok);
    int got = 0;
    double until = bai_monotonic() + 5.0;
    while (!got && bai_monotonic() < until) {
        TAP_CHECK(bai_loop_step(loop, 0.05, &err) >= 0);
        uint64_t toks[8];
        size_t n = bai_loop_drain(loop, toks, 8);
        for (size_t i = 0; i < n; i++)
            got |= toks[i] == tok;
        if (!got)
            bai_proc_notify_exit(p, tok); /* polls when the kernel has no pidfd */
    }
    TAP_CHECK(got);
    int code, signo;
    TAP_CHECK(bai_proc_exited(p, &code, &signo) && code == 0 && signo == 0);
    bai_proc_free(&p);
    bai_loop_free(&loop);
    return TAP_PASS;
}

static int t_spawn_missing(void)
{
    bai_err_t err = NULL;
    bai_loop_t *loop = NULL;
    TAP_CHECK(bai_loop_new(&loop, &err) == 0);
    const char *argv[] = {"/nonexistent/bai-no-such-program", NULL};
    bai_proc_opts_t o = {.argv = argv, .pipe_stdout = 1, .pipe_stderr = 1, .uid = -1, .gid = -1};
    bai_proc_t *p = NULL;
    TAP_CHECK(bai_proc_spawn(loop, &o, &p, &err) == -1);
    TAP_CHECK(p == NULL);
    TAP_CHECK(err && err->code == BAI_E_NOENT && err->sys == ENOENT);
    bai_err_release(&err);
    const char *bare[] = {"bai-no-such-program-in-path", NULL};
    o.argv = bare;
    TAP_CHECK(bai_proc_spawn(loop, &o, &p, &err) == -1);
    TAP_CHECK(err && err->sys == ENOENT);
    bai_err_release(&err);
    /* a missing cwd is also a spawn failure */
    const char *sh[] = {"true", NULL};
    o.argv = sh;
    o.cwd = "/nonexistent/dir";
    TAP_CHECK(bai_proc_spawn(loop, &o, &p, &err) == -1);
    TAP_CHECK(err && err->sys == ENOENT);
    bai_err_release(&err);
    /* empty argv is EINVAL */
    const char *empty[] = {NULL};
    o.argv = empty;
    TAP_CHECK(bai_proc_spawn(loop, &o, &p, &err) == -1);
    TAP_CHECK(err && err->code == BAI_E_INVAL);
    bai_err_release(&err);
    bai_loop_free(&loop);
    return TAP_PASS;
}

static int t_kill(void)
{
    bai_err_t err = NULL;
    bai_loop_t *loop = NULL;
    TAP_CHECK(bai_loop_new(&loop, &err) == 0);
    const char *argv[] = {"sleep", "30", NULL};
    bai_proc_opts_t o = {.argv = argv, .pipe_stdout = 1, .pipe_stderr = 1, .uid = -1, .gid = -1};
    bai_proc_t *p = NULL;
    TAP_CHECK(bai_proc_spawn(loop, &o, &p, &err) == 0);
    int code, signo;
    TAP_CHECK(bai_proc_exited(p, &code, &signo) == 0);
    double t0 = bai_monotonic();
    TAP_CHECK(bai_proc_kill(p, SIGTERM, 0, &err) == 0);
    TAP_CHECK(s_drive(loop, p, 5.0) == 0);
    TAP_CHECK(bai_monotonic() - t0 < 3.0);
    TAP_CHECK(bai_proc_exited(p, &code, &signo) == 1);
    TAP_CHECK(code == -1 && signo == SIGTERM);
    /* killing an exited child is a no-op */
    TAP_CHECK(bai_proc_kill(p, SIGTERM, 0, &err) == 0);
    bai_proc_free(&p);
    /* freeing a running child kills and reaps it */
    TAP_CHECK(bai_proc_spawn(loop, &o, &p, &err) == 0);
    pid_t pid = bai_proc_pid(p);
    bai_proc_free(&p);
    TAP_CHECK(kill(pid, 0) == -1 && errno == ESRCH);
    bai_loop_free(&loop);
    return TAP_PASS;
}

static int t_stdin(void)
{
    bai_err_t err = NULL;
    bai_loop_t *loop = NULL;
    TAP_CHECK(bai_loop_new(&loop, &err) == 0);
    const char *argv[] = {"cat", NULL};
    bai_proc_opts_t o = {
        .argv = argv, .pipe_stdin = 1, .pipe_stdout = 1, .pipe_stderr = 1, .uid = -1, .gid = -1};
    bai_proc_t *p = NULL;
    TAP_CHECK(bai_proc_spawn(loop, &o, &p, &err) == 0);
    TAP_CHECK(bai_proc_write(p, "hello ", 6, &err) == 0);
    /* echoed before stdin closes: cat is still running */
    int eof = 0;
    bai_buf_t *out = bai_proc_output(p, BAI_PROC_STDOUT, &eof);
    double until = bai_monotonic() + 5.0;
    while (out->len < 6 && bai_monotonic() < until)
        TAP_CHECK(bai_loop_step(loop, 0.05, &err) >= 0);
    int code, signo;
    TAP_CHECK(s_buf_is(out, "hello "));
    TAP_CHECK(bai_proc_exited(p, &code, &signo) == 0);
    /* a large write goes through the non-blocking queue (bigger than a pipe buffer) */
    size_t big = 256 * 1024;
    char *data = bai_xmalloc(big);
    for (size_t i = 0; i < big; i++)
        data[i] = (char)('a' + i % 26);
    TAP_CHECK(bai_proc_write(p, data, big, &err) == 0);
    bai_proc_close_stdin(p);
    TAP_CHECK(s_drive(loop, p, 10.0) == 0);
    TAP_CHECK(bai_proc_exited(p, &code, &signo) == 1 && code == 0 && signo == 0);
    out = bai_proc_output(p, BAI_PROC_STDOUT, &eof);
    TAP_CHECK(eof && out->len == 6 + big);
    TAP_CHECK(memcmp(out->data + 6, data, big) == 0);
    free(data);
    /* writing after close is ECLOSED */
    TAP_CHECK(bai_proc_write(p, "x", 1, &err) == -1);
    TAP_CHECK(err && err->code == BAI_E_CLOSED);
    bai_err_release(&err);
    bai_proc_free(&p);
    bai_loop_free(&loop);
    return TAP_PASS;
}

static int t_stderr_to_stdout(void)
{
    bai_err_t err = NULL;
    bai_loop_t *loop = NULL;
    TAP_CHECK(bai_loop_new(&loop, &err) == 0);
    const char *argv[] = {"sh", "-c", "echo a; echo b >&2", NULL};
    bai_proc_opts_t o = {.argv = argv, .pipe_stdout = 1, .pipe_stderr = 3, .uid = -1, .gid = -1};
    bai_proc_t *p = NULL;
    TAP_CHECK(bai_proc_spawn(loop, &o, &p, &err) == 0);
    TAP_CHECK(s_drive(loop, p, 5.0) == 0);
    int eof;
    TAP_CHECK(s_buf_is(bai_proc_output(p, BAI_PROC_STDOUT, &eof), "a\nb\n"));
    TAP_CHECK(bai_proc_output(p, BAI_PROC_STDERR, &eof)->len == 0 && eof);
    bai_proc_free(&p);
    bai_loop_free(&loop);
    return TAP_PASS;
}

static const tap_test_t tests[] = {
    {"stdout, stderr and exit code 7 are collected", t_pipes_and_code},
    {"the exit token completes when the child exits", t_exit_token},
    {"a missing program fails at spawn, not with an exit code", t_spawn_missing},
    {"SIGTERM gives code -1 and signal 15; free kills and reaps", t_kill},
    {"stdin pipe: cat echoes writes; close_stdin ends it", t_stdin},
    {"stderr merged into stdout", t_stderr_to_stdout},
};

TAP_MAIN(tests)
