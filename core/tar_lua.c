/* tar_lua.c — luaopen_bai_tar: thin binding of core/tar.c ("bai.core.tar"). */
#include "bai_lua.h"
#include "tar.h"

#include <stdint.h>
#include <string.h>
#include <time.h>

/* An optional non-negative size limit at stack index idx; absent means no limit. */
static size_t s_opt_limit(lua_State *L, int idx, const char *what)
{
    if (lua_isnoneornil(L, idx))
        return SIZE_MAX;
    if (!lua_isnumber(L, idx))
        luaL_error(L, "%s must be a number", what);
    lua_Number n = lua_tonumber(L, idx);
    if (n < 0)
        luaL_error(L, "%s must be >= 0", what);
    return n >= (lua_Number)SIZE_MAX ? SIZE_MAX : (size_t)n;
}

/* Read entry field `key` of the table at idx as an integer, or def when absent. */
static int64_t s_int_field(lua_State *L, int idx, size_t i, const char *key, int64_t def)
{
    lua_getfield(L, idx, key);
    int64_t v = def;
    if (lua_type(L, -1) == LUA_TSTRING && !strcmp(key, "mode")) {
        const char *s = lua_tostring(L, -1);
        char *end = NULL;
        v = strtol(s, &end, 8);
        if (!*s || *end)
            luaL_error(L, "tar.pack: entry %d: mode must be octal digits", (int)i);
    } else if (!lua_isnil(L, -1)) {
        if (!lua_isnumber(L, -1))
            luaL_error(L, "tar.pack: entry %d: %s must be a number", (int)i, key);
        v = (int64_t)lua_tonumber(L, -1);
    }
    lua_pop(L, 1);
    return v;
}

/* Read entry field `key` as a string (borrowed from the table), or NULL when absent. */
static const char *s_str_field(lua_State *L, int idx, size_t i, const char *key, size_t *len)
{
    lua_getfield(L, idx, key);
    const char *s = NULL;
    if (!lua_isnil(L, -1)) {
        if (lua_type(L, -1) != LUA_TSTRING)
            luaL_error(L, "tar.pack: entry %d: %s must be a string", (int)i, key);
        s = lua_tolstring(L, -1, len);
    }
    /* the string stays alive: the entries table still references it */
    lua_pop(L, 1);
    return s;
}

/* Lua: tar.pack(entries) -> tar bytes | nil, err
 * entries: array of {name=, type="file"|"dir"|"link", data=, target=, mode=, mtime=,
 *                    uid=, gid=} */
static int l_tar_pack(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TTABLE);
    size_t n = lua_objlen(L, 1);
    /* a userdata, not malloc: the field readers may raise, and the GC then frees it */
    bai_tar_entry_t *entries = lua_newuserdata(L, (n ? n : 1) * sizeof(*entries));
    memset(entries, 0, (n ? n : 1) * sizeof(*entries));
    int64_t now = (int64_t)time(NULL);
    for (size_t i = 0; i < n; i++) {
        lua_rawgeti(L, 1, (int)i + 1);
        int idx = lua_gettop(L);
        if (!lua_istable(L, idx)) {
            return luaL_error(L, "tar.pack: entry %d is not a table", (int)i + 1);
        }
        bai_tar_entry_t *e = &entries[i];
        size_t len = 0;
        const char *type = s_str_field(L, idx, i + 1, "type", &len);
        if (!type || !strcmp(type, "file"))
            e->type = BAI_TAR_FILE;
        else if (!strcmp(type, "dir"))
            e->type = BAI_TAR_DIR;
        else if (!strcmp(type, "link"))
            e->type = BAI_TAR_SYMLINK;
        else {
            return luaL_error(L, "tar.pack: entry %d: unknown type '%s'", (int)i + 1, type);
        }
        e->name = s_str_field(L, idx, i + 1, "name", &len);
        if (!e->name) {
            return luaL_error(L, "tar.pack: entry %d has no name", (int)i + 1);
        }
        e->data = s_str_field(L, idx, i + 1, "data", &e->len);
        e->target = s_str_field(L, idx, i + 1, "target", &len);
        int64_t defmode = e->type == BAI_TAR_FILE ? 0644 : e->type == BAI_TAR_DIR ? 0755 : 0777;
        int64_t mode = s_int_field(L, idx, i + 1, "mode", defmode);
        if (mode < 0 || mode > 07777) {
            return luaL_error(L, "tar.pack: entry %d: mode out of range", (int)i + 1);
        }
        e->mode = (mode_t)mode;
        e->mtime = s_int_field(L, idx, i + 1, "mtime", now);
        e->uid = s_int_field(L, idx, i + 1, "uid", 0);
        e->gid = s_int_field(L, idx, i + 1, "gid", 0);
        lua_pop(L, 1);
    }
    bai_buf_t out = {0};
    bai_err_t err = NULL;
    if (bai_tar_pack(entries, n, &out, &err) < 0)
        return bai_lua_push_err(L, &err);
    lua_pushlstring(L, out.data ? out.data : "", out.len);
    bai_buf_free(&out);
    return 1;
}

/* Lua: tar.list(bytes [, {max_bytes=, data=true}]) -> array of
 *      {name, type, size, mode, mtime, target?, data?} | nil, err (EARCHIVE, E2BIG) */
static int l_tar_list(lua_State *L)
{
    size_t len;
    const char *buf = luaL_checklstring(L, 1, &len);
    size_t max = SIZE_MAX;
    bool with_data = true;
    if (!lua_isnoneornil(L, 2)) {
        luaL_checktype(L, 2, LUA_TTABLE);
        lua_getfield(L, 2, "max_bytes");
        max = s_opt_limit(L, -1, "opts.max_bytes");
        lua_getfield(L, 2, "data");
        if (!lua_isnil(L, -1))
            with_data = lua_toboolean(L, -1);
        lua_pop(L, 2);
    }
    bai_tar_list_t l = {0};
    bai_err_t err = NULL;
    if (bai_tar_list(buf, len, with_data, max, &l, &err) < 0)
        return bai_lua_push_err(L, &err);
    lua_createtable(L, (int)l.n, 0);
    for (size_t i = 0; i < l.n; i++) {
        const bai_tar_item_t *it = &l.items[i];
        lua_createtable(L, 0, 7);
        lua_pushstring(L, it->name);
        lua_setfield(L, -2, "name");
        lua_pushstring(L, bai_tar_type_name(it->type));
        lua_setfield(L, -2, "type");
        lua_pushnumber(L, (lua_Number)it->size);
        lua_setfield(L, -2, "size");
        lua_pushinteger(L, (lua_Integer)it->mode);
        lua_setfield(L, -2, "mode");
        lua_pushnumber(L, (lua_Number)it->mtime);
        lua_setfield(L, -2, "mtime");
        if (it->target) {
            lua_pushstring(L, it->target);
            lua_setfield(L, -2, "target");
        }
        if (it->data) {
            lua_pushlstring(L, it->data, it->len);
            lua_setfield(L, -2, "data");
        }
        lua_rawseti(L, -2, (int)i + 1);
    }
    bai_tar_list_free(&l);
    return 1;
}

/* Lua: tar.gzip(bytes [, level]) -> gzip bytes | nil, err */
static int l_tar_gzip(lua_State *L)
{
    size_t len;
    const char *buf = luaL_checklstring(L, 1, &len);
    int level = (int)luaL_optinteger(L, 2, 0);
    luaL_argcheck(L, level >= 0 && level <= 9, 2, "level must be 0..9");
    bai_buf_t out = {0};
    bai_err_t err = NULL;
    if (bai_tar_gzip(buf, len, level, &out, &err) < 0)
        return bai_lua_push_err(L, &err);
    lua_pushlstring(L, out.data ? out.data : "", out.len);
    bai_buf_free(&out);
    return 1;
}

/* Lua: tar.gunzip(bytes [, max_bytes]) -> bytes | nil, err (EARCHIVE, E2BIG) */
static int l_tar_gunzip(lua_State *L)
{
    size_t len;
    const char *buf = luaL_checklstring(L, 1, &len);
    size_t max = s_opt_limit(L, 2, "max_bytes");
    bai_buf_t out = {0};
    bai_err_t err = NULL;
    if (bai_tar_gunzip(buf, len, max, &out, &err) < 0)
        return bai_lua_push_err(L, &err);
    lua_pushlstring(L, out.data ? out.data : "", out.len);
    bai_buf_free(&out);
    return 1;
}

int luaopen_bai_tar(lua_State *L)
{
    static const luaL_Reg fns[] = {
        {"pack", l_tar_pack},     {"list", l_tar_list}, {"gzip", l_tar_gzip},
        {"gunzip", l_tar_gunzip}, {NULL, NULL},
    };
    lua_newtable(L);
    bai_lua_setfuncs(L, fns);
    return 1;
}
