/*
 * bai.h — definitions shared by every part of the C core.
 *
 * Thread context: the whole agent is one thread; nothing here is thread-safe and
 * nothing needs to be.
 */
#ifndef BAI_H
#define BAI_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#define BAI_VERSION "0.1.0"

#define BAI_LIKELY(x) __builtin_expect(!!(x), 1)
#define BAI_UNLIKELY(x) __builtin_expect(!!(x), 0)
#define BAI_UNUSED(x) (void)(x)
#define BAI_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* Out of memory is not an expected failure: abort with a message (crun's OOM()). */
#define BAI_OOM()                                                                                  \
    do {                                                                                           \
        fprintf(stderr, "bai-agent: out of memory at %s:%d\n", __FILE__, __LINE__);                \
        abort();                                                                                   \
    } while (0)

/** malloc/calloc/realloc/strdup that abort on failure instead of returning NULL. */
void *bai_xmalloc(size_t n);
void *bai_xcalloc(size_t n, size_t size);
void *bai_xrealloc(void *p, size_t n);
char *bai_xstrdup(const char *s);
char *bai_xstrndup(const char *s, size_t n);

/* Growable byte buffer used wherever C collects data for Lua to pull later. */
typedef struct {
    char *data;
    size_t len;
    size_t cap;
} bai_buf_t;

/** Append n bytes; grows the buffer, aborting on OOM. */
void bai_buf_append(bai_buf_t *b, const void *p, size_t n);
/** Drop the first n bytes (n <= len). */
void bai_buf_consume(bai_buf_t *b, size_t n);
/** Free the storage and reset to empty. */
void bai_buf_free(bai_buf_t *b);

static inline void bai_freep(void *p)
{
    free(*(void **)p);
}
#define cleanup_free __attribute__((cleanup(bai_freep)))

#endif
