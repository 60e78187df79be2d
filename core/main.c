/*
 * main.c — the host: creates the LuaJIT state, registers the C modules, points
 * package.path at the Lua tree and hands argv to the boot module.
 *
 * The agent boots "bai.main"; the in-container runner (built with -DBAI_RUNNER) boots
 * "bai.runner.main". Everything that decides anything happens in Lua.
 */
#include "bai_lua.h"

#include <limits.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#ifdef BAI_RUNNER
#define BAI_BOOT_MODULE "bai.runner.main"
#else
#define BAI_BOOT_MODULE "bai.main"
#endif

void bai_preload_register(lua_State *L);

static int s_isdir_with(const char *dir, const char *file)
{
    char p[PATH_MAX];
    if (snprintf(p, sizeof p, "%s/%s", dir, file) >= (int)sizeof p)
        return 0;
    return access(p, R_OK) == 0;
}

/* Find the Lua tree: $BAI_LUA_DIR, else beside the executable (build tree, install tree
 * or krunner bundle). Writes the directory into out. */
static int s_find_lua_dir(char *out, size_t n)
{
    const char *env = getenv("BAI_LUA_DIR");
    if (env && *env) {
        snprintf(out, n, "%s", env);
        return 0;
    }
    char exe[PATH_MAX];
    ssize_t len = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (len <= 0)
        return -1;
    exe[len] = '\0';
    char *slash = strrchr(exe, '/');
    if (!slash)
        return -1;
    *slash = '\0';
    const char *candidates[] = {"../lua", "../share/bai-agent/lua", "../lib/lua"};
    for (size_t i = 0; i < BAI_ARRAY_LEN(candidates); i++) {
        char dir[PATH_MAX + 32];
        if (snprintf(dir, sizeof dir, "%s/%s", exe, candidates[i]) >= (int)sizeof dir)
            continue;
        char real[PATH_MAX];
        if (realpath(dir, real) && s_isdir_with(real, "bai/sched.lua")) {
            snprintf(out, n, "%s", real);
            return 0;
        }
    }
    return -1;
}

static int s_traceback(lua_State *L)
{
    const char *msg = lua_tostring(L, 1);
    if (!msg) {
        if (luaL_callmeta(L, 1, "__tostring") && lua_isstring(L, -1))
            msg = lua_tostring(L, -1);
        else
            msg = "(error object is not a string)";
    }
    lua_getglobal(L, "debug");
    lua_getfield(L, -1, "traceback");
    lua_pushstring(L, msg);
    lua_pushinteger(L, 2);
    lua_call(L, 2, 1);
    return 1;
}

int main(int argc, char **argv)
{
    char luadir[PATH_MAX];
    if (s_find_lua_dir(luadir, sizeof luadir) < 0) {
        fprintf(stderr, "%s: cannot find the Lua tree (set BAI_LUA_DIR)\n", argv[0]);
        return 70;
    }
    /* a peer that went away (a child's stdin, a socket) must be an EPIPE error, not a
     * fatal signal; children get the default back before exec (proc.c) */
    signal(SIGPIPE, SIG_IGN);
    lua_State *L = luaL_newstate();
    if (!L)
        BAI_OOM();
    luaL_openlibs(L);
    bai_preload_register(L);

    /* package.path: our tree first, then plugins beside it, then LuaJIT's defaults
     * (busted lives there in --test mode). */
    lua_getglobal(L, "package");
    lua_getfield(L, -1, "path");
    lua_pushfstring(L, "%s/?.lua;%s/?/init.lua;%s/../plugins/?.lua;%s/../plugins/?/init.lua;%s",
                    luadir, luadir, luadir, luadir, lua_tostring(L, -1));
    lua_setfield(L, -3, "path");
    lua_pop(L, 1);
    lua_pushstring(L, luadir);
    lua_setfield(L, -2, "bai_lua_dir");
    lua_pop(L, 1);

    /* arg table in the standard interpreter layout: arg[0] = program */
    lua_createtable(L, argc, 1);
    for (int i = 0; i < argc; i++) {
        lua_pushstring(L, argv[i]);
        lua_rawseti(L, -2, i);
    }
    lua_setglobal(L, "arg");

    lua_pushcfunction(L, s_traceback);
    lua_getglobal(L, "require");
    lua_pushstring(L, BAI_BOOT_MODULE);
    int rc = 70;
    if (lua_pcall(L, 1, 1, -3) != 0) {
        fprintf(stderr, "%s: %s\n", argv[0], lua_tostring(L, -1));
    } else {
        lua_getfield(L, -1, "main");
        lua_getglobal(L, "arg");
        if (lua_pcall(L, 1, 1, -4) != 0) {
            fprintf(stderr, "%s: %s\n", argv[0], lua_tostring(L, -1));
        } else {
            rc = lua_isnumber(L, -1) ? (int)lua_tointeger(L, -1) : 0;
        }
    }
    fflush(stdout);
    /* lua_close runs the __gc safety nets: sockets and requests are closed, child
     * processes still running are killed and reaped. */
    lua_close(L);
    return rc;
}
