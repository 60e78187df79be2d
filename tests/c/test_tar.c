/* test_tar.c — core/tar.c: pack/list round trip, limits, malformed input, gzip. */
#include "tar.h"
#include "tap.h"

#include <string.h>

static int t_round_trip(void)
{
    bai_err_t err = NULL;
    const bai_tar_entry_t in[] = {
        {.name = "dir", .type = BAI_TAR_DIR, .mode = 0755, .mtime = 1700000000},
        {.name = "dir/hello.txt",
         .type = BAI_TAR_FILE,
         .data = "hello, world\n",
         .len = 13,
         .mode = 0640,
         .mtime = 1700000001},
        {.name = "empty", .type = BAI_TAR_FILE, .mode = 0600, .mtime = 1},
        {.name = "dir/link", .type = BAI_TAR_SYMLINK, .target = "hello.txt", .mode = 0777},
    };
    bai_buf_t tar = {0};
    TAP_CHECK(bai_tar_pack(in, 4, &tar, &err) == 0);
    TAP_CHECK(tar.len > 0 && tar.len % 512 == 0);
    bai_tar_list_t l = {0};
    TAP_CHECK(bai_tar_list(tar.data, tar.len, true, SIZE_MAX, &l, &err) == 0);
    TAP_CHECK(l.n == 4);
    TAP_CHECK(strcmp(l.items[0].name, "dir") == 0 || strcmp(l.items[0].name, "dir/") == 0);
    TAP_CHECK(l.items[0].type == BAI_TAR_DIR && l.items[0].mode == 0755);
    TAP_CHECK(l.items[0].mtime == 1700000000 && l.items[0].data == NULL);
    TAP_CHECK(strcmp(l.items[1].name, "dir/hello.txt") == 0);
    TAP_CHECK(l.items[1].type == BAI_TAR_FILE && l.items[1].size == 13);
    TAP_CHECK(l.items[1].mode == 0640 && l.items[1].mtime == 1700000001);
    TAP_CHECK(l.items[1].len == 13 && memcmp(l.items[1].data, "hello, world\n", 13) == 0);
    TAP_CHECK(l.items[2].type == BAI_TAR_FILE && l.items[2].len == 0 && l.items[2].data);
    TAP_CHECK(l.items[3].type == BAI_TAR_SYMLINK);
    TAP_CHECK(strcmp(l.items[3].target, "hello.txt") == 0);
    bai_tar_list_free(&l);
    /* without data */
    TAP_CHECK(bai_tar_list(tar.data, tar.len, false, 0, &l, &err) == 0);
    TAP_CHECK(l.n == 4 && l.items[1].data == NULL && l.items[1].size == 13);
    bai_tar_list_free(&l);
    /* gzip-compressed tar lists the same */
    bai_buf_t gz = {0};
    TAP_CHECK(bai_tar_gzip(tar.data, tar.len, 0, &gz, &err) == 0);
    TAP_CHECK(gz.len > 2 && (unsigned char)gz.data[0] == 0x1f);
    TAP_CHECK(bai_tar_list(gz.data, gz.len, true, SIZE_MAX, &l, &err) == 0);
    TAP_CHECK(l.n == 4 && l.items[1].len == 13);
    bai_tar_list_free(&l);
    bai_buf_free(&gz);
    bai_buf_free(&tar);
    return TAP_PASS;
}

static int t_max_bytes(void)
{
    bai_err_t err = NULL;
    char big[3000];
    memset(big, 'x', sizeof(big));
    const bai_tar_entry_t in[] = {
        {.name = "a", .type = BAI_TAR_FILE, .data = big, .len = 2000, .mode = 0644},
        {.name = "b", .type = BAI_TAR_FILE, .data = big, .len = 1000, .mode = 0644},
    };
    bai_buf_t tar = {0};
    TAP_CHECK(bai_tar_pack(in, 2, &tar, &err) == 0);
    bai_tar_list_t l = {0};
    TAP_CHECK(bai_tar_list(tar.data, tar.len, true, 2999, &l, &err) == -1);
    TAP_CHECK(err && err->code == BAI_E_TOOBIG);
    TAP_CHECK(l.n == 0 && l.items == NULL);
    bai_err_release(&err);
    TAP_CHECK(bai_tar_list(tar.data, tar.len, true, 3000, &l, &err) == 0);
    TAP_CHECK(l.n == 2);
    bai_tar_list_free(&l);
    /* the limit only counts extracted data */
    TAP_CHECK(bai_tar_list(tar.data, tar.len, false, 10, &l, &err) == 0);
    bai_tar_list_free(&l);
    bai_buf_free(&tar);
    return TAP_PASS;
}

static int t_garbage(void)
{
    bai_err_t err = NULL;
    bai_tar_list_t l = {0};
    char junk[1024];
    for (size_t i = 0; i < sizeof(junk); i++)
        junk[i] = (char)(i * 37 + 11);
    TAP_CHECK(bai_tar_list(junk, sizeof(junk), true, SIZE_MAX, &l, &err) == -1);
    TAP_CHECK(err && err->code == BAI_E_ARCHIVE);
    bai_err_release(&err);
    TAP_CHECK(bai_tar_list("hello", 5, true, SIZE_MAX, &l, &err) == -1);
    TAP_CHECK(err && err->code == BAI_E_ARCHIVE);
    bai_err_release(&err);
    /* a truncated archive */
    const bai_tar_entry_t in[] = {
        {.name = "f", .type = BAI_TAR_FILE, .data = junk, .len = sizeof(junk), .mode = 0644},
    };
    bai_buf_t tar = {0};
    TAP_CHECK(bai_tar_pack(in, 1, &tar, &err) == 0);
    TAP_CHECK(bai_tar_list(tar.data, 700, true, SIZE_MAX, &l, &err) == -1);
    TAP_CHECK(err && err->code == BAI_E_ARCHIVE);
    bai_err_release(&err);
    bai_buf_free(&tar);
    /* invalid entries are refused */
    const bai_tar_entry_t bad[] = {{.name = "", .type = BAI_TAR_FILE}};
    TAP_CHECK(bai_tar_pack(bad, 1, &tar, &err) == -1);
    TAP_CHECK(err && err->code == BAI_E_INVAL);
    bai_err_release(&err);
    return TAP_PASS;
}

static int t_gzip(void)
{
    bai_err_t err = NULL;
    const char *text = "the quick brown fox jumps over the lazy dog, again and again";
    bai_buf_t gz = {0}, back = {0};
    TAP_CHECK(bai_tar_gzip(text, strlen(text), 9, &gz, &err) == 0);
    TAP_CHECK(bai_tar_gunzip(gz.data, gz.len, SIZE_MAX, &back, &err) == 0);
    TAP_CHECK(back.len == strlen(text) && memcmp(back.data, text, back.len) == 0);
    bai_buf_free(&back);
    TAP_CHECK(bai_tar_gunzip(gz.data, gz.len, 10, &back, &err) == -1);
    TAP_CHECK(err && err->code == BAI_E_TOOBIG);
    bai_err_release(&err);
    TAP_CHECK(bai_tar_gunzip(text, strlen(text), SIZE_MAX, &back, &err) == -1);
    TAP_CHECK(err && err->code == BAI_E_ARCHIVE);
    bai_err_release(&err);
    bai_buf_free(&gz);
    TAP_CHECK(bai_tar_gzip("", 0, 0, &gz, &err) == 0);
    TAP_CHECK(bai_tar_gunzip(gz.data, gz.len, SIZE_MAX, &back, &err) == 0);
    TAP_CHECK(back.len == 0);
    bai_buf_free(&back);
    bai_buf_free(&gz);
    return TAP_PASS;
}

static const tap_test_t tests[] = {
    {"pack then list round-trips names, types, modes, mtimes and data", t_round_trip},
    {"list fails with E2BIG when extracted data would exceed max_bytes", t_max_bytes},
    {"list fails with EARCHIVE on garbage and truncated input", t_garbage},
    {"gzip and gunzip round-trip; gunzip bounds and rejects non-gzip", t_gzip},
};

TAP_MAIN(tests)
