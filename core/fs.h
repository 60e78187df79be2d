/*
 * fs.h — small synchronous filesystem operations for scratch directories and state
 * files: mkdir -p, atomic writes, bounded reads, a symlink-safe rmtree, lstat, listing.
 *
 * Everything here blocks on the local filesystem and is meant for small files and
 * trees the agent owns; call from the loop thread only (the agent has one thread), never
 * for large payloads. Errors go through bai_err_sys, so ENOENT / EEXIST / EPERM surface as
 * BAI_E_NOENT / BAI_E_EXIST / BAI_E_PERM with the errno kept in err->sys.
 */
#ifndef BAI_FS_H
#define BAI_FS_H

#include "err.h"

#include <stdbool.h>
#include <sys/types.h>

/* File types reported by bai_fs_stat. */
enum {
    BAI_FS_UNKNOWN = 0,
    BAI_FS_FILE,
    BAI_FS_DIR,
    BAI_FS_LINK,
    BAI_FS_FIFO,
    BAI_FS_SOCKET,
    BAI_FS_CHAR,
    BAI_FS_BLOCK,
};

typedef struct {
    int type;     /* BAI_FS_* */
    int64_t size; /* st_size (for a link: length of the target) */
    mode_t mode;  /* permission bits only (07777) */
    double mtime; /* seconds since the epoch, with nanoseconds */
    uid_t uid;
    gid_t gid;
} bai_fs_stat_t;

/** Stable name of a BAI_FS_* type: "file", "dir", "link", "fifo", "socket", "char",
 *  "block" or "unknown". Returns a static string. */
const char *bai_fs_type_name(int type);

/** Create a directory and any missing parents (mode is subject to the umask). An
 *  existing directory is success; an existing non-directory fails with ENOTDIR. */
int bai_fs_mkdir_p(const char *path, mode_t mode, bai_err_t *err);

/**
 * Write len bytes to path, replacing it, and set its permission bits to exactly mode
 * (the umask does not apply). With atomic, the data goes to a temporary file in the same
 * directory which is fsynced and renamed over path, then the directory is fsynced:
 * readers see either the old or the new content, never a partial file. On failure the
 * temporary file is removed.
 */
int bai_fs_write_file(const char *path, const void *data, size_t len, mode_t mode, bool atomic,
                      bai_err_t *err);

/**
 * Read the whole file into out (which the caller initialises to {0} and frees with
 * bai_buf_free; on failure out is freed). Fails with BAI_E_TOOBIG when the file holds
 * more than max_bytes (SIZE_MAX: no limit).
 */
int bai_fs_read_file(const char *path, size_t max_bytes, bai_buf_t *out, bai_err_t *err);

/** Append len bytes to path, creating it with mode 0644 (less the umask) if missing. */
int bai_fs_append_file(const char *path, const void *data, size_t len, bai_err_t *err);

/**
 * Remove path and everything below it, like rm -rf, without ever following a symlink
 * (a link is removed, never its target) and without descending into a directory on
 * another mount: such a directory is left in place and the call fails with BAI_E_PERM
 * (sys EXDEV) after removing everything else it can. A missing path is success. On other
 * failures it still removes what it can and reports the first error.
 */
int bai_fs_rmtree(const char *path, bai_err_t *err);

/** lstat(2): fill *st; a missing path fails with BAI_E_NOENT. */
int bai_fs_stat(const char *path, bai_fs_stat_t *st, bai_err_t *err);

/** True if something (anything, even a dangling symlink) exists at path. */
bool bai_fs_exists(const char *path);

/** chmod(2) (follows symlinks). */
int bai_fs_chmod(const char *path, mode_t mode, bai_err_t *err);

/** lchown(2): changes a symlink itself, never its target. Pass -1 to keep an id. */
int bai_fs_chown(const char *path, uid_t uid, gid_t gid, bai_err_t *err);

/**
 * List the names in a directory (without "." and ".."), sorted bytewise. On success
 * *names is a heap array of *n heap strings; free it with bai_fs_names_free.
 */
int bai_fs_listdir(const char *path, char ***names, size_t *n, bai_err_t *err);

/** Free an array returned by bai_fs_listdir. Safe on NULL. */
void bai_fs_names_free(char **names, size_t n);

/** Copy the content of the regular file src to dst (created or truncated), then set
 *  dst's permission bits to mode, or to src's when mode is negative. Not atomic. */
int bai_fs_copy_file(const char *src, const char *dst, int mode, bai_err_t *err);

/** realpath(3). Returns a heap string the caller frees, or NULL with *err set. */
char *bai_fs_realpath(const char *path, bai_err_t *err);

/** mkdtemp(3) on a copy of tmpl, which must end in "XXXXXX" (else BAI_E_INVAL). Returns
 *  the created directory's path as a heap string the caller frees, or NULL. */
char *bai_fs_mkdtemp(const char *tmpl, bai_err_t *err);

#endif
