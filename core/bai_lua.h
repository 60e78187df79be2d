/*
 * bai_lua.h — helpers shared by the Lua bindings (core/<prim>_lua.c).
 *
 * Every binding reports expected failures as two values, nil and a bai.Error table
 * (fields code, message, errno?, status?), whose metatable is the one registered under
 * BAI_ERROR_MT. Misuse raises (luaL_argerror / luaL_error).
 */
#ifndef BAI_LUA_H
#define BAI_LUA_H

#ifdef __cplusplus
extern "C" {
#endif

#include <lua.h>
#include <lauxlib.h>
#include <lualib.h>

#include "err.h"
#include "loop.h"

#define BAI_ERROR_MT "bai.Error"

/** Push nil and a bai.Error built from *err, release *err, return 2. */
int bai_lua_push_err(lua_State *L, bai_err_t *err);

/** Push nil and a bai.Error with a string code and message; returns 2. */
int bai_lua_push_errf(lua_State *L, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/** Ensure the bai.Error metatable exists (idempotent); leaves the stack unchanged. */
void bai_lua_error_mt(lua_State *L);

/** Register functions into the table on top of the stack (5.1 luaL_register with NULL). */
void bai_lua_setfuncs(lua_State *L, const luaL_Reg *fns);

/** Create a metatable `name` with __index = itself and the given methods. */
void bai_lua_newclass(lua_State *L, const char *name, const luaL_Reg *methods);

/** The one event loop of this Lua state (created on first use; lives until lua_close). */
bai_loop_t *bai_lua_loop(lua_State *L);

/** Signal number for a name ("TERM", "SIGTERM") or number at idx; 0 if unknown. */
int bai_lua_signo(lua_State *L, int idx);

/* Module entry points, registered in package.preload by preload.c. */
int luaopen_bai_err(lua_State *L);
int luaopen_bai_loop(lua_State *L);
int luaopen_bai_proc(lua_State *L);
int luaopen_bai_zmq(lua_State *L);
int luaopen_bai_msgpack(lua_State *L);
int luaopen_bai_http(lua_State *L);
int luaopen_bai_tar(lua_State *L);
int luaopen_bai_fs(lua_State *L);
int luaopen_bai_sys(lua_State *L);
int luaopen_bai_toml(lua_State *L);

#ifdef __cplusplus
}
#endif

#endif
