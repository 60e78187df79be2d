/*
 * tar.h — in-memory tar archives through libarchive: build a small tar from a list of
 * entries (for Docker's "put archive"), list/extract a tar held in memory (from Docker's
 * "get archive") with a bound on the extracted bytes, and gzip/gunzip of a buffer.
 *
 * Synchronous and purely in memory; call from the loop thread only. Malformed input
 * fails with BAI_E_ARCHIVE, size limits with BAI_E_TOOBIG.
 */
#ifndef BAI_TAR_H
#define BAI_TAR_H

#include "err.h"

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

/* Entry types. */
enum {
    BAI_TAR_OTHER = 0, /* anything else (devices, fifos): listed, never packed */
    BAI_TAR_FILE,
    BAI_TAR_DIR,
    BAI_TAR_SYMLINK,
    BAI_TAR_HARDLINK,
};

/* One entry to pack. All pointers are borrowed for the duration of the call. */
typedef struct {
    const char *name;   /* path inside the archive; non-empty */
    int type;           /* BAI_TAR_FILE, BAI_TAR_DIR or BAI_TAR_SYMLINK */
    const void *data;   /* file content (files only) */
    size_t len;         /* length of data */
    const char *target; /* link target (symlinks only) */
    mode_t mode;        /* permission bits */
    int64_t mtime;      /* seconds since the epoch */
    int64_t uid, gid;   /* owner ids */
} bai_tar_entry_t;

/* One listed entry; strings and data are owned by the bai_tar_list_t. */
typedef struct {
    char *name;
    int type;     /* BAI_TAR_* */
    int64_t size; /* size recorded in the header */
    mode_t mode;  /* permission bits */
    int64_t mtime;
    char *target; /* link target (symlinks and hardlinks), else NULL */
    char *data;   /* file content when requested (files only), else NULL */
    size_t len;   /* length of data */
} bai_tar_item_t;

typedef struct {
    bai_tar_item_t *items;
    size_t n;
} bai_tar_list_t;

/** Stable name of a BAI_TAR_* type: "file", "dir", "link", "hardlink" or "other". */
const char *bai_tar_type_name(int type);

/**
 * Write the entries as a pax-restricted (ustar-compatible) tar into out, which the
 * caller initialises to {0} and frees with bai_buf_free (freed on failure too). Invalid
 * entries fail with BAI_E_INVAL, libarchive failures with BAI_E_ARCHIVE.
 */
int bai_tar_pack(const bai_tar_entry_t *entries, size_t n, bai_buf_t *out, bai_err_t *err);

/**
 * Parse the tar (plain or gzip-compressed) in buf and fill *out (free it with
 * bai_tar_list_free; on failure it is left empty). With with_data, file contents are
 * copied out, and the call fails with BAI_E_TOOBIG before the total would exceed
 * max_bytes (SIZE_MAX: no limit). A malformed or truncated archive fails with
 * BAI_E_ARCHIVE.
 */
int bai_tar_list(const void *buf, size_t len, bool with_data, size_t max_bytes, bai_tar_list_t *out,
                 bai_err_t *err);

/** Free the items of a list and reset it to empty. Safe on an empty list. */
void bai_tar_list_free(bai_tar_list_t *list);

/** Gzip buf into out (caller-initialised, caller frees; freed on failure). level is
 *  1-9, or 0 for the library default. */
int bai_tar_gzip(const void *buf, size_t len, int level, bai_buf_t *out, bai_err_t *err);

/** Decompress the gzip data in buf into out (as above). Fails with BAI_E_ARCHIVE when
 *  buf is not gzip and BAI_E_TOOBIG when the result would exceed max_bytes. */
int bai_tar_gunzip(const void *buf, size_t len, size_t max_bytes, bai_buf_t *out, bai_err_t *err);

#endif
