/*
 * proc.h — child processes on the event loop: fork/exec with optional pipes for
 * stdin/stdout/stderr, exit noticed through a pidfd, output collected by loop
 * callbacks into buffers that the caller pulls.
 *
 * Context: loop thread only. Completion is signalled by tokens (see loop.h).
 */
#ifndef BAI_PROC_H
#define BAI_PROC_H

#include "loop.h"

#include <sys/types.h>

typedef struct bai_proc_s bai_proc_t;

typedef struct {
    const char *const *argv; /* argv[0] is looked up in PATH */
    const char *const *envp; /* NULL: inherit the agent's environment */
    const char *cwd;         /* NULL: inherit */
    int pipe_stdin;          /* 1: a pipe the caller writes; 0: /dev/null */
    int pipe_stdout;         /* 1: captured; 0: /dev/null; 2: inherit */
    int pipe_stderr;         /* 1: captured; 0: /dev/null; 2: inherit; 3: same as stdout */
    int new_session;         /* setsid() in the child: its own process group */
    int uid, gid;            /* >= 0: switch credentials in the child (gid first) */
} bai_proc_opts_t;

enum { BAI_PROC_STDOUT = 1, BAI_PROC_STDERR = 2 };

/** Spawn a child. Returns 0 and *out, or -1 with *err (exec failures are reported here,
 * not as an exit code). Free with bai_proc_free(). */
int bai_proc_spawn(bai_loop_t *loop, const bai_proc_opts_t *opts, bai_proc_t **out, bai_err_t *err);

/** The child's pid. */
pid_t bai_proc_pid(const bai_proc_t *p);

/** Buffered output of stream `which`: returns the buffer (caller may consume from it),
 * and sets *eof once the stream has ended. */
bai_buf_t *bai_proc_output(bai_proc_t *p, int which, int *eof);

/** Arrange for `token` to complete when stream `which` has data or ends. */
void bai_proc_notify_output(bai_proc_t *p, int which, uint64_t token);

/** Whether the child has exited; fills exit code (or -1) and terminating signal (or 0). */
int bai_proc_exited(const bai_proc_t *p, int *code, int *signo);

/** Arrange for `token` to complete when the child exits. */
void bai_proc_notify_exit(bai_proc_t *p, uint64_t token);

/** Queue data for the child's stdin (written as the pipe accepts it). */
int bai_proc_write(bai_proc_t *p, const void *data, size_t n, bai_err_t *err);

/** Close stdin once queued data has been written. */
void bai_proc_close_stdin(bai_proc_t *p);

/** Send a signal to the child (group != 0: to its process group). */
int bai_proc_kill(bai_proc_t *p, int signo, int group, bai_err_t *err);

/** Stop watching, close every fd, kill (SIGKILL; its whole group with new_session) and
 * reap a child still running, free and NULL *pp. */
void bai_proc_free(bai_proc_t **pp);

#endif
