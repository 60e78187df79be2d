/* loop.c — epoll event loop; see loop.h. Modelled on the size of Redis's ae.c. */
#include "loop.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

typedef struct {
    int fd;
    uint32_t events;
    bai_io_fn fn;
    void *ud;
} s_watch_t;

typedef struct {
    double when;
    uint64_t id;
    bai_timer_fn fn;
    void *ud;
} s_timer_t;

struct bai_loop_s {
    int epfd;
    /* fd watches, indexed by fd (fds are small dense integers) */
    s_watch_t *watches;
    int nwatches;
    /* timer min-heap ordered by `when` */
    s_timer_t *timers;
    size_t ntimers, cap_timers;
    uint64_t next_timer;
    /* completion queue */
    uint64_t *done;
    size_t ndone, cap_done;
    uint64_t next_token;
    /* signals */
    int sigfd;
    sigset_t sigmask;
    int sigq[32];
    size_t nsig;
};

double bai_monotonic(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int bai_loop_new(bai_loop_t **out, bai_err_t *err)
{
    int epfd = epoll_create1(EPOLL_CLOEXEC);
    if (epfd < 0)
        return bai_err_sys(err, "epoll_create1");
    bai_loop_t *loop = bai_xcalloc(1, sizeof(*loop));
    loop->epfd = epfd;
    loop->sigfd = -1;
    loop->next_token = 16;
    loop->next_timer = 1;
    sigemptyset(&loop->sigmask);
    *out = loop;
    return 0;
}

void bai_loop_free(bai_loop_t **p)
{
    if (!p || !*p)
        return;
    bai_loop_t *loop = *p;
    if (loop->sigfd >= 0)
        close(loop->sigfd);
    close(loop->epfd);
    free(loop->watches);
    free(loop->timers);
    free(loop->done);
    free(loop);
    *p = NULL;
}

int bai_loop_watch(bai_loop_t *loop, int fd, uint32_t events, bai_io_fn fn, void *ud,
                   bai_err_t *err)
{
    if (fd < 0)
        return bai_err_make(err, BAI_E_INVAL, EBADF, "watch: bad fd %d", fd);
    if (fd >= loop->nwatches) {
        int n = loop->nwatches ? loop->nwatches : 64;
        while (n <= fd)
            n *= 2;
        loop->watches = bai_xrealloc(loop->watches, (size_t)n * sizeof(s_watch_t));
        for (int i = loop->nwatches; i < n; i++)
            loop->watches[i].fd = -1;
        loop->nwatches = n;
    }
    s_watch_t *w = &loop->watches[fd];
    struct epoll_event ev = {.events = events, .data.fd = fd};
    int op = w->fd == fd ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;
    if (epoll_ctl(loop->epfd, op, fd, &ev) < 0)
        return bai_err_sys(err, "epoll_ctl(%d)", fd);
    w->fd = fd;
    w->events = events;
    w->fn = fn;
    w->ud = ud;
    return 0;
}

void bai_loop_unwatch(bai_loop_t *loop, int fd)
{
    if (fd < 0 || fd >= loop->nwatches || loop->watches[fd].fd != fd)
        return;
    epoll_ctl(loop->epfd, EPOLL_CTL_DEL, fd, NULL);
    loop->watches[fd].fd = -1;
    loop->watches[fd].fn = NULL;
}

/* --- timer heap --- */

static void s_heap_swap(bai_loop_t *loop, size_t a, size_t b)
{
    s_timer_t t = loop->timers[a];
    loop->timers[a] = loop->timers[b];
    loop->timers[b] = t;
}

static void s_heap_up(bai_loop_t *loop, size_t i)
{
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (loop->timers[parent].when <= loop->timers[i].when)
            break;
        s_heap_swap(loop, parent, i);
        i = parent;
    }
}

static void s_heap_down(bai_loop_t *loop, size_t i)
{
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < loop->ntimers && loop->timers[l].when < loop->timers[m].when)
            m = l;
        if (r < loop->ntimers && loop->timers[r].when < loop->timers[m].when)
            m = r;
        if (m == i)
            return;
        s_heap_swap(loop, i, m);
        i = m;
    }
}

static void s_heap_remove(bai_loop_t *loop, size_t i)
{
    loop->ntimers--;
    if (i == loop->ntimers)
        return;
    loop->timers[i] = loop->timers[loop->ntimers];
    s_heap_down(loop, i);
    s_heap_up(loop, i);
}

uint64_t bai_loop_timer_start(bai_loop_t *loop, double delay, bai_timer_fn fn, void *ud)
{
    if (loop->ntimers == loop->cap_timers) {
        loop->cap_timers = loop->cap_timers ? loop->cap_timers * 2 : 16;
        loop->timers = bai_xrealloc(loop->timers, loop->cap_timers * sizeof(s_timer_t));
    }
    s_timer_t *t = &loop->timers[loop->ntimers];
    t->when = bai_monotonic() + (delay > 0 ? delay : 0);
    t->id = loop->next_timer++;
    t->fn = fn;
    t->ud = ud;
    uint64_t id = t->id; /* read before sifting: s_heap_up may move the entry */
    loop->ntimers++;
    s_heap_up(loop, loop->ntimers - 1);
    return id;
}

void bai_loop_timer_stop(bai_loop_t *loop, uint64_t id)
{
    for (size_t i = 0; i < loop->ntimers; i++) {
        if (loop->timers[i].id == id) {
            s_heap_remove(loop, i);
            return;
        }
    }
}

static void s_run_timers(bai_loop_t *loop)
{
    double now = bai_monotonic();
    /* a callback may start new timers; those due now run on the next step */
    size_t budget = loop->ntimers;
    while (budget-- > 0 && loop->ntimers > 0 && loop->timers[0].when <= now) {
        s_timer_t t = loop->timers[0];
        s_heap_remove(loop, 0);
        t.fn(loop, t.id, t.ud);
    }
}

/* --- tokens --- */

uint64_t bai_loop_token_new(bai_loop_t *loop)
{
    return loop->next_token++;
}

void bai_loop_complete(bai_loop_t *loop, uint64_t token)
{
    if (loop->ndone == loop->cap_done) {
        loop->cap_done = loop->cap_done ? loop->cap_done * 2 : 64;
        loop->done = bai_xrealloc(loop->done, loop->cap_done * sizeof(uint64_t));
    }
    loop->done[loop->ndone++] = token;
}

size_t bai_loop_drain(bai_loop_t *loop, uint64_t *out, size_t max)
{
    size_t n = loop->ndone < max ? loop->ndone : max;
    if (n == 0)
        return 0; /* loop->done may still be NULL: memcpy from NULL is undefined */
    memcpy(out, loop->done, n * sizeof(uint64_t));
    memmove(loop->done, loop->done + n, (loop->ndone - n) * sizeof(uint64_t));
    loop->ndone -= n;
    return n;
}

size_t bai_loop_pending(bai_loop_t *loop)
{
    return loop->ndone;
}

/* --- signals --- */

static void s_on_signal(bai_loop_t *loop, int fd, uint32_t events, void *ud)
{
    BAI_UNUSED(events);
    BAI_UNUSED(ud);
    struct signalfd_siginfo si;
    while (read(fd, &si, sizeof si) == (ssize_t)sizeof si) {
        if (loop->nsig < BAI_ARRAY_LEN(loop->sigq))
            loop->sigq[loop->nsig++] = (int)si.ssi_signo;
        bai_loop_complete(loop, BAI_TOKEN_SIGNAL);
    }
}

int bai_loop_signal_watch(bai_loop_t *loop, int signo, bai_err_t *err)
{
    sigaddset(&loop->sigmask, signo);
    if (sigprocmask(SIG_BLOCK, &loop->sigmask, NULL) < 0)
        return bai_err_sys(err, "sigprocmask");
    int fd = signalfd(loop->sigfd, &loop->sigmask, SFD_NONBLOCK | SFD_CLOEXEC);
    if (fd < 0)
        return bai_err_sys(err, "signalfd");
    if (loop->sigfd < 0) {
        loop->sigfd = fd;
        if (bai_loop_watch(loop, fd, EPOLLIN, s_on_signal, NULL, err) < 0)
            return -1;
    }
    return 0;
}

int bai_loop_signal_pop(bai_loop_t *loop)
{
    if (loop->nsig == 0)
        return 0;
    int s = loop->sigq[0];
    memmove(loop->sigq, loop->sigq + 1, (loop->nsig - 1) * sizeof(int));
    loop->nsig--;
    return s;
}

/* --- step --- */

int bai_loop_step(bai_loop_t *loop, double timeout, bai_err_t *err)
{
    s_run_timers(loop);
    double wait = timeout;
    if (loop->ndone > 0)
        wait = 0;
    if (loop->ntimers > 0) {
        double due = loop->timers[0].when - bai_monotonic();
        if (due < 0)
            due = 0;
        if (wait < 0 || due < wait)
            wait = due;
    }
    int ms = wait < 0 ? -1 : (int)(wait * 1000.0 + 0.999);
    struct epoll_event evs[64];
    int n = epoll_wait(loop->epfd, evs, (int)BAI_ARRAY_LEN(evs), ms);
    if (n < 0) {
        if (errno != EINTR)
            return bai_err_sys(err, "epoll_wait");
        n = 0;
    }
    for (int i = 0; i < n; i++) {
        int fd = evs[i].data.fd;
        if (fd < 0 || fd >= loop->nwatches)
            continue;
        s_watch_t *w = &loop->watches[fd];
        /* an earlier callback in this batch may have removed the watch */
        if (w->fd != fd || !w->fn)
            continue;
        w->fn(loop, fd, evs[i].events, w->ud);
    }
    s_run_timers(loop);
    return (int)loop->ndone;
}
