/*
 * loop.h — the event loop: one epoll instance, fd watches with C callbacks, a timer
 * heap, signals through a signalfd, and a completion queue of tokens.
 *
 * Context: single-threaded. Callbacks run inside bai_loop_step() and must never call
 * into Lua; they record results and complete tokens. Lua pulls the completed tokens
 * with bai_loop_drain() (through loop_lua.c) and resumes the tasks awaiting them.
 */
#ifndef BAI_LOOP_H
#define BAI_LOOP_H

#ifdef __cplusplus
extern "C" {
#endif

#include "err.h"

#include <stdint.h>
#include <sys/epoll.h>

typedef struct bai_loop_s bai_loop_t;

/** Called when fd becomes ready; events is the epoll event mask that fired. */
typedef void (*bai_io_fn)(bai_loop_t *loop, int fd, uint32_t events, void *ud);
/** Called once when a timer expires. */
typedef void (*bai_timer_fn)(bai_loop_t *loop, uint64_t timer_id, void *ud);

/** Token reserved for "a watched signal arrived" (see bai_loop_signal_watch). */
#define BAI_TOKEN_SIGNAL 1u

/** Create a loop. Returns 0, or -1 with *err set. Free with bai_loop_free(). */
int bai_loop_new(bai_loop_t **out, bai_err_t *err);
/** Close every fd the loop owns (epoll, signalfd), free it and NULL *p. Watches on
 * caller-owned fds are forgotten, not closed. */
void bai_loop_free(bai_loop_t **p);

/** Monotonic clock in seconds. */
double bai_monotonic(void);

/** Watch fd for `events` (EPOLLIN/EPOLLOUT, optionally EPOLLET). Calling it again for
 * the same fd replaces the mask, callback and ud. Returns 0 or -1 with *err. */
int bai_loop_watch(bai_loop_t *loop, int fd, uint32_t events, bai_io_fn fn, void *ud,
                   bai_err_t *err);
/** Stop watching fd (no-op if not watched). Must be called before closing the fd. */
void bai_loop_unwatch(bai_loop_t *loop, int fd);

/** Start a one-shot timer firing after delay seconds; returns its id (never 0). */
uint64_t bai_loop_timer_start(bai_loop_t *loop, double delay, bai_timer_fn fn, void *ud);
/** Stop a pending timer; unknown or fired ids are ignored. */
void bai_loop_timer_stop(bai_loop_t *loop, uint64_t timer_id);

/** A fresh token id (never 0 or BAI_TOKEN_SIGNAL). Tokens are plain numbers: the loop
 * keeps no state for a token until it is completed. */
uint64_t bai_loop_token_new(bai_loop_t *loop);
/** Queue the completion of token for the next drain. */
void bai_loop_complete(bai_loop_t *loop, uint64_t token);
/** Move up to max completed tokens into out; returns how many. */
size_t bai_loop_drain(bai_loop_t *loop, uint64_t *out, size_t max);
/** Number of completions waiting to be drained. */
size_t bai_loop_pending(bai_loop_t *loop);

/** Route signo through the loop's signalfd (the signal is blocked for the process).
 * Each arrival records the signal and completes BAI_TOKEN_SIGNAL. */
int bai_loop_signal_watch(bai_loop_t *loop, int signo, bai_err_t *err);
/** Pop the oldest recorded signal number, or 0 when none is recorded. */
int bai_loop_signal_pop(bai_loop_t *loop);

/** Run due timers, wait up to timeout seconds (negative = until something happens; the
 * wait is cut short by the next timer or by queued completions) and dispatch ready fds.
 * Returns the number of queued completions, or -1 with *err on an epoll failure. */
int bai_loop_step(bai_loop_t *loop, double timeout, bai_err_t *err);

#ifdef __cplusplus
}
#endif

#endif
