/* test_loop.c — core/loop.c: timers, step timeouts, fd watches, completions, signals. */
#include "loop.h"
#include "tap.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

/* timer callbacks append their ud (an int tag) here */
static int s_fired[16];
static size_t s_nfired;

static void s_on_timer(bai_loop_t *loop, uint64_t id, void *ud)
{
    BAI_UNUSED(loop);
    BAI_UNUSED(id);
    if (s_nfired < BAI_ARRAY_LEN(s_fired))
        s_fired[s_nfired++] = (int)(intptr_t)ud;
}

/* step until cond or the deadline passes; returns cond */
#define STEP_UNTIL(loop, cond, secs)                                                               \
    do {                                                                                           \
        double until_ = bai_monotonic() + (secs);                                                  \
        while (!(cond) && bai_monotonic() < until_) {                                              \
            bai_err_t e_ = NULL;                                                                   \
            TAP_CHECK(bai_loop_step((loop), 0.05, &e_) >= 0);                                      \
        }                                                                                          \
    } while (0)

static int t_timers_order(void)
{
    bai_err_t err = NULL;
    bai_loop_t *loop = NULL;
    TAP_CHECK(bai_loop_new(&loop, &err) == 0);
    s_nfired = 0;
    /* started out of order; must fire by due time */
    uint64_t a = bai_loop_timer_start(loop, 0.06, s_on_timer, (void *)3);
    uint64_t b = bai_loop_timer_start(loop, 0.02, s_on_timer, (void *)1);
    uint64_t c = bai_loop_timer_start(loop, 0.04, s_on_timer, (void *)2);
    uint64_t d = bai_loop_timer_start(loop, 0.03, s_on_timer, (void *)99);
    TAP_CHECK(a && b && c && d && a != b && b != c && c != d);
    bai_loop_timer_stop(loop, d);
    bai_loop_timer_stop(loop, d);     /* twice: ignored */
    bai_loop_timer_stop(loop, 12345); /* unknown: ignored */
    STEP_UNTIL(loop, s_nfired >= 3, 2.0);
    TAP_CHECK(s_nfired == 3);
    TAP_CHECK(s_fired[0] == 1 && s_fired[1] == 2 && s_fired[2] == 3);
    /* the stopped timer never fires, even well after its due time */
    double until = bai_monotonic() + 0.1;
    while (bai_monotonic() < until)
        TAP_CHECK(bai_loop_step(loop, 0.02, &err) >= 0);
    TAP_CHECK(s_nfired == 3);
    /* stopping a fired timer is harmless */
    bai_loop_timer_stop(loop, a);
    bai_loop_free(&loop);
    TAP_CHECK(loop == NULL);
    return TAP_PASS;
}

static int t_step_timeout(void)
{
    bai_err_t err = NULL;
    bai_loop_t *loop = NULL;
    TAP_CHECK(bai_loop_new(&loop, &err) == 0);
    /* nothing to do: the step sleeps ~timeout (no busy return, no oversleep) */
    double t0 = bai_monotonic();
    TAP_CHECK(bai_loop_step(loop, 0.1, &err) == 0);
    double dt = bai_monotonic() - t0;
    TAP_DIAG("step(0.1) took %.3f s", dt);
    TAP_CHECK(dt >= 0.09 && dt < 1.0);
    /* zero timeout returns at once */
    t0 = bai_monotonic();
    TAP_CHECK(bai_loop_step(loop, 0, &err) == 0);
    TAP_CHECK(bai_monotonic() - t0 < 0.05);
    /* a nearer timer cuts a long wait short */
    s_nfired = 0;
    bai_loop_timer_start(loop, 0.05, s_on_timer, (void *)7);
    t0 = bai_monotonic();
    TAP_CHECK(bai_loop_step(loop, 5.0, &err) >= 0);
    dt = bai_monotonic() - t0;
    TAP_DIAG("step(5) with a 0.05 s timer took %.3f s", dt);
    TAP_CHECK(dt >= 0.04 && dt < 1.0);
    TAP_CHECK(s_nfired == 1 && s_fired[0] == 7);
    /* a queued completion makes the wait zero and is reported */
    uint64_t tok = bai_loop_token_new(loop);
    bai_loop_complete(loop, tok);
    t0 = bai_monotonic();
    TAP_CHECK(bai_loop_step(loop, 5.0, &err) == 1);
    TAP_CHECK(bai_monotonic() - t0 < 0.5);
    uint64_t out[4];
    TAP_CHECK(bai_loop_drain(loop, out, 4) == 1 && out[0] == tok);
    bai_loop_free(&loop);
    return TAP_PASS;
}

typedef struct {
    int calls;
    uint32_t events;
    char got[64];
    size_t ngot;
} s_pipe_state_t;

static void s_on_read(bai_loop_t *loop, int fd, uint32_t events, void *ud)
{
    BAI_UNUSED(loop);
    s_pipe_state_t *st = ud;
    st->calls++;
    st->events = events;
    ssize_t n = read(fd, st->got + st->ngot, sizeof st->got - st->ngot);
    if (n > 0)
        st->ngot += (size_t)n;
}

static int t_fd_watch(void)
{
    bai_err_t err = NULL;
    bai_loop_t *loop = NULL;
    TAP_CHECK(bai_loop_new(&loop, &err) == 0);
    int p[2];
    TAP_CHECK(pipe2(p, O_NONBLOCK | O_CLOEXEC) == 0);
    s_pipe_state_t st = {0};
    TAP_CHECK(bai_loop_watch(loop, p[0], EPOLLIN, s_on_read, &st, &err) == 0);
    /* nothing written: no callback */
    TAP_CHECK(bai_loop_step(loop, 0.02, &err) == 0);
    TAP_CHECK(st.calls == 0);
    TAP_CHECK(write(p[1], "hello", 5) == 5);
    STEP_UNTIL(loop, st.calls > 0, 1.0);
    TAP_CHECK(st.calls == 1);
    TAP_CHECK(st.events & EPOLLIN);
    TAP_CHECK(st.ngot == 5 && memcmp(st.got, "hello", 5) == 0);
    /* re-watching the same fd replaces the registration (no EEXIST) */
    TAP_CHECK(bai_loop_watch(loop, p[0], EPOLLIN, s_on_read, &st, &err) == 0);
    /* after unwatch, data no longer triggers the callback */
    bai_loop_unwatch(loop, p[0]);
    bai_loop_unwatch(loop, p[0]); /* twice: no-op */
    TAP_CHECK(write(p[1], "more", 4) == 4);
    for (int i = 0; i < 3; i++)
        TAP_CHECK(bai_loop_step(loop, 0.02, &err) == 0);
    TAP_CHECK(st.calls == 1);
    /* a bad fd is an EINVAL error, not a crash */
    TAP_CHECK(bai_loop_watch(loop, -1, EPOLLIN, s_on_read, &st, &err) == -1);
    TAP_CHECK(err && err->code == BAI_E_INVAL);
    bai_err_release(&err);
    TAP_CHECK(err == NULL);
    close(p[0]);
    close(p[1]);
    bai_loop_free(&loop);
    return TAP_PASS;
}

static int t_completions(void)
{
    bai_err_t err = NULL;
    bai_loop_t *loop = NULL;
    TAP_CHECK(bai_loop_new(&loop, &err) == 0);
    uint64_t toks[200];
    for (size_t i = 0; i < BAI_ARRAY_LEN(toks); i++) {
        toks[i] = bai_loop_token_new(loop);
        TAP_CHECK(toks[i] != 0 && toks[i] != BAI_TOKEN_SIGNAL);
        if (i > 0)
            TAP_CHECK(toks[i] != toks[i - 1]);
    }
    TAP_CHECK(bai_loop_pending(loop) == 0);
    /* tokens are plain numbers: completing one never issued is allowed */
    for (size_t i = 0; i < BAI_ARRAY_LEN(toks); i++)
        bai_loop_complete(loop, toks[i]);
    TAP_CHECK(bai_loop_pending(loop) == BAI_ARRAY_LEN(toks));
    /* drained in completion order, in batches */
    uint64_t out[64];
    size_t seen = 0, n;
    while ((n = bai_loop_drain(loop, out, BAI_ARRAY_LEN(out))) > 0) {
        for (size_t i = 0; i < n; i++)
            TAP_CHECK(out[i] == toks[seen + i]);
        seen += n;
        TAP_CHECK(bai_loop_pending(loop) == BAI_ARRAY_LEN(toks) - seen);
    }
    TAP_CHECK(seen == BAI_ARRAY_LEN(toks));
    TAP_CHECK(bai_loop_drain(loop, out, 1) == 0);
    /* order is kept across drains that stop mid-queue */
    bai_loop_complete(loop, 30);
    bai_loop_complete(loop, 20);
    bai_loop_complete(loop, 10);
    TAP_CHECK(bai_loop_drain(loop, out, 1) == 1 && out[0] == 30);
    bai_loop_complete(loop, 40);
    TAP_CHECK(bai_loop_drain(loop, out, 8) == 3);
    TAP_CHECK(out[0] == 20 && out[1] == 10 && out[2] == 40);
    bai_loop_free(&loop);
    return TAP_PASS;
}

static int t_signal(void)
{
    bai_err_t err = NULL;
    bai_loop_t *loop = NULL;
    TAP_CHECK(bai_loop_new(&loop, &err) == 0);
    TAP_CHECK(bai_loop_signal_pop(loop) == 0);
    TAP_CHECK(bai_loop_signal_watch(loop, SIGUSR1, &err) == 0);
    TAP_CHECK(bai_loop_signal_watch(loop, SIGUSR2, &err) == 0); /* reuses the signalfd */
    /* blocked and routed: raise() does not kill us */
    TAP_CHECK(raise(SIGUSR1) == 0);
    uint64_t out[8];
    size_t n = 0;
    double until = bai_monotonic() + 2.0;
    while (n == 0 && bai_monotonic() < until) {
        TAP_CHECK(bai_loop_step(loop, 0.05, &err) >= 0);
        n = bai_loop_drain(loop, out, BAI_ARRAY_LEN(out));
    }
    TAP_CHECK(n == 1 && out[0] == BAI_TOKEN_SIGNAL);
    TAP_CHECK(bai_loop_signal_pop(loop) == SIGUSR1);
    TAP_CHECK(bai_loop_signal_pop(loop) == 0);
    TAP_CHECK(raise(SIGUSR2) == 0);
    n = 0;
    until = bai_monotonic() + 2.0;
    while (n == 0 && bai_monotonic() < until) {
        TAP_CHECK(bai_loop_step(loop, 0.05, &err) >= 0);
        n = bai_loop_drain(loop, out, BAI_ARRAY_LEN(out));
    }
    TAP_CHECK(n == 1 && out[0] == BAI_TOKEN_SIGNAL);
    TAP_CHECK(bai_loop_signal_pop(loop) == SIGUSR2);
    bai_loop_free(&loop);
    /* leave the process mask as we found it */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR1);
    sigaddset(&set, SIGUSR2);
    sigprocmask(SIG_UNBLOCK, &set, NULL);
    return TAP_PASS;
}

static const tap_test_t tests[] = {
    {"timers fire in due order; a stopped timer never fires", t_timers_order},
    {"step honours its timeout, a nearer timer and queued completions", t_step_timeout},
    {"an fd watch fires when the pipe is written and not after unwatch", t_fd_watch},
    {"completions drain in order, in batches", t_completions},
    {"a watched signal completes BAI_TOKEN_SIGNAL and pops its number", t_signal},
};

TAP_MAIN(tests)
