/* fs.c — small synchronous filesystem operations; see fs.h. */
#include "fs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#define S_COPY_CHUNK 65536

const char *bai_fs_type_name(int type)
{
    switch (type) {
    case BAI_FS_FILE:
        return "file";
    case BAI_FS_DIR:
        return "dir";
    case BAI_FS_LINK:
        return "link";
    case BAI_FS_FIFO:
        return "fifo";
    case BAI_FS_SOCKET:
        return "socket";
    case BAI_FS_CHAR:
        return "char";
    case BAI_FS_BLOCK:
        return "block";
    default:
        return "unknown";
    }
}

static int s_type_of(mode_t m)
{
    if (S_ISREG(m))
        return BAI_FS_FILE;
    if (S_ISDIR(m))
        return BAI_FS_DIR;
    if (S_ISLNK(m))
        return BAI_FS_LINK;
    if (S_ISFIFO(m))
        return BAI_FS_FIFO;
    if (S_ISSOCK(m))
        return BAI_FS_SOCKET;
    if (S_ISCHR(m))
        return BAI_FS_CHAR;
    if (S_ISBLK(m))
        return BAI_FS_BLOCK;
    return BAI_FS_UNKNOWN;
}

/* write(2) until everything is written; retries EINTR. */
static int s_write_all(int fd, const void *data, size_t len)
{
    const char *p = data;
    while (len > 0) {
        ssize_t w = write(fd, p, len);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        p += w;
        len -= (size_t)w;
    }
    return 0;
}

/* close(2) that keeps errno from an earlier failure intact. */
static void s_close_keep_errno(int fd)
{
    int saved = errno;
    close(fd);
    errno = saved;
}

int bai_fs_mkdir_p(const char *path, mode_t mode, bai_err_t *err)
{
    if (!path || !*path)
        return bai_err_make(err, BAI_E_INVAL, EINVAL, "mkdir_p: empty path");
    cleanup_free char *p = bai_xstrdup(path);
    size_t len = strlen(p);
    while (len > 1 && p[len - 1] == '/')
        p[--len] = '\0';
    /* create each prefix ending just before a '/', then the whole path */
    for (char *s = p + 1;; s++) {
        if (*s != '/' && *s != '\0')
            continue;
        char saved = *s;
        *s = '\0';
        if (mkdir(p, mode) < 0 && errno != EEXIST) {
            /* EACCES/EROFS on a directory that already exists is fine: move on */
            int e = errno;
            struct stat st;
            if (!(stat(p, &st) == 0 && S_ISDIR(st.st_mode))) {
                errno = e;
                return bai_err_sys(err, "mkdir %s", p);
            }
        }
        *s = saved;
        if (saved == '\0')
            break;
    }
    struct stat st;
    if (stat(p, &st) < 0)
        return bai_err_sys(err, "stat %s", p);
    if (!S_ISDIR(st.st_mode)) {
        errno = ENOTDIR;
        return bai_err_sys(err, "mkdir_p %s", p);
    }
    return 0;
}

/* fsync the directory holding path (after a rename into it). */
static int s_fsync_parent(const char *path, bai_err_t *err)
{
    cleanup_free char *dir = bai_xstrdup(path);
    char *slash = strrchr(dir, '/');
    const char *d = ".";
    if (slash == dir)
        d = "/";
    else if (slash) {
        *slash = '\0';
        d = dir;
    }
    int fd = open(d, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return bai_err_sys(err, "open %s", d);
    if (fsync(fd) < 0 && errno != EINVAL) {
        s_close_keep_errno(fd);
        return bai_err_sys(err, "fsync %s", d);
    }
    close(fd);
    return 0;
}

static int s_write_atomic(const char *path, const void *data, size_t len, mode_t mode,
                          bai_err_t *err)
{
    /* temp name: "<dir>/.<base>.XXXXXX" so it lands on the same filesystem */
    const char *slash = strrchr(path, '/');
    const char *base = slash ? slash + 1 : path;
    if (!*base)
        return bai_err_make(err, BAI_E_INVAL, EINVAL, "write_file %s: not a file name", path);
    int dirlen = slash ? (int)(slash - path + 1) : 0;
    char *tmp = NULL;
    if (asprintf(&tmp, "%.*s.%s.XXXXXX", dirlen, path, base) < 0)
        BAI_OOM();
    int fd = mkostemp(tmp, O_CLOEXEC);
    if (fd < 0) {
        int rc = bai_err_sys(err, "write_file %s: create temporary file", path);
        free(tmp);
        return rc;
    }
    const char *what = "write";
    if (s_write_all(fd, data, len) < 0)
        goto fail;
    what = "fchmod";
    if (fchmod(fd, mode) < 0)
        goto fail;
    what = "fsync";
    if (fsync(fd) < 0)
        goto fail;
    what = "close";
    if (close(fd) < 0) {
        fd = -1;
        goto fail;
    }
    fd = -1;
    what = "rename";
    if (rename(tmp, path) < 0)
        goto fail;
    free(tmp);
    return s_fsync_parent(path, err);

fail:;
    int rc = bai_err_sys(err, "write_file %s: %s", path, what);
    if (fd >= 0)
        close(fd);
    unlink(tmp);
    free(tmp);
    return rc;
}

int bai_fs_write_file(const char *path, const void *data, size_t len, mode_t mode, bool atomic,
                      bai_err_t *err)
{
    if (atomic)
        return s_write_atomic(path, data, len, mode, err);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
    if (fd < 0)
        return bai_err_sys(err, "open %s", path);
    if (s_write_all(fd, data, len) < 0 || fchmod(fd, mode) < 0) {
        s_close_keep_errno(fd);
        return bai_err_sys(err, "write_file %s", path);
    }
    if (close(fd) < 0)
        return bai_err_sys(err, "close %s", path);
    return 0;
}

int bai_fs_read_file(const char *path, size_t max_bytes, bai_buf_t *out, bai_err_t *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return bai_err_sys(err, "open %s", path);
    struct stat st;
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && (uint64_t)st.st_size > max_bytes) {
        close(fd);
        return bai_err_make(err, BAI_E_TOOBIG, E2BIG, "read_file %s: %lld bytes exceeds %zu", path,
                            (long long)st.st_size, max_bytes);
    }
    char chunk[S_COPY_CHUNK];
    for (;;) {
        ssize_t r = read(fd, chunk, sizeof(chunk));
        if (r < 0) {
            if (errno == EINTR)
                continue;
            s_close_keep_errno(fd);
            bai_buf_free(out);
            return bai_err_sys(err, "read %s", path);
        }
        if (r == 0)
            break;
        if ((size_t)r > max_bytes - out->len) {
            close(fd);
            bai_buf_free(out);
            return bai_err_make(err, BAI_E_TOOBIG, E2BIG, "read_file %s: more than %zu bytes", path,
                                max_bytes);
        }
        bai_buf_append(out, chunk, (size_t)r);
    }
    close(fd);
    return 0;
}

int bai_fs_append_file(const char *path, const void *data, size_t len, bai_err_t *err)
{
    int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0)
        return bai_err_sys(err, "open %s", path);
    if (s_write_all(fd, data, len) < 0) {
        s_close_keep_errno(fd);
        return bai_err_sys(err, "append %s", path);
    }
    if (close(fd) < 0)
        return bai_err_sys(err, "close %s", path);
    return 0;
}

/* ---- rmtree ------------------------------------------------------------------------- */

/* identity of the mount a directory lives on: mount id when the kernel has it, else dev */
typedef struct {
    bool has_mnt_id;
    uint64_t mnt_id;
    dev_t dev;
} s_mount_id_t;

static int s_statx_at(int dirfd, const char *name, struct statx *stx)
{
    return statx(dirfd, name, AT_SYMLINK_NOFOLLOW | (*name ? 0 : AT_EMPTY_PATH),
                 STATX_TYPE | STATX_MNT_ID, stx);
}

static s_mount_id_t s_mount_of(const struct statx *stx)
{
    s_mount_id_t m = {.has_mnt_id = (stx->stx_mask & STATX_MNT_ID) != 0,
                      .mnt_id = stx->stx_mnt_id,
                      .dev = makedev(stx->stx_dev_major, stx->stx_dev_minor)};
    return m;
}

static bool s_same_mount(const s_mount_id_t *a, const s_mount_id_t *b)
{
    if (a->dev != b->dev)
        return false;
    if (a->has_mnt_id && b->has_mnt_id)
        return a->mnt_id == b->mnt_id;
    return true;
}

/* keep the first error in *first; later ones are dropped */
static void s_keep_first(bai_err_t *first, bai_err_t *e)
{
    if (!*first) {
        *first = *e;
        *e = NULL;
    } else {
        bai_err_release(e);
    }
}

static int s_cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Read all names of an open directory (consumes nothing: dups fd for fdopendir). */
static int s_read_names(int fd, const char *display, char ***names, size_t *n, bai_err_t *err)
{
    int dfd = dup(fd);
    if (dfd < 0)
        return bai_err_sys(err, "dup %s", display);
    /* dup() does not carry O_CLOEXEC; set it so the fd never leaks into children */
    if (fcntl(dfd, F_SETFD, FD_CLOEXEC) < 0) {
        s_close_keep_errno(dfd);
        return bai_err_sys(err, "fcntl %s", display);
    }
    DIR *d = fdopendir(dfd);
    if (!d) {
        s_close_keep_errno(dfd);
        return bai_err_sys(err, "fdopendir %s", display);
    }
    rewinddir(d);
    size_t cap = 16, cnt = 0;
    char **v = bai_xmalloc(cap * sizeof(*v));
    for (;;) {
        errno = 0;
        struct dirent *de = readdir(d);
        if (!de) {
            if (errno != 0) {
                int rc = bai_err_sys(err, "readdir %s", display);
                bai_fs_names_free(v, cnt);
                closedir(d);
                return rc;
            }
            break;
        }
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
            continue;
        if (cnt == cap) {
            cap *= 2;
            v = bai_xrealloc(v, cap * sizeof(*v));
        }
        v[cnt++] = bai_xstrdup(de->d_name);
    }
    closedir(d);
    qsort(v, cnt, sizeof(*v), s_cmp_names);
    *names = v;
    *n = cnt;
    return 0;
}

/* Remove the contents of the directory open as fd (on mount root); errors accumulate. */
static void s_rm_contents(int fd, const char *display, const s_mount_id_t *root, bai_err_t *first)
{
    bai_err_t e = NULL;
    char **names = NULL;
    size_t n = 0;
    if (s_read_names(fd, display, &names, &n, &e) < 0) {
        s_keep_first(first, &e);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        const char *name = names[i];
        struct statx stx;
        if (s_statx_at(fd, name, &stx) < 0) {
            if (errno != ENOENT) {
                bai_err_sys(&e, "stat %s/%s", display, name);
                s_keep_first(first, &e);
            }
            continue;
        }
        if (!S_ISDIR(stx.stx_mode)) {
            if (unlinkat(fd, name, 0) < 0 && errno != ENOENT) {
                bai_err_sys(&e, "unlink %s/%s", display, name);
                s_keep_first(first, &e);
            }
            continue;
        }
        s_mount_id_t m = s_mount_of(&stx);
        if (!s_same_mount(root, &m)) {
            bai_err_make(&e, BAI_E_PERM, EXDEV, "rmtree: %s/%s is on another filesystem", display,
                         name);
            s_keep_first(first, &e);
            continue;
        }
        char *child = NULL;
        if (asprintf(&child, "%s/%s", display, name) < 0)
            BAI_OOM();
        int cfd = openat(fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (cfd < 0) {
            if (errno != ENOENT) {
                bai_err_sys(&e, "open %s", child);
                s_keep_first(first, &e);
            }
            free(child);
            continue;
        }
        /* re-check the mount on the opened fd: the entry may have been swapped */
        struct statx cst;
        if (s_statx_at(cfd, "", &cst) < 0) {
            bai_err_sys(&e, "stat %s", child);
            s_keep_first(first, &e);
        } else {
            m = s_mount_of(&cst);
            if (!s_same_mount(root, &m)) {
                bai_err_make(&e, BAI_E_PERM, EXDEV, "rmtree: %s is on another filesystem", child);
                s_keep_first(first, &e);
            } else {
                s_rm_contents(cfd, child, root, first);
                if (unlinkat(fd, name, AT_REMOVEDIR) < 0 && errno != ENOENT &&
                    !(errno == ENOTEMPTY && *first)) {
                    bai_err_sys(&e, "rmdir %s", child);
                    s_keep_first(first, &e);
                }
            }
        }
        close(cfd);
        free(child);
    }
    bai_fs_names_free(names, n);
}

int bai_fs_rmtree(const char *path, bai_err_t *err)
{
    struct stat st;
    if (lstat(path, &st) < 0) {
        if (errno == ENOENT)
            return 0;
        return bai_err_sys(err, "lstat %s", path);
    }
    if (!S_ISDIR(st.st_mode)) {
        if (unlink(path) < 0 && errno != ENOENT)
            return bai_err_sys(err, "unlink %s", path);
        return 0;
    }
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT)
            return 0;
        if (errno == ELOOP || errno == ENOTDIR) {
            /* replaced by a link or file since lstat: remove just that */
            if (unlink(path) < 0 && errno != ENOENT)
                return bai_err_sys(err, "unlink %s", path);
            return 0;
        }
        return bai_err_sys(err, "open %s", path);
    }
    bai_err_t first = NULL;
    struct statx stx;
    if (s_statx_at(fd, "", &stx) < 0) {
        bai_err_sys(&first, "stat %s", path);
    } else {
        s_mount_id_t root = s_mount_of(&stx);
        s_rm_contents(fd, path, &root, &first);
    }
    close(fd);
    if (!first && rmdir(path) < 0 && errno != ENOENT)
        bai_err_sys(&first, "rmdir %s", path);
    if (first) {
        if (err) {
            bai_err_release(err);
            *err = first;
        } else {
            bai_err_release(&first);
        }
        return -1;
    }
    return 0;
}

/* ---- metadata ----------------------------------------------------------------------- */

int bai_fs_stat(const char *path, bai_fs_stat_t *out, bai_err_t *err)
{
    struct stat st;
    if (lstat(path, &st) < 0)
        return bai_err_sys(err, "lstat %s", path);
    out->type = s_type_of(st.st_mode);
    out->size = (int64_t)st.st_size;
    out->mode = st.st_mode & 07777;
    out->mtime = (double)st.st_mtim.tv_sec + (double)st.st_mtim.tv_nsec / 1e9;
    out->uid = st.st_uid;
    out->gid = st.st_gid;
    return 0;
}

bool bai_fs_exists(const char *path)
{
    struct stat st;
    return lstat(path, &st) == 0;
}

int bai_fs_chmod(const char *path, mode_t mode, bai_err_t *err)
{
    if (chmod(path, mode) < 0)
        return bai_err_sys(err, "chmod %s", path);
    return 0;
}

int bai_fs_chown(const char *path, uid_t uid, gid_t gid, bai_err_t *err)
{
    if (lchown(path, uid, gid) < 0)
        return bai_err_sys(err, "lchown %s", path);
    return 0;
}

int bai_fs_listdir(const char *path, char ***names, size_t *n, bai_err_t *err)
{
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return bai_err_sys(err, "open %s", path);
    int rc = s_read_names(fd, path, names, n, err);
    close(fd);
    return rc;
}

void bai_fs_names_free(char **names, size_t n)
{
    if (!names)
        return;
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
}

int bai_fs_copy_file(const char *src, const char *dst, int mode, bai_err_t *err)
{
    int in = open(src, O_RDONLY | O_CLOEXEC);
    if (in < 0)
        return bai_err_sys(err, "open %s", src);
    struct stat st;
    if (fstat(in, &st) < 0) {
        s_close_keep_errno(in);
        return bai_err_sys(err, "fstat %s", src);
    }
    if (!S_ISREG(st.st_mode)) {
        close(in);
        return bai_err_make(err, BAI_E_INVAL, EINVAL, "copy_file %s: not a regular file", src);
    }
    mode_t m = mode < 0 ? (st.st_mode & 07777) : (mode_t)mode;
    int out = open(dst, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (out < 0) {
        s_close_keep_errno(in);
        return bai_err_sys(err, "open %s", dst);
    }
    char chunk[S_COPY_CHUNK];
    for (;;) {
        ssize_t r = read(in, chunk, sizeof(chunk));
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            int rc = bai_err_sys(err, "read %s", src);
            close(in);
            close(out);
            return rc;
        }
        if (r == 0)
            break;
        if (s_write_all(out, chunk, (size_t)r) < 0) {
            int rc = bai_err_sys(err, "write %s", dst);
            close(in);
            close(out);
            return rc;
        }
    }
    close(in);
    if (fchmod(out, m) < 0) {
        s_close_keep_errno(out);
        return bai_err_sys(err, "fchmod %s", dst);
    }
    if (close(out) < 0)
        return bai_err_sys(err, "close %s", dst);
    return 0;
}

char *bai_fs_realpath(const char *path, bai_err_t *err)
{
    char *p = realpath(path, NULL);
    if (!p) {
        if (errno == ENOMEM)
            BAI_OOM();
        bai_err_sys(err, "realpath %s", path);
    }
    return p;
}

char *bai_fs_mkdtemp(const char *tmpl, bai_err_t *err)
{
    size_t len = strlen(tmpl);
    if (len < 6 || strcmp(tmpl + len - 6, "XXXXXX") != 0) {
        bai_err_make(err, BAI_E_INVAL, EINVAL, "mkdtemp %s: template must end in XXXXXX", tmpl);
        return NULL;
    }
    char *p = bai_xstrdup(tmpl);
    if (!mkdtemp(p)) {
        bai_err_sys(err, "mkdtemp %s", tmpl);
        free(p);
        return NULL;
    }
    return p;
}
