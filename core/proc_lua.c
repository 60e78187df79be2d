/* proc_lua.c — luaopen_bai_proc: child processes (see proc.h). Pull-style: read()
 * returns data, false at end of stream, or a token to await. */
#include "bai_lua.h"
#include "proc.h"

#include <string.h>

#define PROC_MT "bai.proc.process"

typedef struct {
    bai_proc_t *p;
} l_proc_t;

static bai_proc_t *s_check(lua_State *L)
{
    l_proc_t *u = luaL_checkudata(L, 1, PROC_MT);
    if (!u->p)
        luaL_error(L, "bai.proc: process handle is closed");
    return u->p;
}

/* Collect a Lua array of strings (or, for env, a map and/or "K=V" list) into a
 * NULL-terminated vector. The vector (a userdata) and the strings built for map entries
 * (kept in an anchor table) are left on the stack, which keeps them alive until the
 * calling C function returns. */
static const char **s_strv(lua_State *L, int idx, int env)
{
    size_t n = 0;
    lua_pushnil(L);
    while (lua_next(L, idx)) {
        n++;
        lua_pop(L, 1);
    }
    const char **v = lua_newuserdata(L, (n + 1) * sizeof(char *));
    size_t i = 0;
    if (!env) {
        for (i = 0; i < n; i++) {
            lua_rawgeti(L, idx, (int)i + 1);
            v[i] = luaL_checkstring(L, -1);
            lua_pop(L, 1); /* strings stay alive: the table holds them */
        }
    } else {
        lua_newtable(L); /* anchor for "K=V" strings built from map entries */
        int anchor = lua_gettop(L);
        lua_pushnil(L);
        while (lua_next(L, idx)) {
            if (lua_type(L, -2) == LUA_TNUMBER) {
                v[i++] = luaL_checkstring(L, -1);
            } else {
                lua_pushfstring(L, "%s=%s", lua_tostring(L, -2), luaL_checkstring(L, -1));
                v[i++] = lua_tostring(L, -1);
                lua_rawseti(L, anchor, (int)i);
            }
            lua_pop(L, 1);
        }
    }
    v[i] = NULL;
    return v;
}

static int s_mode(lua_State *L, int opts, const char *key, int dflt)
{
    lua_getfield(L, opts, key);
    int m = dflt;
    if (lua_isstring(L, -1)) {
        const char *s = lua_tostring(L, -1);
        m = !strcmp(s, "pipe") ? 1 : !strcmp(s, "inherit") ? 2 : !strcmp(s, "stdout") ? 3 : 0;
    } else if (lua_isboolean(L, -1)) {
        m = lua_toboolean(L, -1);
    }
    lua_pop(L, 1);
    return m;
}

/* spawn(argv, opts) -> process | nil, err */
static int l_proc_spawn(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TTABLE);
    if (lua_isnoneornil(L, 2)) {
        lua_settop(L, 1);
        lua_newtable(L);
    }
    luaL_checktype(L, 2, LUA_TTABLE);
    bai_proc_opts_t o = {.uid = -1, .gid = -1};
    o.argv = s_strv(L, 1, 0);
    lua_getfield(L, 2, "env");
    if (lua_istable(L, -1))
        o.envp = s_strv(L, lua_gettop(L), 1);
    lua_getfield(L, 2, "cwd");
    o.cwd = lua_tostring(L, -1);
    o.pipe_stdin = s_mode(L, 2, "stdin", 0);
    o.pipe_stdout = s_mode(L, 2, "stdout", 1);
    o.pipe_stderr = s_mode(L, 2, "stderr", 1);
    lua_getfield(L, 2, "new_session");
    o.new_session = lua_toboolean(L, -1);
    lua_getfield(L, 2, "uid");
    if (lua_isnumber(L, -1))
        o.uid = (int)lua_tointeger(L, -1);
    lua_getfield(L, 2, "gid");
    if (lua_isnumber(L, -1))
        o.gid = (int)lua_tointeger(L, -1);

    bai_err_t err = NULL;
    bai_proc_t *p = NULL;
    if (bai_proc_spawn(bai_lua_loop(L), &o, &p, &err) < 0)
        return bai_lua_push_err(L, &err);
    l_proc_t *u = lua_newuserdata(L, sizeof(*u));
    u->p = p;
    luaL_getmetatable(L, PROC_MT);
    lua_setmetatable(L, -2);
    return 1;
}

/* p:read("stdout"|"stderr") -> data | false (ended) | token */
static int l_proc_read(lua_State *L)
{
    bai_proc_t *p = s_check(L);
    const char *which = luaL_optstring(L, 2, "stdout");
    int w = strcmp(which, "stderr") == 0 ? BAI_PROC_STDERR : BAI_PROC_STDOUT;
    int eof = 0;
    bai_buf_t *b = bai_proc_output(p, w, &eof);
    if (b->len > 0) {
        lua_pushlstring(L, b->data, b->len);
        b->len = 0;
        return 1;
    }
    if (eof) {
        lua_pushboolean(L, 0);
        return 1;
    }
    uint64_t tok = bai_loop_token_new(bai_lua_loop(L));
    bai_proc_notify_output(p, w, tok);
    lua_pushnumber(L, (lua_Number)tok);
    return 1;
}

/* p:status() -> nil (running) | code, signal */
static int l_proc_status(lua_State *L)
{
    bai_proc_t *p = s_check(L);
    int code, signo;
    if (!bai_proc_exited(p, &code, &signo))
        return 0;
    lua_pushinteger(L, code);
    lua_pushinteger(L, signo);
    return 2;
}

/* p:exit_token() -> token completing at exit */
static int l_proc_exit_token(lua_State *L)
{
    bai_proc_t *p = s_check(L);
    uint64_t tok = bai_loop_token_new(bai_lua_loop(L));
    bai_proc_notify_exit(p, tok);
    lua_pushnumber(L, (lua_Number)tok);
    return 1;
}

static int l_proc_write(lua_State *L)
{
    bai_proc_t *p = s_check(L);
    size_t n;
    const char *s = luaL_checklstring(L, 2, &n);
    bai_err_t err = NULL;
    if (bai_proc_write(p, s, n, &err) < 0)
        return bai_lua_push_err(L, &err);
    lua_pushboolean(L, 1);
    return 1;
}

static int l_proc_close_stdin(lua_State *L)
{
    bai_proc_close_stdin(s_check(L));
    return 0;
}

static int l_proc_kill(lua_State *L)
{
    bai_proc_t *p = s_check(L);
    int signo = lua_isnoneornil(L, 2) ? 15 : bai_lua_signo(L, 2);
    if (signo <= 0)
        return luaL_argerror(L, 2, "unknown signal");
    bai_err_t err = NULL;
    if (bai_proc_kill(p, signo, lua_toboolean(L, 3), &err) < 0)
        return bai_lua_push_err(L, &err);
    lua_pushboolean(L, 1);
    return 1;
}

static int l_proc_pid(lua_State *L)
{
    lua_pushinteger(L, bai_proc_pid(s_check(L)));
    return 1;
}

static int l_proc_close(lua_State *L)
{
    l_proc_t *u = luaL_checkudata(L, 1, PROC_MT);
    bai_proc_free(&u->p);
    return 0;
}

static int l_proc_tostring(lua_State *L)
{
    l_proc_t *u = luaL_checkudata(L, 1, PROC_MT);
    lua_pushfstring(L, "%s: %p", PROC_MT, (void *)u->p);
    return 1;
}

int luaopen_bai_proc(lua_State *L)
{
    static const luaL_Reg methods[] = {
        {"read", l_proc_read},
        {"status", l_proc_status},
        {"exit_token", l_proc_exit_token},
        {"write", l_proc_write},
        {"close_stdin", l_proc_close_stdin},
        {"kill", l_proc_kill},
        {"pid", l_proc_pid},
        {"close", l_proc_close},
        {"__gc", l_proc_close},
        {"__tostring", l_proc_tostring},
        {NULL, NULL},
    };
    static const luaL_Reg fns[] = {{"spawn", l_proc_spawn}, {NULL, NULL}};
    bai_lua_newclass(L, PROC_MT, methods);
    lua_newtable(L);
    bai_lua_setfuncs(L, fns);
    return 1;
}
