/*
 * preload.c — registers every C module in package.preload as "bai.core.<prim>", plus
 * lua-cjson (linked statically) as "cjson" and "cjson.safe".
 */
#include "bai_lua.h"

/* lua-cjson 2.1.0 ships no header that declares the _safe variant */
int luaopen_cjson(lua_State *L);
int luaopen_cjson_safe(lua_State *L);

typedef struct {
    const char *name;
    lua_CFunction open;
} s_module_t;

void bai_preload_register(lua_State *L);

void bai_preload_register(lua_State *L)
{
    /* The runner (BAI_RUNNER) is built from the subset it needs, to keep the krunner
     * bundle small: no libcurl, libarchive or C++ runtime inside containers. */
    const s_module_t mods[] = {
        {"bai.core.err", luaopen_bai_err},
        {"bai.core.loop", luaopen_bai_loop},
        {"bai.core.proc", luaopen_bai_proc},
        {"bai.core.zmq", luaopen_bai_zmq},
        {"bai.core.msgpack", luaopen_bai_msgpack},
        {"bai.core.fs", luaopen_bai_fs},
        {"bai.core.sys", luaopen_bai_sys},
#ifndef BAI_RUNNER
        {"bai.core.http", luaopen_bai_http},
        {"bai.core.tar", luaopen_bai_tar},
        {"bai.core.toml", luaopen_bai_toml},
#endif
        {"cjson", luaopen_cjson},
        {"cjson.safe", luaopen_cjson_safe},
    };
    lua_getglobal(L, "package");
    lua_getfield(L, -1, "preload");
    for (size_t i = 0; i < BAI_ARRAY_LEN(mods); i++) {
        lua_pushcfunction(L, mods[i].open);
        lua_setfield(L, -2, mods[i].name);
    }
    lua_pop(L, 2);
}
