/* tar.c — in-memory tar and gzip through libarchive; see tar.h. */
#include "tar.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <string.h>

#define S_READ_CHUNK 65536

const char *bai_tar_type_name(int type)
{
    switch (type) {
    case BAI_TAR_FILE:
        return "file";
    case BAI_TAR_DIR:
        return "dir";
    case BAI_TAR_SYMLINK:
        return "link";
    case BAI_TAR_HARDLINK:
        return "hardlink";
    default:
        return "other";
    }
}

/* libarchive write callback: append to the bai_buf_t passed as client data */
static la_ssize_t s_buf_write(struct archive *a, void *client, const void *p, size_t n)
{
    BAI_UNUSED(a);
    bai_buf_append(client, p, n);
    return (la_ssize_t)n;
}

static int s_archive_err(bai_err_t *err, struct archive *a, const char *what)
{
    const char *msg = archive_error_string(a);
    return bai_err_make(err, BAI_E_ARCHIVE, archive_errno(a) > 0 ? archive_errno(a) : 0, "%s: %s",
                        what, msg ? msg : "libarchive error");
}

static int s_check_entry(const bai_tar_entry_t *e, size_t i, bai_err_t *err)
{
    if (!e->name || !*e->name)
        return bai_err_make(err, BAI_E_INVAL, EINVAL, "tar pack: entry %zu has no name", i + 1);
    if (e->type != BAI_TAR_FILE && e->type != BAI_TAR_DIR && e->type != BAI_TAR_SYMLINK)
        return bai_err_make(err, BAI_E_INVAL, EINVAL, "tar pack: %s: unsupported entry type",
                            e->name);
    if (e->type == BAI_TAR_SYMLINK && (!e->target || !*e->target))
        return bai_err_make(err, BAI_E_INVAL, EINVAL, "tar pack: %s: symlink without target",
                            e->name);
    if (e->type == BAI_TAR_FILE && e->len > 0 && !e->data)
        return bai_err_make(err, BAI_E_INVAL, EINVAL, "tar pack: %s: no data", e->name);
    return 0;
}

int bai_tar_pack(const bai_tar_entry_t *entries, size_t n, bai_buf_t *out, bai_err_t *err)
{
    for (size_t i = 0; i < n; i++)
        if (s_check_entry(&entries[i], i, err) < 0)
            return -1;
    struct archive *a = archive_write_new();
    if (!a)
        BAI_OOM();
    struct archive_entry *ae = archive_entry_new();
    if (!ae)
        BAI_OOM();
    int rc = 0;
    if (archive_write_set_format_pax_restricted(a) != ARCHIVE_OK ||
        archive_write_open(a, out, NULL, s_buf_write, NULL) != ARCHIVE_OK) {
        rc = s_archive_err(err, a, "tar pack");
        goto done;
    }
    for (size_t i = 0; i < n; i++) {
        const bai_tar_entry_t *e = &entries[i];
        archive_entry_clear(ae);
        archive_entry_set_pathname(ae, e->name);
        archive_entry_set_perm(ae, e->mode & 07777);
        archive_entry_set_mtime(ae, (time_t)e->mtime, 0);
        archive_entry_set_uid(ae, e->uid);
        archive_entry_set_gid(ae, e->gid);
        switch (e->type) {
        case BAI_TAR_FILE:
            archive_entry_set_filetype(ae, AE_IFREG);
            archive_entry_set_size(ae, (la_int64_t)e->len);
            break;
        case BAI_TAR_DIR:
            archive_entry_set_filetype(ae, AE_IFDIR);
            archive_entry_set_size(ae, 0);
            break;
        default:
            archive_entry_set_filetype(ae, AE_IFLNK);
            archive_entry_set_symlink(ae, e->target);
            archive_entry_set_size(ae, 0);
            break;
        }
        if (archive_write_header(a, ae) < ARCHIVE_WARN) {
            rc = s_archive_err(err, a, e->name);
            bai_err_wrap(err, "tar pack");
            goto done;
        }
        if (e->type == BAI_TAR_FILE && e->len > 0) {
            la_ssize_t w = archive_write_data(a, e->data, e->len);
            if (w < 0 || (size_t)w != e->len) {
                rc = s_archive_err(err, a, e->name);
                bai_err_wrap(err, "tar pack");
                goto done;
            }
        }
    }
    if (archive_write_close(a) != ARCHIVE_OK)
        rc = s_archive_err(err, a, "tar pack");
done:
    archive_entry_free(ae);
    archive_write_free(a);
    if (rc < 0) {
        bai_buf_free(out); /* the error already names "tar pack" */
        return -1;
    }
    return 0;
}

static int s_type_of(struct archive_entry *ae)
{
    if (archive_entry_hardlink(ae))
        return BAI_TAR_HARDLINK;
    switch (archive_entry_filetype(ae)) {
    case AE_IFREG:
        return BAI_TAR_FILE;
    case AE_IFDIR:
        return BAI_TAR_DIR;
    case AE_IFLNK:
        return BAI_TAR_SYMLINK;
    default:
        return BAI_TAR_OTHER;
    }
}

/* Copy the current entry's data into item, keeping *total within max. */
static int s_read_data(struct archive *a, bai_tar_item_t *item, size_t *total, size_t max,
                       bai_err_t *err)
{
    bai_buf_t b = {0};
    char chunk[S_READ_CHUNK];
    for (;;) {
        la_ssize_t r = archive_read_data(a, chunk, sizeof(chunk));
        if (r < 0) {
            bai_buf_free(&b);
            return s_archive_err(err, a, item->name);
        }
        if (r == 0)
            break;
        if ((size_t)r > max - *total) {
            bai_buf_free(&b);
            return bai_err_make(err, BAI_E_TOOBIG, E2BIG,
                                "tar list: %s: extracted data exceeds %zu bytes", item->name, max);
        }
        *total += (size_t)r;
        bai_buf_append(&b, chunk, (size_t)r);
    }
    /* keep a NUL-terminated, non-NULL buffer even for empty files */
    bai_buf_append(&b, "", 1);
    item->data = b.data;
    item->len = b.len - 1;
    return 0;
}

int bai_tar_list(const void *buf, size_t len, bool with_data, size_t max_bytes, bai_tar_list_t *out,
                 bai_err_t *err)
{
    struct archive *a = archive_read_new();
    if (!a)
        BAI_OOM();
    bai_tar_list_t l = {0};
    size_t cap = 0, total = 0;
    int rc = 0;
    archive_read_support_filter_gzip(a);
    archive_read_support_format_tar(a);
    if (archive_read_open_memory(a, buf, len) != ARCHIVE_OK) {
        rc = s_archive_err(err, a, "tar list");
        goto done;
    }
    for (;;) {
        struct archive_entry *ae;
        int r = archive_read_next_header(a, &ae);
        if (r == ARCHIVE_EOF)
            break;
        if (r < ARCHIVE_WARN) {
            rc = s_archive_err(err, a, "tar list");
            goto done;
        }
        if (l.n == cap) {
            cap = cap ? cap * 2 : 16;
            l.items = bai_xrealloc(l.items, cap * sizeof(*l.items));
        }
        bai_tar_item_t *it = &l.items[l.n++];
        memset(it, 0, sizeof(*it));
        const char *name = archive_entry_pathname(ae);
        it->name = bai_xstrdup(name ? name : "");
        it->type = s_type_of(ae);
        it->size = archive_entry_size_is_set(ae) ? archive_entry_size(ae) : 0;
        it->mode = archive_entry_perm(ae) & 07777;
        it->mtime = archive_entry_mtime(ae);
        const char *target = it->type == BAI_TAR_HARDLINK  ? archive_entry_hardlink(ae)
                             : it->type == BAI_TAR_SYMLINK ? archive_entry_symlink(ae)
                                                           : NULL;
        if (target)
            it->target = bai_xstrdup(target);
        if (with_data && it->type == BAI_TAR_FILE) {
            if (it->size > 0 && (uint64_t)it->size > max_bytes - total) {
                rc = bai_err_make(err, BAI_E_TOOBIG, E2BIG,
                                  "tar list: %s: extracted data exceeds %zu bytes", it->name,
                                  max_bytes);
                goto done;
            }
            if (s_read_data(a, it, &total, max_bytes, err) < 0) {
                rc = -1;
                goto done;
            }
        }
    }
done:
    archive_read_free(a);
    if (rc < 0) {
        bai_tar_list_free(&l);
        return -1;
    }
    *out = l;
    return 0;
}

void bai_tar_list_free(bai_tar_list_t *list)
{
    for (size_t i = 0; i < list->n; i++) {
        free(list->items[i].name);
        free(list->items[i].target);
        free(list->items[i].data);
    }
    free(list->items);
    list->items = NULL;
    list->n = 0;
}

int bai_tar_gzip(const void *buf, size_t len, int level, bai_buf_t *out, bai_err_t *err)
{
    if (level < 0 || level > 9)
        return bai_err_make(err, BAI_E_INVAL, EINVAL, "gzip: level %d not in 0..9", level);
    struct archive *a = archive_write_new();
    if (!a)
        BAI_OOM();
    struct archive_entry *ae = archive_entry_new();
    if (!ae)
        BAI_OOM();
    int rc = 0;
    char lv[4];
    snprintf(lv, sizeof(lv), "%d", level);
    /* the raw format writes one entry's bytes as-is; blocking off so no padding follows
     * the gzip stream */
    if (archive_write_set_format_raw(a) != ARCHIVE_OK ||
        archive_write_add_filter_gzip(a) != ARCHIVE_OK ||
        (level > 0 &&
         archive_write_set_filter_option(a, "gzip", "compression-level", lv) != ARCHIVE_OK) ||
        archive_write_set_bytes_per_block(a, 0) != ARCHIVE_OK ||
        archive_write_open(a, out, NULL, s_buf_write, NULL) != ARCHIVE_OK) {
        rc = s_archive_err(err, a, "gzip");
        goto done;
    }
    archive_entry_set_pathname(ae, "data");
    archive_entry_set_filetype(ae, AE_IFREG);
    archive_entry_set_size(ae, (la_int64_t)len);
    if (archive_write_header(a, ae) < ARCHIVE_WARN) {
        rc = s_archive_err(err, a, "gzip");
        goto done;
    }
    if (len > 0) {
        la_ssize_t w = archive_write_data(a, buf, len);
        if (w < 0 || (size_t)w != len) {
            rc = s_archive_err(err, a, "gzip");
            goto done;
        }
    }
    if (archive_write_close(a) != ARCHIVE_OK)
        rc = s_archive_err(err, a, "gzip");
done:
    archive_entry_free(ae);
    archive_write_free(a);
    if (rc < 0)
        bai_buf_free(out);
    return rc;
}

int bai_tar_gunzip(const void *buf, size_t len, size_t max_bytes, bai_buf_t *out, bai_err_t *err)
{
    struct archive *a = archive_read_new();
    if (!a)
        BAI_OOM();
    int rc = 0;
    struct archive_entry *ae;
    archive_read_support_filter_gzip(a);
    archive_read_support_format_raw(a);
    archive_read_support_format_empty(a); /* raw needs one byte; gzip of "" has none */
    if (archive_read_open_memory(a, buf, len) != ARCHIVE_OK) {
        rc = s_archive_err(err, a, "gunzip");
        goto done;
    }
    int r = archive_read_next_header(a, &ae);
    if (r < ARCHIVE_WARN) {
        rc = s_archive_err(err, a, "gunzip");
        goto done;
    }
    /* the raw format accepts anything; insist the gzip filter was actually engaged */
    if (archive_filter_code(a, 0) != ARCHIVE_FILTER_GZIP) {
        rc = bai_err_make(err, BAI_E_ARCHIVE, 0, "gunzip: not gzip data");
        goto done;
    }
    if (r == ARCHIVE_EOF)
        goto done; /* gzip of nothing: the raw reader finds no entry */
    char chunk[S_READ_CHUNK];
    for (;;) {
        la_ssize_t n = archive_read_data(a, chunk, sizeof(chunk));
        if (n < 0) {
            rc = s_archive_err(err, a, "gunzip");
            goto done;
        }
        if (n == 0)
            break;
        if ((size_t)n > max_bytes - out->len) {
            rc = bai_err_make(err, BAI_E_TOOBIG, E2BIG, "gunzip: output exceeds %zu bytes",
                              max_bytes);
            goto done;
        }
        bai_buf_append(out, chunk, (size_t)n);
    }
done:
    archive_read_free(a);
    if (rc < 0)
        bai_buf_free(out);
    return rc;
}
