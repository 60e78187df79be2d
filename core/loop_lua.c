/* loop_lua.c — luaopen_bai_loop: the Lua face of the one event loop (see loop.h).
 * Lua drives it pull-style: step() returns the tokens completed since the last call. */
#include "bai_lua.h"

#include <signal.h>
#include <string.h>
#include <time.h>

/* One loop per process. It is deliberately never freed: objects still registered with
 * it (sockets, requests, processes) may be finalized in any order by lua_close, and
 * each of them unregisters from the loop. The pointer stays reachable, so leak checkers
 * do not report it. */
static bai_loop_t *s_loop;

bai_loop_t *bai_lua_loop(lua_State *L)
{
    if (s_loop)
        return s_loop;
    bai_err_t err = NULL;
    if (bai_loop_new(&s_loop, &err) < 0) {
        lua_pushstring(L, err->msg);
        bai_err_release(&err);
        lua_error(L);
    }
    return s_loop;
}

/* step([timeout_seconds]) -> array of completed tokens (nil/negative timeout waits). */
static int l_loop_step(lua_State *L)
{
    bai_loop_t *loop = bai_lua_loop(L);
    double timeout = luaL_optnumber(L, 1, -1);
    bai_err_t err = NULL;
    if (bai_loop_step(loop, timeout, &err) < 0)
        return bai_lua_push_err(L, &err);
    lua_createtable(L, (int)bai_loop_pending(loop), 0);
    uint64_t toks[64];
    size_t n, idx = 0;
    while ((n = bai_loop_drain(loop, toks, BAI_ARRAY_LEN(toks))) > 0) {
        for (size_t i = 0; i < n; i++) {
            lua_pushnumber(L, (lua_Number)toks[i]);
            lua_rawseti(L, -2, (int)++idx);
        }
    }
    return 1;
}

static int l_loop_now(lua_State *L)
{
    lua_pushnumber(L, bai_monotonic());
    return 1;
}

static int l_loop_time(lua_State *L)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    lua_pushnumber(L, (double)ts.tv_sec + (double)ts.tv_nsec / 1e9);
    return 1;
}

static int l_loop_token(lua_State *L)
{
    lua_pushnumber(L, (lua_Number)bai_loop_token_new(bai_lua_loop(L)));
    return 1;
}

static int l_loop_complete(lua_State *L)
{
    lua_Number t = luaL_checknumber(L, 1);
    bai_loop_complete(bai_lua_loop(L), (uint64_t)t);
    return 0;
}

static const struct {
    const char *name;
    int signo;
} s_signals[] = {
    {"TERM", SIGTERM}, {"INT", SIGINT},   {"HUP", SIGHUP},   {"QUIT", SIGQUIT},
    {"USR1", SIGUSR1}, {"USR2", SIGUSR2}, {"CHLD", SIGCHLD}, {"PIPE", SIGPIPE},
    {"KILL", SIGKILL}, {"STOP", SIGSTOP}, {"CONT", SIGCONT}, {"ALRM", SIGALRM},
};

int bai_lua_signo(lua_State *L, int idx)
{
    if (lua_type(L, idx) == LUA_TNUMBER)
        return (int)lua_tointeger(L, idx);
    const char *name = luaL_checkstring(L, idx);
    if (strncmp(name, "SIG", 3) == 0)
        name += 3;
    for (size_t i = 0; i < BAI_ARRAY_LEN(s_signals); i++)
        if (strcmp(s_signals[i].name, name) == 0)
            return s_signals[i].signo;
    return 0;
}

static int l_loop_signal_watch(lua_State *L)
{
    int signo = bai_lua_signo(L, 1);
    if (signo <= 0)
        return luaL_argerror(L, 1, "unknown signal");
    bai_err_t err = NULL;
    if (bai_loop_signal_watch(bai_lua_loop(L), signo, &err) < 0)
        return bai_lua_push_err(L, &err);
    lua_pushboolean(L, 1);
    return 1;
}

/* signal_pop() -> "TERM" (name without SIG) or nil when none is pending */
static int l_loop_signal_pop(lua_State *L)
{
    int s = bai_loop_signal_pop(bai_lua_loop(L));
    if (!s)
        return 0;
    for (size_t i = 0; i < BAI_ARRAY_LEN(s_signals); i++) {
        if (s_signals[i].signo == s) {
            lua_pushstring(L, s_signals[i].name);
            return 1;
        }
    }
    lua_pushinteger(L, s);
    return 1;
}

int luaopen_bai_loop(lua_State *L)
{
    static const luaL_Reg fns[] = {
        {"step", l_loop_step},
        {"now", l_loop_now},
        {"time", l_loop_time},
        {"token", l_loop_token},
        {"complete", l_loop_complete},
        {"signal_watch", l_loop_signal_watch},
        {"signal_pop", l_loop_signal_pop},
        {NULL, NULL},
    };
    bai_lua_loop(L);
    lua_newtable(L);
    bai_lua_setfuncs(L, fns);
    lua_pushnumber(L, BAI_TOKEN_SIGNAL);
    lua_setfield(L, -2, "SIGNAL_TOKEN");
    return 1;
}
