/* err_lua.c — bai.Error objects for the bindings and luaopen_bai_err. */
#include "bai_lua.h"

#include <stdarg.h>
#include <string.h>

static int l_error_tostring(lua_State *L)
{
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    lua_getfield(L, 1, "op");
    if (lua_isstring(L, -1)) {
        luaL_addvalue(&b);
        luaL_addstring(&b, ": ");
    } else {
        lua_pop(L, 1);
    }
    lua_getfield(L, 1, "code");
    if (lua_isstring(L, -1)) {
        luaL_addvalue(&b);
        luaL_addstring(&b, ": ");
    } else {
        lua_pop(L, 1);
    }
    lua_getfield(L, 1, "message");
    if (lua_isstring(L, -1))
        luaL_addvalue(&b);
    else
        lua_pop(L, 1);
    luaL_pushresult(&b);
    return 1;
}

static int l_error_concat(lua_State *L)
{
    /* either operand may be the error; convert both with tostring() */
    for (int i = 1; i <= 2; i++) {
        if (!lua_isstring(L, i) || lua_istable(L, i)) {
            lua_getglobal(L, "tostring");
            lua_pushvalue(L, i);
            lua_call(L, 1, 1);
            lua_replace(L, i);
        }
    }
    lua_concat(L, 2);
    return 1;
}

void bai_lua_error_mt(lua_State *L)
{
    if (luaL_newmetatable(L, BAI_ERROR_MT)) {
        lua_pushcfunction(L, l_error_tostring);
        lua_setfield(L, -2, "__tostring");
        lua_pushcfunction(L, l_error_concat);
        lua_setfield(L, -2, "__concat");
        lua_pushstring(L, "bai.Error");
        lua_setfield(L, -2, "__name");
    }
    lua_pop(L, 1);
}

static void s_push_error(lua_State *L, const char *code, const char *msg, int sys, int status)
{
    lua_createtable(L, 0, 4);
    lua_pushstring(L, code);
    lua_setfield(L, -2, "code");
    lua_pushstring(L, msg ? msg : "");
    lua_setfield(L, -2, "message");
    if (sys) {
        lua_pushinteger(L, sys);
        lua_setfield(L, -2, "errno");
    }
    if (status) {
        lua_pushinteger(L, status);
        lua_setfield(L, -2, "status");
    }
    bai_lua_error_mt(L);
    luaL_getmetatable(L, BAI_ERROR_MT);
    lua_setmetatable(L, -2);
}

int bai_lua_push_err(lua_State *L, bai_err_t *err)
{
    lua_pushnil(L);
    if (err && *err) {
        s_push_error(L, bai_err_code_name((*err)->code), (*err)->msg, (*err)->sys, (*err)->status);
        bai_err_release(err);
    } else {
        s_push_error(L, "EUNKNOWN", "unknown error", 0, 0);
    }
    return 2;
}

int bai_lua_push_errf(lua_State *L, const char *code, const char *fmt, ...)
{
    char *msg = NULL;
    va_list ap;
    va_start(ap, fmt);
    if (vasprintf(&msg, fmt, ap) < 0)
        BAI_OOM();
    va_end(ap);
    lua_pushnil(L);
    s_push_error(L, code, msg, 0, 0);
    free(msg);
    return 2;
}

void bai_lua_setfuncs(lua_State *L, const luaL_Reg *fns)
{
    for (; fns->name; fns++) {
        lua_pushcfunction(L, fns->func);
        lua_setfield(L, -2, fns->name);
    }
}

void bai_lua_newclass(lua_State *L, const char *name, const luaL_Reg *methods)
{
    luaL_newmetatable(L, name);
    lua_pushvalue(L, -1);
    lua_setfield(L, -2, "__index");
    bai_lua_setfuncs(L, methods);
    lua_pop(L, 1);
}

/* Lua: err.metatable() -> the shared bai.Error metatable (bai.errors uses it). */
static int l_err_metatable(lua_State *L)
{
    bai_lua_error_mt(L);
    luaL_getmetatable(L, BAI_ERROR_MT);
    return 1;
}

int luaopen_bai_err(lua_State *L)
{
    static const luaL_Reg fns[] = {{"metatable", l_err_metatable}, {NULL, NULL}};
    bai_lua_error_mt(L);
    lua_newtable(L);
    bai_lua_setfuncs(L, fns);
    return 1;
}
