/* fs_lua.c — luaopen_bai_fs: thin binding of core/fs.c ("bai.core.fs"). */
#include "bai_lua.h"
#include "fs.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* A mode argument: an integer, or a string of octal digits such as "0644". */
static mode_t s_check_mode(lua_State *L, int idx, mode_t def)
{
    if (lua_isnoneornil(L, idx))
        return def;
    if (lua_type(L, idx) == LUA_TSTRING) {
        const char *s = lua_tostring(L, idx);
        char *end = NULL;
        long v = strtol(s, &end, 8);
        if (!*s || *end || v < 0 || v > 07777)
            luaL_argerror(L, idx, "mode must be octal digits, e.g. \"0644\"");
        return (mode_t)v;
    }
    lua_Integer v = luaL_checkinteger(L, idx);
    if (v < 0 || v > 07777)
        luaL_argerror(L, idx, "mode out of range 0..07777");
    return (mode_t)v;
}

static int s_push_ok(lua_State *L, int rc, bai_err_t *err)
{
    if (rc < 0)
        return bai_lua_push_err(L, err);
    lua_pushboolean(L, 1);
    return 1;
}

/* Lua: fs.mkdir_p(path [, mode=0755]) -> true | nil, err */
static int l_fs_mkdir_p(lua_State *L)
{
    const char *path = luaL_checkstring(L, 1);
    mode_t mode = s_check_mode(L, 2, 0755);
    bai_err_t err = NULL;
    return s_push_ok(L, bai_fs_mkdir_p(path, mode, &err), &err);
}

/* Lua: fs.write_file(path, data [, {mode=0644, atomic=true}]) -> true | nil, err */
static int l_fs_write_file(lua_State *L)
{
    const char *path = luaL_checkstring(L, 1);
    size_t len;
    const char *data = luaL_checklstring(L, 2, &len);
    mode_t mode = 0644;
    bool atomic = true;
    if (!lua_isnoneornil(L, 3)) {
        luaL_checktype(L, 3, LUA_TTABLE);
        lua_getfield(L, 3, "mode");
        mode = s_check_mode(L, lua_gettop(L), 0644);
        lua_getfield(L, 3, "atomic");
        if (!lua_isnil(L, -1))
            atomic = lua_toboolean(L, -1);
        lua_pop(L, 2);
    }
    bai_err_t err = NULL;
    return s_push_ok(L, bai_fs_write_file(path, data, len, mode, atomic, &err), &err);
}

/* Lua: fs.read_file(path [, max_bytes]) -> data | nil, err (ENOENT, E2BIG, ...) */
static int l_fs_read_file(lua_State *L)
{
    const char *path = luaL_checkstring(L, 1);
    size_t max = SIZE_MAX;
    if (!lua_isnoneornil(L, 2)) {
        lua_Number n = luaL_checknumber(L, 2);
        if (n < 0)
            luaL_argerror(L, 2, "max_bytes must be >= 0");
        max = n >= (lua_Number)SIZE_MAX ? SIZE_MAX : (size_t)n;
    }
    bai_buf_t b = {0};
    bai_err_t err = NULL;
    if (bai_fs_read_file(path, max, &b, &err) < 0)
        return bai_lua_push_err(L, &err);
    lua_pushlstring(L, b.data ? b.data : "", b.len);
    bai_buf_free(&b);
    return 1;
}

/* Lua: fs.append_file(path, data) -> true | nil, err */
static int l_fs_append_file(lua_State *L)
{
    const char *path = luaL_checkstring(L, 1);
    size_t len;
    const char *data = luaL_checklstring(L, 2, &len);
    bai_err_t err = NULL;
    return s_push_ok(L, bai_fs_append_file(path, data, len, &err), &err);
}

/* Lua: fs.rmtree(path) -> true | nil, err */
static int l_fs_rmtree(lua_State *L)
{
    const char *path = luaL_checkstring(L, 1);
    bai_err_t err = NULL;
    return s_push_ok(L, bai_fs_rmtree(path, &err), &err);
}

/* Lua: fs.stat(path) -> {type, size, mode, mtime, uid, gid} | nil, err (lstat) */
static int l_fs_stat(lua_State *L)
{
    const char *path = luaL_checkstring(L, 1);
    bai_fs_stat_t st;
    bai_err_t err = NULL;
    if (bai_fs_stat(path, &st, &err) < 0)
        return bai_lua_push_err(L, &err);
    lua_createtable(L, 0, 6);
    lua_pushstring(L, bai_fs_type_name(st.type));
    lua_setfield(L, -2, "type");
    lua_pushnumber(L, (lua_Number)st.size);
    lua_setfield(L, -2, "size");
    lua_pushinteger(L, (lua_Integer)st.mode);
    lua_setfield(L, -2, "mode");
    lua_pushnumber(L, st.mtime);
    lua_setfield(L, -2, "mtime");
    lua_pushnumber(L, (lua_Number)st.uid);
    lua_setfield(L, -2, "uid");
    lua_pushnumber(L, (lua_Number)st.gid);
    lua_setfield(L, -2, "gid");
    return 1;
}

/* Lua: fs.exists(path) -> boolean (a dangling symlink exists) */
static int l_fs_exists(lua_State *L)
{
    lua_pushboolean(L, bai_fs_exists(luaL_checkstring(L, 1)));
    return 1;
}

/* Lua: fs.chmod(path, mode) -> true | nil, err */
static int l_fs_chmod(lua_State *L)
{
    const char *path = luaL_checkstring(L, 1);
    luaL_checkany(L, 2);
    mode_t mode = s_check_mode(L, 2, 0);
    bai_err_t err = NULL;
    return s_push_ok(L, bai_fs_chmod(path, mode, &err), &err);
}

static uint32_t s_check_id(lua_State *L, int idx)
{
    if (lua_isnoneornil(L, idx))
        return (uint32_t)-1;
    lua_Number n = luaL_checknumber(L, idx);
    if (n < -1 || n > 4294967295.0)
        luaL_argerror(L, idx, "id out of range");
    return n < 0 ? (uint32_t)-1 : (uint32_t)n;
}

/* Lua: fs.chown(path, uid, gid) -> true | nil, err (lchown; nil or -1 keeps an id) */
static int l_fs_chown(lua_State *L)
{
    const char *path = luaL_checkstring(L, 1);
    uid_t uid = (uid_t)s_check_id(L, 2);
    gid_t gid = (gid_t)s_check_id(L, 3);
    bai_err_t err = NULL;
    return s_push_ok(L, bai_fs_chown(path, uid, gid, &err), &err);
}

/* Lua: fs.listdir(path) -> sorted array of names | nil, err */
static int l_fs_listdir(lua_State *L)
{
    const char *path = luaL_checkstring(L, 1);
    char **names = NULL;
    size_t n = 0;
    bai_err_t err = NULL;
    if (bai_fs_listdir(path, &names, &n, &err) < 0)
        return bai_lua_push_err(L, &err);
    lua_createtable(L, (int)n, 0);
    for (size_t i = 0; i < n; i++) {
        lua_pushstring(L, names[i]);
        lua_rawseti(L, -2, (int)i + 1);
    }
    bai_fs_names_free(names, n);
    return 1;
}

/* Lua: fs.copy_file(src, dst [, mode]) -> true | nil, err (mode defaults to src's) */
static int l_fs_copy_file(lua_State *L)
{
    const char *src = luaL_checkstring(L, 1);
    const char *dst = luaL_checkstring(L, 2);
    int mode = lua_isnoneornil(L, 3) ? -1 : (int)s_check_mode(L, 3, 0);
    bai_err_t err = NULL;
    return s_push_ok(L, bai_fs_copy_file(src, dst, mode, &err), &err);
}

static int s_push_owned_string(lua_State *L, char *s, bai_err_t *err)
{
    if (!s)
        return bai_lua_push_err(L, err);
    lua_pushstring(L, s);
    free(s);
    return 1;
}

/* Lua: fs.realpath(path) -> absolute path | nil, err */
static int l_fs_realpath(lua_State *L)
{
    bai_err_t err = NULL;
    char *p = bai_fs_realpath(luaL_checkstring(L, 1), &err);
    return s_push_owned_string(L, p, &err);
}

/* Lua: fs.mkdtemp(template) -> path of the new directory | nil, err */
static int l_fs_mkdtemp(lua_State *L)
{
    bai_err_t err = NULL;
    char *p = bai_fs_mkdtemp(luaL_checkstring(L, 1), &err);
    return s_push_owned_string(L, p, &err);
}

int luaopen_bai_fs(lua_State *L)
{
    static const luaL_Reg fns[] = {
        {"mkdir_p", l_fs_mkdir_p},     {"write_file", l_fs_write_file},
        {"read_file", l_fs_read_file}, {"append_file", l_fs_append_file},
        {"rmtree", l_fs_rmtree},       {"stat", l_fs_stat},
        {"exists", l_fs_exists},       {"chmod", l_fs_chmod},
        {"chown", l_fs_chown},         {"listdir", l_fs_listdir},
        {"copy_file", l_fs_copy_file}, {"realpath", l_fs_realpath},
        {"mkdtemp", l_fs_mkdtemp},     {NULL, NULL},
    };
    lua_newtable(L);
    bai_lua_setfuncs(L, fns);
    return 1;
}
