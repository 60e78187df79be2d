/* http_lua.c — luaopen_bai_http: HTTP requests on the loop (see http.h). */
#include "bai_lua.h"
#include "http.h"

#include <string.h>

#define REQ_MT "bai.http.request"

/* One client per process, never freed (see the note on the loop in loop_lua.c). */
static bai_http_t *s_client;

typedef struct {
    bai_http_req_t *r;
} l_req_t;

static bai_http_req_t *s_check(lua_State *L)
{
    l_req_t *u = luaL_checkudata(L, 1, REQ_MT);
    if (!u->r)
        luaL_error(L, "bai.http: request is closed");
    return u->r;
}

/* request{method, url, unix_socket?, headers?, body?, timeout?, max_body?, stream?}
 * -> req, token | nil, err */
static int l_http_request(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TTABLE);
    bai_err_t err = NULL;
    if (!s_client && bai_http_new(bai_lua_loop(L), &s_client, &err) < 0)
        return bai_lua_push_err(L, &err);
    bai_http_opts_t o = {0};
    lua_getfield(L, 1, "method");
    o.method = luaL_optstring(L, -1, "GET");
    lua_getfield(L, 1, "url");
    o.url = luaL_checkstring(L, -1);
    lua_getfield(L, 1, "unix_socket");
    o.unix_socket = lua_tostring(L, -1);
    lua_getfield(L, 1, "body");
    o.body = lua_tolstring(L, -1, &o.body_len);
    lua_getfield(L, 1, "timeout");
    o.timeout = lua_tonumber(L, -1);
    lua_getfield(L, 1, "max_body");
    o.max_body = (size_t)lua_tonumber(L, -1);
    lua_getfield(L, 1, "stream");
    o.stream = lua_toboolean(L, -1);
    lua_getfield(L, 1, "headers");
    const char **hdrs = NULL;
    if (lua_istable(L, -1)) {
        int t = lua_gettop(L);
        size_t n = lua_objlen(L, t);
        hdrs = lua_newuserdata(L, (n + 1) * sizeof(char *)); /* anchored on the stack */
        for (size_t i = 0; i < n; i++) {
            lua_rawgeti(L, t, (int)i + 1);
            hdrs[i] = luaL_checkstring(L, -1);
            lua_pop(L, 1);
        }
        hdrs[n] = NULL;
    }
    o.headers = hdrs;
    uint64_t tok = bai_loop_token_new(bai_lua_loop(L));
    bai_http_req_t *r = NULL;
    if (bai_http_request(s_client, &o, tok, &r, &err) < 0)
        return bai_lua_push_err(L, &err);
    l_req_t *u = lua_newuserdata(L, sizeof(*u));
    u->r = r;
    luaL_getmetatable(L, REQ_MT);
    lua_setmetatable(L, -2);
    lua_pushnumber(L, (lua_Number)tok);
    return 2;
}

/* req:result() -> nil (pending) | {status, body, headers} | nil, err */
static int l_req_result(lua_State *L)
{
    bai_http_req_t *r = s_check(L);
    long status = 0;
    bai_err_t err = NULL;
    int rc = bai_http_req_finished(r, &status, &err);
    if (rc == 0)
        return 0;
    if (rc < 0)
        return bai_lua_push_err(L, &err);
    lua_createtable(L, 0, 3);
    lua_pushinteger(L, status);
    lua_setfield(L, -2, "status");
    bai_buf_t *b = bai_http_req_body(r);
    lua_pushlstring(L, b->data ? b->data : "", b->len);
    lua_setfield(L, -2, "body");
    bai_buf_t *hb = bai_http_req_headers(r);
    lua_pushlstring(L, hb->data ? hb->data : "", hb->len);
    lua_setfield(L, -2, "headers");
    return 1;
}

/* req:read() (stream mode) -> data | false (ended) | token | nil, err (transfer failed) */
static int l_req_read(lua_State *L)
{
    bai_http_req_t *r = s_check(L);
    bai_buf_t *b = bai_http_req_body(r);
    if (b->len > 0) {
        lua_pushlstring(L, b->data, b->len);
        b->len = 0;
        return 1;
    }
    long status;
    bai_err_t err = NULL;
    int rc = bai_http_req_finished(r, &status, &err);
    if (rc < 0) /* the transfer failed: the end of the body is not a normal end */
        return bai_lua_push_err(L, &err);
    if (rc > 0) {
        lua_pushboolean(L, 0);
        return 1;
    }
    uint64_t tok = bai_loop_token_new(bai_lua_loop(L));
    bai_http_req_notify_data(r, tok);
    lua_pushnumber(L, (lua_Number)tok);
    return 1;
}

/* req:response_headers() -> raw header block received so far */
static int l_req_headers(lua_State *L)
{
    bai_buf_t *hb = bai_http_req_headers(s_check(L));
    lua_pushlstring(L, hb->data ? hb->data : "", hb->len);
    return 1;
}

static int l_req_close(lua_State *L)
{
    l_req_t *u = luaL_checkudata(L, 1, REQ_MT);
    bai_http_req_free(&u->r);
    return 0;
}

int luaopen_bai_http(lua_State *L)
{
    static const luaL_Reg methods[] = {
        {"result", l_req_result}, {"read", l_req_read},  {"response_headers", l_req_headers},
        {"close", l_req_close},   {"__gc", l_req_close}, {NULL, NULL},
    };
    static const luaL_Reg fns[] = {{"request", l_http_request}, {NULL, NULL}};
    bai_lua_newclass(L, REQ_MT, methods);
    lua_newtable(L);
    bai_lua_setfuncs(L, fns);
    return 1;
}
