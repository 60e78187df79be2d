/* zmq_lua.c — luaopen_bai_zmq: ZeroMQ sockets (see zsock.h). recv()/send() never block;
 * on EAGAIN the caller awaits recv_token()/send_token() and retries. */
#include "bai_lua.h"
#include "zsock.h"

#include <string.h>
#include <zmq.h>

#define ZSOCK_MT "bai.zmq.socket"

typedef struct {
    bai_zsock_t *s;
} l_zsock_t;

static bai_zsock_t *s_check(lua_State *L)
{
    l_zsock_t *u = luaL_checkudata(L, 1, ZSOCK_MT);
    if (!u->s)
        luaL_error(L, "bai.zmq: socket is closed");
    return u->s;
}

static const struct {
    const char *name;
    int type;
} s_types[] = {
    {"PAIR", ZMQ_PAIR},     {"PUB", ZMQ_PUB},   {"SUB", ZMQ_SUB},
    {"REQ", ZMQ_REQ},       {"REP", ZMQ_REP},   {"DEALER", ZMQ_DEALER},
    {"ROUTER", ZMQ_ROUTER}, {"PULL", ZMQ_PULL}, {"PUSH", ZMQ_PUSH},
};

/* option name -> (id, kind): kind 'i' int, 's' bytes/string */
static const struct {
    const char *name;
    int opt;
    char kind;
} s_opts[] = {
    {"linger", ZMQ_LINGER, 'i'},
    {"sndhwm", ZMQ_SNDHWM, 'i'},
    {"rcvhwm", ZMQ_RCVHWM, 'i'},
    {"routing_id", ZMQ_ROUTING_ID, 's'},
    {"router_mandatory", ZMQ_ROUTER_MANDATORY, 'i'},
    {"immediate", ZMQ_IMMEDIATE, 'i'},
    {"reconnect_ivl", ZMQ_RECONNECT_IVL, 'i'},
    {"handshake_ivl", ZMQ_HANDSHAKE_IVL, 'i'},
    {"tcp_keepalive", ZMQ_TCP_KEEPALIVE, 'i'},
    {"tcp_keepalive_idle", ZMQ_TCP_KEEPALIVE_IDLE, 'i'},
    {"tcp_keepalive_intvl", ZMQ_TCP_KEEPALIVE_INTVL, 'i'},
    {"tcp_keepalive_cnt", ZMQ_TCP_KEEPALIVE_CNT, 'i'},
    {"maxmsgsize", ZMQ_MAXMSGSIZE, 'l'},
    {"curve_server", ZMQ_CURVE_SERVER, 'i'},
    {"curve_publickey", ZMQ_CURVE_PUBLICKEY, 's'},
    {"curve_secretkey", ZMQ_CURVE_SECRETKEY, 's'},
    {"curve_serverkey", ZMQ_CURVE_SERVERKEY, 's'},
    {"zap_domain", ZMQ_ZAP_DOMAIN, 's'},
    {"subscribe", ZMQ_SUBSCRIBE, 's'},
    {"last_endpoint", ZMQ_LAST_ENDPOINT, 's'},
    {"events", ZMQ_EVENTS, 'i'},
};

static int s_opt_index(lua_State *L, int idx)
{
    const char *name = luaL_checkstring(L, idx);
    for (size_t i = 0; i < BAI_ARRAY_LEN(s_opts); i++)
        if (strcmp(s_opts[i].name, name) == 0)
            return (int)i;
    return luaL_argerror(L, idx, "unknown socket option");
}

static int l_zmq_socket(lua_State *L)
{
    const char *tname = luaL_checkstring(L, 1);
    int type = -1;
    for (size_t i = 0; i < BAI_ARRAY_LEN(s_types); i++)
        if (strcmp(s_types[i].name, tname) == 0)
            type = s_types[i].type;
    if (type < 0)
        return luaL_argerror(L, 1, "unknown socket type");
    bai_err_t err = NULL;
    bai_zsock_t *s = NULL;
    if (bai_zsock_new(bai_lua_loop(L), type, &s, &err) < 0)
        return bai_lua_push_err(L, &err);
    l_zsock_t *u = lua_newuserdata(L, sizeof(*u));
    u->s = s;
    luaL_getmetatable(L, ZSOCK_MT);
    lua_setmetatable(L, -2);
    return 1;
}

static int l_zsock_bind(lua_State *L)
{
    bai_zsock_t *s = s_check(L);
    bai_err_t err = NULL;
    if (bai_zsock_bind(s, luaL_checkstring(L, 2), &err) < 0)
        return bai_lua_push_err(L, &err);
    lua_pushboolean(L, 1);
    return 1;
}

static int l_zsock_connect(lua_State *L)
{
    bai_zsock_t *s = s_check(L);
    bai_err_t err = NULL;
    if (bai_zsock_connect(s, luaL_checkstring(L, 2), &err) < 0)
        return bai_lua_push_err(L, &err);
    lua_pushboolean(L, 1);
    return 1;
}

static int l_zsock_setopt(lua_State *L)
{
    bai_zsock_t *s = s_check(L);
    int i = s_opt_index(L, 2);
    bai_err_t err = NULL;
    int rc;
    if (s_opts[i].kind == 'i') {
        int v = lua_isboolean(L, 3) ? lua_toboolean(L, 3) : (int)luaL_checkinteger(L, 3);
        rc = bai_zsock_setopt(s, s_opts[i].opt, &v, sizeof v, &err);
    } else if (s_opts[i].kind == 'l') {
        int64_t v = (int64_t)luaL_checknumber(L, 3);
        rc = bai_zsock_setopt(s, s_opts[i].opt, &v, sizeof v, &err);
    } else {
        size_t n;
        const char *v = luaL_checklstring(L, 3, &n);
        rc = bai_zsock_setopt(s, s_opts[i].opt, v, n, &err);
    }
    if (rc < 0)
        return bai_lua_push_err(L, &err);
    lua_pushboolean(L, 1);
    return 1;
}

static int l_zsock_getopt(lua_State *L)
{
    bai_zsock_t *s = s_check(L);
    int i = s_opt_index(L, 2);
    bai_err_t err = NULL;
    if (s_opts[i].kind == 'i') {
        int v = 0;
        size_t n = sizeof v;
        if (bai_zsock_getopt(s, s_opts[i].opt, &v, &n, &err) < 0)
            return bai_lua_push_err(L, &err);
        lua_pushinteger(L, v);
    } else if (s_opts[i].kind == 'l') {
        int64_t v = 0;
        size_t n = sizeof v;
        if (bai_zsock_getopt(s, s_opts[i].opt, &v, &n, &err) < 0)
            return bai_lua_push_err(L, &err);
        lua_pushnumber(L, (lua_Number)v);
    } else {
        char buf[512];
        size_t n = sizeof buf;
        if (bai_zsock_getopt(s, s_opts[i].opt, buf, &n, &err) < 0)
            return bai_lua_push_err(L, &err);
        /* string options come back NUL-terminated */
        if (n > 0 && buf[n - 1] == '\0' && s_opts[i].opt == ZMQ_LAST_ENDPOINT)
            n--;
        lua_pushlstring(L, buf, n);
    }
    return 1;
}

/* recv() -> frames | nil, err (code "EAGAIN" when nothing is queued) */
static int l_zsock_recv(lua_State *L)
{
    bai_zsock_t *s = s_check(L);
    bai_zmsg_t m;
    bai_err_t err = NULL;
    if (bai_zsock_recv(s, &m, &err) < 0)
        return bai_lua_push_err(L, &err);
    lua_createtable(L, (int)m.n, 0);
    for (size_t i = 0; i < m.n; i++) {
        lua_pushlstring(L, m.data[i], m.len[i]);
        lua_rawseti(L, -2, (int)i + 1);
    }
    bai_zmsg_clear(&m);
    return 1;
}

/* send(frames) -> true | nil, err */
static int l_zsock_send(lua_State *L)
{
    bai_zsock_t *s = s_check(L);
    luaL_checktype(L, 2, LUA_TTABLE);
    size_t n = lua_objlen(L, 2);
    if (n == 0)
        return luaL_argerror(L, 2, "no frames");
    const char **data = lua_newuserdata(L, n * sizeof(char *));
    size_t *len = lua_newuserdata(L, n * sizeof(size_t));
    for (size_t i = 0; i < n; i++) {
        lua_rawgeti(L, 2, (int)i + 1);
        if (!lua_isstring(L, -1))
            return luaL_argerror(L, 2, "frames must be strings");
        data[i] = lua_tolstring(L, -1, &len[i]);
        lua_pop(L, 1); /* the table keeps the string alive */
    }
    bai_err_t err = NULL;
    if (bai_zsock_send(s, data, len, n, &err) < 0)
        return bai_lua_push_err(L, &err);
    lua_pushboolean(L, 1);
    return 1;
}

static int s_token(lua_State *L, int ev)
{
    bai_zsock_t *s = s_check(L);
    uint64_t tok = bai_loop_token_new(bai_lua_loop(L));
    uint64_t old = bai_zsock_notify(s, ev, tok);
    if (old) /* a replaced waiter is woken so it can retry */
        bai_loop_complete(bai_lua_loop(L), old);
    lua_pushnumber(L, (lua_Number)tok);
    return 1;
}

static int l_zsock_recv_token(lua_State *L)
{
    return s_token(L, ZMQ_POLLIN);
}

static int l_zsock_send_token(lua_State *L)
{
    return s_token(L, ZMQ_POLLOUT);
}

static int l_zsock_close(lua_State *L)
{
    l_zsock_t *u = luaL_checkudata(L, 1, ZSOCK_MT);
    bai_zsock_free(&u->s);
    return 0;
}

static int l_zsock_tostring(lua_State *L)
{
    l_zsock_t *u = luaL_checkudata(L, 1, ZSOCK_MT);
    lua_pushfstring(L, "%s: %p", ZSOCK_MT, (void *)u->s);
    return 1;
}

static int l_zmq_curve_keypair(lua_State *L)
{
    char pub[41], sec[41];
    bai_err_t err = NULL;
    if (bai_zmq_curve_keypair(pub, sec, &err) < 0)
        return bai_lua_push_err(L, &err);
    lua_pushstring(L, pub);
    lua_pushstring(L, sec);
    return 2;
}

static int l_zmq_z85_encode(lua_State *L)
{
    size_t n;
    const char *s = luaL_checklstring(L, 1, &n);
    if (n % 4)
        return luaL_argerror(L, 1, "length must be a multiple of 4");
    char *out = bai_xmalloc(n * 5 / 4 + 1);
    zmq_z85_encode(out, (const uint8_t *)s, n);
    lua_pushstring(L, out);
    free(out);
    return 1;
}

static int l_zmq_z85_decode(lua_State *L)
{
    size_t n;
    const char *s = luaL_checklstring(L, 1, &n);
    if (n % 5 || strlen(s) != n)
        return bai_lua_push_errf(L, "EINVAL", "z85 text length must be a multiple of 5");
    uint8_t *out = bai_xmalloc(n * 4 / 5 + 1);
    if (!zmq_z85_decode(out, s)) {
        free(out);
        return bai_lua_push_errf(L, "EINVAL", "invalid z85 text");
    }
    lua_pushlstring(L, (const char *)out, n * 4 / 5);
    free(out);
    return 1;
}

static int l_zmq_has(lua_State *L)
{
    lua_pushboolean(L, zmq_has(luaL_checkstring(L, 1)));
    return 1;
}

static int l_zmq_version(lua_State *L)
{
    int a, b, c;
    zmq_version(&a, &b, &c);
    lua_pushfstring(L, "%d.%d.%d", a, b, c);
    return 1;
}

int luaopen_bai_zmq(lua_State *L)
{
    static const luaL_Reg methods[] = {
        {"bind", l_zsock_bind},
        {"connect", l_zsock_connect},
        {"setopt", l_zsock_setopt},
        {"getopt", l_zsock_getopt},
        {"recv", l_zsock_recv},
        {"send", l_zsock_send},
        {"recv_token", l_zsock_recv_token},
        {"send_token", l_zsock_send_token},
        {"close", l_zsock_close},
        {"__gc", l_zsock_close},
        {"__tostring", l_zsock_tostring},
        {NULL, NULL},
    };
    static const luaL_Reg fns[] = {
        {"socket", l_zmq_socket},
        {"curve_keypair", l_zmq_curve_keypair},
        {"z85_encode", l_zmq_z85_encode},
        {"z85_decode", l_zmq_z85_decode},
        {"has", l_zmq_has},
        {"version", l_zmq_version},
        {NULL, NULL},
    };
    bai_lua_newclass(L, ZSOCK_MT, methods);
    lua_newtable(L);
    bai_lua_setfuncs(L, fns);
    return 1;
}
