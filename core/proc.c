/* proc.c — child processes on the loop; see proc.h. */
#include "proc.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <grp.h>
#include <linux/close_range.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

typedef struct {
    int fd;
    int eof;
    uint64_t token;
    bai_buf_t buf;
} s_stream_t;

struct bai_proc_s {
    bai_loop_t *loop;
    pid_t pid;
    int pidfd;
    int exited, code, signo;
    uint64_t exit_token;
    s_stream_t out[3]; /* [1] stdout, [2] stderr */
    int in_fd;
    int in_close_pending;
    int group; /* the child leads its own process group (new_session) */
    bai_buf_t inbuf;
};

static void s_complete(bai_loop_t *loop, uint64_t *tok)
{
    if (*tok) {
        bai_loop_complete(loop, *tok);
        *tok = 0;
    }
}

static void s_stream_end(bai_proc_t *p, s_stream_t *s)
{
    if (s->fd >= 0) {
        bai_loop_unwatch(p->loop, s->fd);
        close(s->fd);
        s->fd = -1;
    }
    s->eof = 1;
    s_complete(p->loop, &s->token);
}

static void s_on_output(bai_loop_t *loop, int fd, uint32_t events, void *ud)
{
    BAI_UNUSED(loop);
    BAI_UNUSED(events); /* EPOLLHUP/EPOLLERR: the read loop below sees the end */
    bai_proc_t *p = ud;
    s_stream_t *s = p->out[1].fd == fd ? &p->out[1] : &p->out[2];
    char chunk[65536];
    for (;;) {
        ssize_t n = read(fd, chunk, sizeof chunk);
        if (n > 0) {
            bai_buf_append(&s->buf, chunk, (size_t)n);
            s_complete(p->loop, &s->token);
            if ((size_t)n < sizeof chunk)
                break;
            continue;
        }
        if (n < 0 && (errno == EINTR))
            continue;
        if (n < 0 && errno == EAGAIN)
            break;
        s_stream_end(p, s); /* EOF or error */
        return;
    }
}

static void s_reap(bai_proc_t *p)
{
    int status;
    pid_t r = waitpid(p->pid, &status, WNOHANG);
    if (r != p->pid)
        return;
    p->exited = 1;
    if (WIFEXITED(status)) {
        p->code = WEXITSTATUS(status);
        p->signo = 0;
    } else {
        p->code = -1;
        p->signo = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
    }
    if (p->pidfd >= 0) {
        bai_loop_unwatch(p->loop, p->pidfd);
        close(p->pidfd);
        p->pidfd = -1;
    }
    s_complete(p->loop, &p->exit_token);
}

static void s_on_pidfd(bai_loop_t *loop, int fd, uint32_t events, void *ud)
{
    BAI_UNUSED(loop);
    BAI_UNUSED(fd);
    BAI_UNUSED(events);
    s_reap(ud);
}

static void s_flush_stdin(bai_proc_t *p);

static void s_on_stdin(bai_loop_t *loop, int fd, uint32_t events, void *ud)
{
    BAI_UNUSED(loop);
    BAI_UNUSED(fd);
    BAI_UNUSED(events);
    s_flush_stdin(ud);
}

static void s_close_in(bai_proc_t *p)
{
    if (p->in_fd >= 0) {
        bai_loop_unwatch(p->loop, p->in_fd);
        close(p->in_fd);
        p->in_fd = -1;
    }
    bai_buf_free(&p->inbuf);
}

static void s_flush_stdin(bai_proc_t *p)
{
    while (p->in_fd >= 0 && p->inbuf.len > 0) {
        ssize_t n = write(p->in_fd, p->inbuf.data, p->inbuf.len);
        if (n > 0) {
            bai_buf_consume(&p->inbuf, (size_t)n);
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EAGAIN) {
            bai_loop_watch(p->loop, p->in_fd, EPOLLOUT, s_on_stdin, p, NULL);
            return;
        }
        s_close_in(p); /* EPIPE: the child closed its stdin */
        return;
    }
    if (p->in_fd >= 0) {
        bai_loop_unwatch(p->loop, p->in_fd);
        if (p->in_close_pending)
            s_close_in(p);
    }
}

static int s_pidfd_open(pid_t pid)
{
#ifdef SYS_pidfd_open
    return (int)syscall(SYS_pidfd_open, pid, 0);
#else
    errno = ENOSYS;
    return -1;
#endif
}

static void s_child(const bai_proc_opts_t *o, int fds[3], int errfd)
{
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    signal(SIGPIPE, SIG_DFL);
    for (int i = 0; i < 3; i++) {
        if (fds[i] >= 0 && fds[i] != i) {
            if (dup2(fds[i], i) < 0)
                goto fail;
        }
    }
    /* nothing but 0-2 crosses exec: not the agent's Docker connection, sockets or
     * pipes of other children (errfd is close-on-exec already and stays usable) */
    if (close_range(3, ~0U, CLOSE_RANGE_CLOEXEC) < 0) {
        for (int fd = 3; fd < 4096; fd++)
            fcntl(fd, F_SETFD, FD_CLOEXEC);
    }
    if (o->new_session && setsid() < 0)
        goto fail;
    if (o->cwd && chdir(o->cwd) < 0)
        goto fail;
    if (o->gid >= 0 && (setgroups(0, NULL) < 0 || setgid((gid_t)o->gid) < 0))
        goto fail;
    if (o->uid >= 0 && setuid((uid_t)o->uid) < 0)
        goto fail;
    execvpe(o->argv[0], (char *const *)o->argv, o->envp ? (char *const *)o->envp : environ);
fail:;
    int e = errno;
    ssize_t w = write(errfd, &e, sizeof e);
    BAI_UNUSED(w);
    _exit(127);
}

int bai_proc_spawn(bai_loop_t *loop, const bai_proc_opts_t *o, bai_proc_t **out, bai_err_t *err)
{
    if (!o->argv || !o->argv[0])
        return bai_err_make(err, BAI_E_INVAL, 0, "spawn: empty argv");
    int in[2] = {-1, -1}, so[2] = {-1, -1}, se[2] = {-1, -1}, ep[2] = {-1, -1};
    int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
    if (devnull < 0)
        return bai_err_sys(err, "open /dev/null");
    if (pipe2(ep, O_CLOEXEC) < 0 || (o->pipe_stdin && pipe2(in, O_CLOEXEC) < 0) ||
        (o->pipe_stdout == 1 && pipe2(so, O_CLOEXEC) < 0) ||
        (o->pipe_stderr == 1 && pipe2(se, O_CLOEXEC) < 0)) {
        bai_err_sys(err, "spawn: pipe2");
        goto fail;
    }
    int fds[3];
    fds[0] = o->pipe_stdin ? in[0] : devnull;
    fds[1] = o->pipe_stdout == 1 ? so[1] : o->pipe_stdout == 2 ? 1 : devnull;
    fds[2] = o->pipe_stderr == 1   ? se[1]
             : o->pipe_stderr == 2 ? 2
             : o->pipe_stderr == 3 ? fds[1]
                                   : devnull;
    pid_t pid = fork();
    if (pid < 0) {
        bai_err_sys(err, "spawn: fork");
        goto fail;
    }
    if (pid == 0)
        s_child(o, fds, ep[1]);
    close(ep[1]);
    ep[1] = -1;
    int child_errno = 0;
    ssize_t n;
    do {
        n = read(ep[0], &child_errno, sizeof child_errno);
    } while (n < 0 && errno == EINTR);
    if (n == (ssize_t)sizeof child_errno) {
        waitpid(pid, NULL, 0);
        errno = child_errno;
        bai_err_sys(err, "spawn %s", o->argv[0]);
        goto fail;
    }
    close(ep[0]);
    ep[0] = -1;
    close(devnull);
    devnull = -1;

    bai_proc_t *p = bai_xcalloc(1, sizeof(*p));
    p->loop = loop;
    p->pid = pid;
    p->in_fd = -1;
    p->out[0].fd = p->out[1].fd = p->out[2].fd = -1;
    p->out[0].eof = 1;
    p->out[1].eof = o->pipe_stdout != 1;
    p->out[2].eof = o->pipe_stderr != 1;
    if (o->pipe_stdin) {
        close(in[0]);
        p->in_fd = in[1];
        fcntl(p->in_fd, F_SETFL, O_NONBLOCK);
    }
    p->group = o->new_session;
    int watch_rc = 0;
    if (o->pipe_stdout == 1) {
        close(so[1]);
        p->out[1].fd = so[0];
        fcntl(so[0], F_SETFL, O_NONBLOCK);
        watch_rc |= bai_loop_watch(loop, so[0], EPOLLIN, s_on_output, p, err);
    }
    if (o->pipe_stderr == 1) {
        close(se[1]);
        p->out[2].fd = se[0];
        fcntl(se[0], F_SETFL, O_NONBLOCK);
        watch_rc |= bai_loop_watch(loop, se[0], EPOLLIN, s_on_output, p, err);
    }
    p->pidfd = s_pidfd_open(pid);
    if (p->pidfd >= 0) {
        fcntl(p->pidfd, F_SETFD, FD_CLOEXEC);
        watch_rc |= bai_loop_watch(loop, p->pidfd, EPOLLIN, s_on_pidfd, p, err);
    }
    if (watch_rc < 0) {
        /* without its watches nothing would ever complete: give the child up */
        bai_proc_free(&p);
        return -1;
    }
    *out = p;
    return 0;
fail : {
    int fdsall[] = {in[0], in[1], so[0], so[1], se[0], se[1], ep[0], ep[1], devnull};
    for (size_t i = 0; i < BAI_ARRAY_LEN(fdsall); i++)
        if (fdsall[i] >= 0)
            close(fdsall[i]);
}
    return -1;
}

pid_t bai_proc_pid(const bai_proc_t *p)
{
    return p->pid;
}

bai_buf_t *bai_proc_output(bai_proc_t *p, int which, int *eof)
{
    s_stream_t *s = &p->out[which == BAI_PROC_STDERR ? 2 : 1];
    *eof = s->eof;
    return &s->buf;
}

void bai_proc_notify_output(bai_proc_t *p, int which, uint64_t token)
{
    s_stream_t *s = &p->out[which == BAI_PROC_STDERR ? 2 : 1];
    if (s->buf.len > 0 || s->eof)
        bai_loop_complete(p->loop, token);
    else
        s->token = token;
}

int bai_proc_exited(const bai_proc_t *p, int *code, int *signo)
{
    if (!p->exited)
        return 0;
    *code = p->code;
    *signo = p->signo;
    return 1;
}

void bai_proc_notify_exit(bai_proc_t *p, uint64_t token)
{
    if (p->exited) {
        bai_loop_complete(p->loop, token);
        return;
    }
    p->exit_token = token;
    if (p->pidfd < 0)
        s_reap(p); /* no pidfd: poll on each notify (callers retry with a deadline) */
}

int bai_proc_write(bai_proc_t *p, const void *data, size_t n, bai_err_t *err)
{
    if (p->in_fd < 0)
        return bai_err_make(err, BAI_E_CLOSED, EPIPE, "stdin is closed");
    bai_buf_append(&p->inbuf, data, n);
    s_flush_stdin(p);
    return 0;
}

void bai_proc_close_stdin(bai_proc_t *p)
{
    p->in_close_pending = 1;
    if (p->inbuf.len == 0)
        s_close_in(p);
}

int bai_proc_kill(bai_proc_t *p, int signo, int group, bai_err_t *err)
{
    if (p->exited)
        return 0;
    if ((group ? kill(-p->pid, signo) : kill(p->pid, signo)) < 0 && errno != ESRCH)
        return bai_err_sys(err, "kill %d", (int)p->pid);
    return 0;
}

void bai_proc_free(bai_proc_t **pp)
{
    if (!pp || !*pp)
        return;
    bai_proc_t *p = *pp;
    s_close_in(p);
    for (int i = 1; i <= 2; i++) {
        if (p->out[i].fd >= 0) {
            bai_loop_unwatch(p->loop, p->out[i].fd);
            close(p->out[i].fd);
        }
        bai_buf_free(&p->out[i].buf);
    }
    if (!p->exited) {
        kill(p->group ? -p->pid : p->pid, SIGKILL);
        waitpid(p->pid, NULL, 0);
    }
    if (p->pidfd >= 0) {
        bai_loop_unwatch(p->loop, p->pidfd);
        close(p->pidfd);
    }
    free(p);
    *pp = NULL;
}
