/* test_fs.c — core/fs.c: mkdir_p, atomic writes, bounded reads, symlink-safe rmtree. */
#include "fs.h"
#include "tap.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

/* a fresh directory per test; removed by the test itself */
static char *s_tmpdir(void)
{
    const char *base = getenv("TMPDIR");
    char *tmpl = NULL;
    if (asprintf(&tmpl, "%s/bai-test-fs.XXXXXX", base && *base ? base : "/tmp") < 0)
        abort();
    if (!mkdtemp(tmpl)) {
        free(tmpl);
        return NULL;
    }
    return tmpl;
}

static char *s_join(const char *a, const char *b)
{
    char *p = NULL;
    if (asprintf(&p, "%s/%s", a, b) < 0)
        abort();
    return p;
}

static int t_mkdir_p(void)
{
    bai_err_t err = NULL;
    cleanup_free char *dir = s_tmpdir();
    TAP_CHECK(dir);
    cleanup_free char *deep = s_join(dir, "a/b/c/");
    TAP_CHECK(bai_fs_mkdir_p(deep, 0755, &err) == 0);
    TAP_CHECK(err == NULL);
    bai_fs_stat_t st;
    TAP_CHECK(bai_fs_stat(deep, &st, &err) == 0);
    TAP_CHECK(st.type == BAI_FS_DIR);
    /* existing directory is fine */
    TAP_CHECK(bai_fs_mkdir_p(deep, 0755, &err) == 0);
    /* a file in the way is not */
    cleanup_free char *file = s_join(dir, "a/f");
    TAP_CHECK(bai_fs_write_file(file, "x", 1, 0644, false, &err) == 0);
    cleanup_free char *under = s_join(dir, "a/f/g");
    TAP_CHECK(bai_fs_mkdir_p(under, 0755, &err) == -1);
    TAP_CHECK(err && err->sys == ENOTDIR);
    bai_err_release(&err);
    TAP_CHECK(bai_fs_mkdir_p(file, 0755, &err) == -1);
    TAP_CHECK(err && err->sys == ENOTDIR);
    bai_err_release(&err);
    TAP_CHECK(bai_fs_rmtree(dir, &err) == 0);
    return TAP_PASS;
}

static int t_atomic_write_read(void)
{
    bai_err_t err = NULL;
    cleanup_free char *dir = s_tmpdir();
    TAP_CHECK(dir);
    cleanup_free char *path = s_join(dir, "state.json");
    const char *v1 = "{\"a\":1}";
    const char *v2 = "{\"a\":2,\"b\":[1,2,3]}";
    TAP_CHECK(bai_fs_write_file(path, v1, strlen(v1), 0600, true, &err) == 0);
    TAP_CHECK(bai_fs_write_file(path, v2, strlen(v2), 0640, true, &err) == 0);
    bai_buf_t b = {0};
    TAP_CHECK(bai_fs_read_file(path, SIZE_MAX, &b, &err) == 0);
    TAP_CHECK(b.len == strlen(v2) && memcmp(b.data, v2, b.len) == 0);
    bai_buf_free(&b);
    bai_fs_stat_t st;
    TAP_CHECK(bai_fs_stat(path, &st, &err) == 0);
    TAP_CHECK(st.type == BAI_FS_FILE);
    TAP_CHECK(st.mode == 0640);
    TAP_CHECK(st.size == (int64_t)strlen(v2));
    /* no temporary files left behind */
    char **names = NULL;
    size_t n = 0;
    TAP_CHECK(bai_fs_listdir(dir, &names, &n, &err) == 0);
    TAP_CHECK(n == 1 && strcmp(names[0], "state.json") == 0);
    bai_fs_names_free(names, n);
    /* append */
    TAP_CHECK(bai_fs_append_file(path, "!", 1, &err) == 0);
    TAP_CHECK(bai_fs_read_file(path, SIZE_MAX, &b, &err) == 0);
    TAP_CHECK(b.len == strlen(v2) + 1 && b.data[b.len - 1] == '!');
    bai_buf_free(&b);
    TAP_CHECK(bai_fs_rmtree(dir, &err) == 0);
    return TAP_PASS;
}

static int t_read_limits(void)
{
    bai_err_t err = NULL;
    cleanup_free char *dir = s_tmpdir();
    TAP_CHECK(dir);
    cleanup_free char *path = s_join(dir, "f");
    TAP_CHECK(bai_fs_write_file(path, "0123456789", 10, 0644, false, &err) == 0);
    bai_buf_t b = {0};
    TAP_CHECK(bai_fs_read_file(path, 9, &b, &err) == -1);
    TAP_CHECK(err && err->code == BAI_E_TOOBIG);
    TAP_CHECK(b.data == NULL && b.len == 0);
    bai_err_release(&err);
    TAP_CHECK(bai_fs_read_file(path, 10, &b, &err) == 0);
    TAP_CHECK(b.len == 10);
    bai_buf_free(&b);
    cleanup_free char *missing = s_join(dir, "missing");
    TAP_CHECK(bai_fs_read_file(missing, SIZE_MAX, &b, &err) == -1);
    TAP_CHECK(err && err->code == BAI_E_NOENT && err->sys == ENOENT);
    bai_err_release(&err);
    TAP_CHECK(bai_fs_rmtree(dir, &err) == 0);
    return TAP_PASS;
}

static int t_rmtree_no_follow(void)
{
    bai_err_t err = NULL;
    cleanup_free char *outside = s_tmpdir();
    cleanup_free char *dir = s_tmpdir();
    TAP_CHECK(outside && dir);
    cleanup_free char *keep = s_join(outside, "keep.txt");
    TAP_CHECK(bai_fs_write_file(keep, "precious", 8, 0644, true, &err) == 0);
    cleanup_free char *sub = s_join(dir, "x/y");
    TAP_CHECK(bai_fs_mkdir_p(sub, 0755, &err) == 0);
    cleanup_free char *f = s_join(dir, "x/y/file");
    TAP_CHECK(bai_fs_write_file(f, "data", 4, 0400, false, &err) == 0);
    /* a link to the outside dir, one to the file, and one dangling */
    cleanup_free char *l1 = s_join(dir, "x/link-dir");
    cleanup_free char *l2 = s_join(dir, "x/y/link-file");
    cleanup_free char *l3 = s_join(dir, "dangling");
    TAP_CHECK(symlink(outside, l1) == 0);
    TAP_CHECK(symlink(keep, l2) == 0);
    TAP_CHECK(symlink("/nonexistent/nowhere", l3) == 0);
    bai_fs_stat_t st;
    TAP_CHECK(bai_fs_stat(l1, &st, &err) == 0 && st.type == BAI_FS_LINK);
    TAP_CHECK(bai_fs_rmtree(dir, &err) == 0);
    TAP_CHECK(err == NULL);
    TAP_CHECK(!bai_fs_exists(dir));
    TAP_CHECK(bai_fs_exists(keep));
    bai_buf_t b = {0};
    TAP_CHECK(bai_fs_read_file(keep, SIZE_MAX, &b, &err) == 0);
    TAP_CHECK(b.len == 8 && memcmp(b.data, "precious", 8) == 0);
    bai_buf_free(&b);
    /* a symlink as the root is removed itself, not its target */
    cleanup_free char *rootlink = s_join(outside, "rootlink");
    cleanup_free char *target = s_join(outside, "target");
    TAP_CHECK(bai_fs_mkdir_p(target, 0755, &err) == 0);
    TAP_CHECK(symlink(target, rootlink) == 0);
    TAP_CHECK(bai_fs_rmtree(rootlink, &err) == 0);
    TAP_CHECK(!bai_fs_exists(rootlink) && bai_fs_exists(target));
    /* missing path is success */
    TAP_CHECK(bai_fs_rmtree(dir, &err) == 0);
    TAP_CHECK(bai_fs_rmtree(outside, &err) == 0);
    TAP_CHECK(!bai_fs_exists(outside));
    return TAP_PASS;
}

static int t_rmtree_other_fs(void)
{
    bai_err_t err = NULL;
    cleanup_free char *dir = s_tmpdir();
    TAP_CHECK(dir);
    cleanup_free char *mnt = s_join(dir, "sub/mnt");
    TAP_CHECK(bai_fs_mkdir_p(mnt, 0755, &err) == 0);
    if (mount("bai-test", mnt, "tmpfs", 0, "size=1m") < 0) {
        TAP_DIAG("cannot mount tmpfs (%s); skipping", strerror(errno));
        bai_fs_rmtree(dir, &err);
        bai_err_release(&err);
        return TAP_SKIP;
    }
    cleanup_free char *inside = s_join(mnt, "keep");
    cleanup_free char *other = s_join(dir, "sub/other");
    int rc = TAP_PASS;
    if (bai_fs_write_file(inside, "k", 1, 0644, false, &err) < 0 ||
        bai_fs_write_file(other, "o", 1, 0644, false, &err) < 0)
        rc = TAP_FAIL;
    /* the mount is not descended into: an EXDEV error, its content survives, the rest goes */
    if (rc == TAP_PASS && bai_fs_rmtree(dir, &err) != -1)
        rc = TAP_FAIL;
    if (rc == TAP_PASS && !(err && err->code == BAI_E_PERM && err->sys == EXDEV))
        rc = TAP_FAIL;
    if (rc == TAP_PASS && (!bai_fs_exists(inside) || bai_fs_exists(other)))
        rc = TAP_FAIL;
    bai_err_release(&err);
    umount2(mnt, MNT_DETACH);
    if (bai_fs_rmtree(dir, &err) < 0)
        rc = TAP_FAIL;
    bai_err_release(&err);
    return rc;
}

static int t_stat_listdir_misc(void)
{
    bai_err_t err = NULL;
    cleanup_free char *dir = s_tmpdir();
    TAP_CHECK(dir);
    const char *names_in[] = {"b", "a", "c.txt"};
    for (size_t i = 0; i < 3; i++) {
        cleanup_free char *p = s_join(dir, names_in[i]);
        TAP_CHECK(bai_fs_write_file(p, "", 0, 0644, true, &err) == 0);
    }
    char **names = NULL;
    size_t n = 0;
    TAP_CHECK(bai_fs_listdir(dir, &names, &n, &err) == 0);
    TAP_CHECK(n == 3);
    TAP_CHECK(!strcmp(names[0], "a") && !strcmp(names[1], "b") && !strcmp(names[2], "c.txt"));
    bai_fs_names_free(names, n);
    cleanup_free char *missing = s_join(dir, "nope");
    bai_fs_stat_t st;
    TAP_CHECK(bai_fs_stat(missing, &st, &err) == -1);
    TAP_CHECK(err && err->code == BAI_E_NOENT);
    bai_err_release(&err);
    TAP_CHECK(bai_fs_listdir(missing, &names, &n, &err) == -1);
    TAP_CHECK(err && err->code == BAI_E_NOENT);
    bai_err_release(&err);
    /* copy_file keeps content and applies the mode */
    cleanup_free char *src = s_join(dir, "src");
    cleanup_free char *dst = s_join(dir, "dst");
    TAP_CHECK(bai_fs_write_file(src, "hello", 5, 0600, false, &err) == 0);
    TAP_CHECK(bai_fs_copy_file(src, dst, 0751, &err) == 0);
    TAP_CHECK(bai_fs_stat(dst, &st, &err) == 0 && st.mode == 0751 && st.size == 5);
    TAP_CHECK(bai_fs_chmod(dst, 0600, &err) == 0);
    TAP_CHECK(bai_fs_stat(dst, &st, &err) == 0 && st.mode == 0600);
    TAP_CHECK(bai_fs_chown(dst, (uid_t)-1, (gid_t)-1, &err) == 0);
    /* realpath and mkdtemp */
    cleanup_free char *rp = bai_fs_realpath(dir, &err);
    TAP_CHECK(rp && rp[0] == '/');
    cleanup_free char *tmpl = s_join(dir, "sub.XXXXXX");
    cleanup_free char *made = bai_fs_mkdtemp(tmpl, &err);
    TAP_CHECK(made && bai_fs_stat(made, &st, &err) == 0 && st.type == BAI_FS_DIR);
    TAP_CHECK(bai_fs_mkdtemp("/tmp/no-x", &err) == NULL);
    TAP_CHECK(err && err->code == BAI_E_INVAL);
    bai_err_release(&err);
    TAP_CHECK(bai_fs_rmtree(dir, &err) == 0);
    return TAP_PASS;
}

static const tap_test_t tests[] = {
    {"mkdir_p creates parents, accepts an existing dir, rejects a file", t_mkdir_p},
    {"atomic write then read back, mode exact, no temp left", t_atomic_write_read},
    {"read_file fails with E2BIG over max_bytes and ENOENT when missing", t_read_limits},
    {"rmtree never follows symlinks; the outside target survives", t_rmtree_no_follow},
    {"rmtree does not descend into another mount and reports EXDEV", t_rmtree_other_fs},
    {"stat, listdir sorted, copy_file, chmod, realpath, mkdtemp", t_stat_listdir_misc},
};

TAP_MAIN(tests)
