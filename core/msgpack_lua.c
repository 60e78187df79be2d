/*
 * msgpack_lua.c — luaopen_bai_msgpack: MessagePack encode/decode over msgpack-c.
 *
 * Pure functions with no loop or I/O; callable from any Lua context of the host.
 *
 * Value mapping (see lua/bai/msgpack.lua for the public documentation):
 *   str <-> Lua string; bin <-> "bai.msgpack.bin" wrapper {data=} (or a plain string when
 *   decoding without wrap_bin); nil <-> the null sentinel (lightuserdata NULL, == cjson.null);
 *   array <-> table with the "bai.msgpack.array" metatable (or a plain sequence when encoding);
 *   map <-> plain table (or a table whose metatable has an ordered `__keys` list);
 *   ext <-> "bai.msgpack.ext" wrapper {code=, data=}.
 *
 * Decoding first walks the input once (s_prescan) to reject malformed, truncated or too-deep
 * input and containers claiming more elements than bytes remain, so msgpack-c never allocates
 * more than a small multiple of the input size.
 */
#include "bai_lua.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <msgpack.h>

#define MP_ARRAY_MT "bai.msgpack.array"
#define MP_BIN_MT "bai.msgpack.bin"
#define MP_EXT_MT "bai.msgpack.ext"
#define MP_BUF_MT "bai.msgpack.buf"
#define MP_UNPACKED_MT "bai.msgpack.unpacked"

/* Nesting limit for both directions; msgpack-c's unpacker cannot go deeper than 32
 * (MSGPACK_EMBED_STACK_SIZE) anyway. */
#define MP_MAX_DEPTH 32

/* Fixed stack slots while encoding / decoding. */
enum { S_ARRAY_MT = 1, S_BIN_MT, S_EXT_MT, S_AUX, S_INPUT };

/* ---------------------------------------------------------------- encode buffer */

typedef struct {
    char *data;
    size_t len;
    size_t cap;
} s_buf_t;

static int s_buf_gc(lua_State *L)
{
    s_buf_t *b = luaL_checkudata(L, 1, MP_BUF_MT);
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
    return 0;
}

static int s_buf_write(void *ud, const char *p, size_t n)
{
    s_buf_t *b = ud;
    if (n > b->cap - b->len) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap - b->len < n) {
            if (cap > SIZE_MAX / 2)
                BAI_OOM();
            cap *= 2;
        }
        char *d = realloc(b->data, cap);
        if (!d)
            BAI_OOM();
        b->data = d;
        b->cap = cap;
    }
    memcpy(b->data + b->len, p, n);
    b->len += n;
    return 0;
}

/* ---------------------------------------------------------------- encode */

static void s_encode(lua_State *L, msgpack_packer *pk, int idx, int depth);

static void s_check_pack(lua_State *L, int rc)
{
    if (rc != 0)
        luaL_error(L, "bai.msgpack.encode: packer failed");
}

static void s_enter(lua_State *L, int idx, int depth)
{
    if (depth > MP_MAX_DEPTH)
        luaL_error(L, "bai.msgpack.encode: nesting deeper than %d (or a cycle)", MP_MAX_DEPTH);
    luaL_checkstack(L, 8, "bai.msgpack.encode: nesting");
    lua_pushvalue(L, idx);
    lua_rawget(L, S_AUX);
    if (!lua_isnil(L, -1))
        luaL_error(L, "bai.msgpack.encode: cycle detected");
    lua_pop(L, 1);
    lua_pushvalue(L, idx);
    lua_pushboolean(L, 1);
    lua_rawset(L, S_AUX);
}

static void s_leave(lua_State *L, int idx)
{
    lua_pushvalue(L, idx);
    lua_pushnil(L);
    lua_rawset(L, S_AUX);
}

static void s_enc_bin(lua_State *L, msgpack_packer *pk, int idx)
{
    size_t n;
    lua_getfield(L, idx, "data");
    if (lua_type(L, -1) != LUA_TSTRING)
        luaL_error(L, "bai.msgpack.encode: bin wrapper without a string `data`");
    const char *s = lua_tolstring(L, -1, &n);
    if (n > UINT32_MAX)
        luaL_error(L, "bai.msgpack.encode: bin too large");
    s_check_pack(L, msgpack_pack_bin(pk, n));
    s_check_pack(L, msgpack_pack_bin_body(pk, s, n));
    lua_pop(L, 1);
}

static void s_enc_ext(lua_State *L, msgpack_packer *pk, int idx)
{
    size_t n;
    lua_getfield(L, idx, "code");
    lua_getfield(L, idx, "data");
    if (lua_type(L, -2) != LUA_TNUMBER || lua_type(L, -1) != LUA_TSTRING)
        luaL_error(L, "bai.msgpack.encode: ext wrapper needs a number `code` and string `data`");
    lua_Number code = lua_tonumber(L, -2);
    if (code != floor(code) || code < -128 || code > 127)
        luaL_error(L, "bai.msgpack.encode: ext code out of range -128..127");
    const char *s = lua_tolstring(L, -1, &n);
    if (n > UINT32_MAX)
        luaL_error(L, "bai.msgpack.encode: ext too large");
    s_check_pack(L, msgpack_pack_ext(pk, n, (int8_t)code));
    s_check_pack(L, msgpack_pack_ext_body(pk, s, n));
    lua_pop(L, 2);
}

static void s_enc_array(lua_State *L, msgpack_packer *pk, int idx, size_t n, int depth)
{
    if (n > UINT32_MAX)
        luaL_error(L, "bai.msgpack.encode: array too large");
    s_enter(L, idx, depth);
    s_check_pack(L, msgpack_pack_array(pk, n));
    for (size_t i = 1; i <= n; i++) {
        lua_rawgeti(L, idx, (int)i);
        s_encode(L, pk, lua_gettop(L), depth + 1);
        lua_pop(L, 1);
    }
    s_leave(L, idx);
}

/* Map with every key/value of the table, in lua_next order. */
static void s_enc_map(lua_State *L, msgpack_packer *pk, int idx, size_t count, int depth)
{
    if (count > UINT32_MAX)
        luaL_error(L, "bai.msgpack.encode: map too large");
    s_enter(L, idx, depth);
    s_check_pack(L, msgpack_pack_map(pk, count));
    lua_pushnil(L);
    while (lua_next(L, idx)) {
        int top = lua_gettop(L);
        s_encode(L, pk, top - 1, depth + 1);
        s_encode(L, pk, top, depth + 1);
        lua_pop(L, 1);
    }
    s_leave(L, idx);
}

/* Map whose metatable lists key order in `__keys` (at stack index kidx). Listed keys with a
 * nil value are skipped; keys not listed follow in lua_next order. */
static void s_enc_ordered(lua_State *L, msgpack_packer *pk, int idx, int kidx, int depth)
{
    size_t nk = lua_objlen(L, kidx), count = 0;
    s_enter(L, idx, depth);
    lua_createtable(L, 0, (int)nk);
    int set = lua_gettop(L);
    for (size_t i = 1; i <= nk; i++) {
        lua_rawgeti(L, kidx, (int)i);
        if (lua_isnil(L, -1)) {
            lua_pop(L, 1);
            continue;
        }
        lua_pushvalue(L, -1);
        lua_pushboolean(L, 1);
        lua_rawset(L, set);
        lua_rawget(L, idx);
        count += !lua_isnil(L, -1);
        lua_pop(L, 1);
    }
    lua_pushnil(L);
    while (lua_next(L, idx)) {
        lua_pop(L, 1);
        lua_pushvalue(L, -1);
        lua_rawget(L, set);
        count += lua_isnil(L, -1);
        lua_pop(L, 1);
    }
    if (count > UINT32_MAX)
        luaL_error(L, "bai.msgpack.encode: map too large");
    s_check_pack(L, msgpack_pack_map(pk, count));
    for (size_t i = 1; i <= nk; i++) {
        lua_rawgeti(L, kidx, (int)i);
        if (lua_isnil(L, -1)) {
            lua_pop(L, 1);
            continue;
        }
        lua_pushvalue(L, -1);
        lua_rawget(L, idx);
        if (!lua_isnil(L, -1)) {
            int top = lua_gettop(L);
            s_encode(L, pk, top - 1, depth + 1);
            s_encode(L, pk, top, depth + 1);
        }
        lua_pop(L, 2);
    }
    lua_pushnil(L);
    while (lua_next(L, idx)) {
        int top = lua_gettop(L);
        lua_pushvalue(L, top - 1);
        lua_rawget(L, set);
        if (lua_isnil(L, -1)) {
            s_encode(L, pk, top - 1, depth + 1);
            s_encode(L, pk, top, depth + 1);
        }
        lua_pop(L, 2);
    }
    lua_pop(L, 1); /* set */
    s_leave(L, idx);
}

static void s_enc_table(lua_State *L, msgpack_packer *pk, int idx, int depth)
{
    if (lua_getmetatable(L, idx)) {
        if (lua_rawequal(L, -1, S_BIN_MT)) {
            lua_pop(L, 1);
            s_enc_bin(L, pk, idx);
            return;
        }
        if (lua_rawequal(L, -1, S_EXT_MT)) {
            lua_pop(L, 1);
            s_enc_ext(L, pk, idx);
            return;
        }
        if (lua_rawequal(L, -1, S_ARRAY_MT)) {
            lua_pop(L, 1);
            s_enc_array(L, pk, idx, lua_objlen(L, idx), depth);
            return;
        }
        lua_pushliteral(L, "__keys");
        lua_rawget(L, -2);
        if (lua_istable(L, -1)) {
            s_enc_ordered(L, pk, idx, lua_gettop(L), depth);
            lua_pop(L, 2);
            return;
        }
        lua_pop(L, 2);
    }

    /* Plain table: a non-empty sequence 1..n without other keys is an array. */
    size_t count = 0;
    lua_Number max = 0;
    int seq = 1;
    lua_pushnil(L);
    while (lua_next(L, idx)) {
        lua_pop(L, 1);
        count++;
        if (seq) {
            if (lua_type(L, -1) == LUA_TNUMBER) {
                lua_Number k = lua_tonumber(L, -1);
                if (k >= 1 && k == floor(k)) {
                    if (k > max)
                        max = k;
                } else {
                    seq = 0;
                }
            } else {
                seq = 0;
            }
        }
    }
    if (count > 0 && seq && max == (lua_Number)count)
        s_enc_array(L, pk, idx, count, depth);
    else
        s_enc_map(L, pk, idx, count, depth);
}

static void s_encode(lua_State *L, msgpack_packer *pk, int idx, int depth)
{
    switch (lua_type(L, idx)) {
    case LUA_TNIL:
        s_check_pack(L, msgpack_pack_nil(pk));
        break;
    case LUA_TBOOLEAN:
        s_check_pack(L, lua_toboolean(L, idx) ? msgpack_pack_true(pk) : msgpack_pack_false(pk));
        break;
    case LUA_TNUMBER: {
        lua_Number d = lua_tonumber(L, idx);
        if (d == floor(d) && d >= -9223372036854775808.0 && d < 9223372036854775808.0) {
            if (d >= 0)
                s_check_pack(L, msgpack_pack_uint64(pk, (uint64_t)d));
            else
                s_check_pack(L, msgpack_pack_int64(pk, (int64_t)d));
        } else {
            s_check_pack(L, msgpack_pack_double(pk, d));
        }
        break;
    }
    case LUA_TSTRING: {
        size_t n;
        const char *s = lua_tolstring(L, idx, &n);
        if (n > UINT32_MAX)
            luaL_error(L, "bai.msgpack.encode: string too large");
        s_check_pack(L, msgpack_pack_str(pk, n));
        s_check_pack(L, msgpack_pack_str_body(pk, s, n));
        break;
    }
    case LUA_TLIGHTUSERDATA:
        if (lua_touserdata(L, idx) == NULL) {
            s_check_pack(L, msgpack_pack_nil(pk));
            break;
        }
        luaL_error(L, "bai.msgpack.encode: cannot encode a non-null lightuserdata");
        break;
    case LUA_TTABLE:
        s_enc_table(L, pk, idx, depth);
        break;
    default:
        luaL_error(L, "bai.msgpack.encode: cannot encode a %s", luaL_typename(L, idx));
    }
}

/* Lua: encode(value) -> string. Raises on unencodable values, cycles and deep nesting. */
static int l_msgpack_encode(lua_State *L)
{
    luaL_checkany(L, 1);
    lua_settop(L, 1);
    luaL_getmetatable(L, MP_ARRAY_MT);
    luaL_getmetatable(L, MP_BIN_MT);
    luaL_getmetatable(L, MP_EXT_MT);
    lua_newtable(L); /* S_AUX: tables being encoded (cycle check) */
    lua_pushvalue(L, 1);
    lua_remove(L, 1); /* the value now sits at S_INPUT */

    s_buf_t *b = lua_newuserdata(L, sizeof *b);
    memset(b, 0, sizeof *b);
    luaL_getmetatable(L, MP_BUF_MT);
    lua_setmetatable(L, -2);

    msgpack_packer pk;
    msgpack_packer_init(&pk, b, s_buf_write);
    s_encode(L, &pk, S_INPUT, 1);
    lua_pushlstring(L, b->data ? b->data : "", b->len);
    free(b->data); /* now, rather than whenever the collector runs __gc */
    b->data = NULL;
    b->len = b->cap = 0;
    return 1;
}

/* ---------------------------------------------------------------- decode */

static uint64_t s_be(const unsigned char *p, size_t n)
{
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++)
        v = (v << 8) | p[i];
    return v;
}

/* Validate the structure of exactly one msgpack value filling p[0..len). */
static int s_prescan(const unsigned char *p, size_t len, const char **why)
{
    uint64_t rem[MP_MAX_DEPTH + 1];
    int top = 0;
    size_t pos = 0;

    if (len == 0) {
        *why = "empty input";
        return -1;
    }
    rem[0] = 1;
    while (top >= 0) {
        if (rem[top] == 0) {
            top--;
            continue;
        }
        rem[top]--;
        if (pos >= len)
            goto truncated;
        unsigned b = p[pos++];
        uint64_t skip = 0, items = 0;
        size_t lenbytes = 0, extra = 0;
        int container = 0, mult = 1;

        if (b <= 0x7f || b >= 0xe0 || b == 0xc0 || b == 0xc2 || b == 0xc3) {
            /* fixint / nil / bool */
        } else if (b <= 0x8f) {
            items = 2 * (uint64_t)(b & 0x0f);
        } else if (b <= 0x9f) {
            items = b & 0x0f;
        } else if (b <= 0xbf) {
            skip = b & 0x1f;
        } else {
            switch (b) {
            case 0xc4:
            case 0xd9:
                lenbytes = 1;
                break;
            case 0xc5:
            case 0xda:
                lenbytes = 2;
                break;
            case 0xc6:
            case 0xdb:
                lenbytes = 4;
                break;
            case 0xc7:
                lenbytes = 1;
                extra = 1;
                break;
            case 0xc8:
                lenbytes = 2;
                extra = 1;
                break;
            case 0xc9:
                lenbytes = 4;
                extra = 1;
                break;
            case 0xca:
                skip = 4;
                break;
            case 0xcb:
                skip = 8;
                break;
            case 0xcc:
            case 0xd0:
                skip = 1;
                break;
            case 0xcd:
            case 0xd1:
                skip = 2;
                break;
            case 0xce:
            case 0xd2:
                skip = 4;
                break;
            case 0xcf:
            case 0xd3:
                skip = 8;
                break;
            case 0xd4:
                skip = 2;
                break;
            case 0xd5:
                skip = 3;
                break;
            case 0xd6:
                skip = 5;
                break;
            case 0xd7:
                skip = 9;
                break;
            case 0xd8:
                skip = 17;
                break;
            case 0xdc:
                lenbytes = 2;
                container = 1;
                break;
            case 0xdd:
                lenbytes = 4;
                container = 1;
                break;
            case 0xde:
                lenbytes = 2;
                container = 1;
                mult = 2;
                break;
            case 0xdf:
                lenbytes = 4;
                container = 1;
                mult = 2;
                break;
            default:
                *why = "invalid type byte 0xc1";
                return -1;
            }
        }
        if (lenbytes) {
            if (len - pos < lenbytes)
                goto truncated;
            uint64_t v = s_be(p + pos, lenbytes);
            pos += lenbytes;
            if (container)
                items = v * (uint64_t)mult;
            else
                skip = v + extra;
        }
        if (len - pos < skip)
            goto truncated;
        pos += skip;
        if (items) {
            if (items > len - pos)
                goto truncated;
            if (top + 1 > MP_MAX_DEPTH) {
                *why = "nesting too deep";
                return -1;
            }
            rem[++top] = items;
        }
    }
    if (pos != len) {
        *why = "trailing bytes after the value";
        return -1;
    }
    return 0;
truncated:
    *why = "truncated input";
    return -1;
}

static int s_unpacked_gc(lua_State *L)
{
    msgpack_unpacked *u = luaL_checkudata(L, 1, MP_UNPACKED_MT);
    msgpack_unpacked_destroy(u);
    return 0;
}

static int s_to_lua(lua_State *L, const msgpack_object *o, int wrap_bin, const char **why)
{
    luaL_checkstack(L, 4, "bai.msgpack.decode: nesting");
    switch (o->type) {
    case MSGPACK_OBJECT_NIL:
        lua_pushlightuserdata(L, NULL);
        break;
    case MSGPACK_OBJECT_BOOLEAN:
        lua_pushboolean(L, o->via.boolean);
        break;
    case MSGPACK_OBJECT_POSITIVE_INTEGER:
        lua_pushnumber(L, (lua_Number)o->via.u64);
        break;
    case MSGPACK_OBJECT_NEGATIVE_INTEGER:
        lua_pushnumber(L, (lua_Number)o->via.i64);
        break;
    case MSGPACK_OBJECT_FLOAT32:
    case MSGPACK_OBJECT_FLOAT64:
        lua_pushnumber(L, (lua_Number)o->via.f64);
        break;
    case MSGPACK_OBJECT_STR:
        lua_pushlstring(L, o->via.str.ptr ? o->via.str.ptr : "", o->via.str.size);
        break;
    case MSGPACK_OBJECT_BIN:
        if (wrap_bin) {
            lua_createtable(L, 0, 1);
            lua_pushlstring(L, o->via.bin.ptr ? o->via.bin.ptr : "", o->via.bin.size);
            lua_setfield(L, -2, "data");
            lua_pushvalue(L, S_BIN_MT);
            lua_setmetatable(L, -2);
        } else {
            lua_pushlstring(L, o->via.bin.ptr ? o->via.bin.ptr : "", o->via.bin.size);
        }
        break;
    case MSGPACK_OBJECT_EXT:
        lua_createtable(L, 0, 2);
        lua_pushinteger(L, o->via.ext.type);
        lua_setfield(L, -2, "code");
        lua_pushlstring(L, o->via.ext.ptr ? o->via.ext.ptr : "", o->via.ext.size);
        lua_setfield(L, -2, "data");
        lua_pushvalue(L, S_EXT_MT);
        lua_setmetatable(L, -2);
        break;
    case MSGPACK_OBJECT_ARRAY: {
        uint32_t n = o->via.array.size;
        lua_createtable(L, n > 1024 ? 1024 : (int)n, 0);
        for (uint32_t i = 0; i < n; i++) {
            if (s_to_lua(L, &o->via.array.ptr[i], wrap_bin, why) < 0)
                return -1;
            lua_rawseti(L, -2, (int)i + 1);
        }
        lua_pushvalue(L, S_ARRAY_MT);
        lua_setmetatable(L, -2);
        break;
    }
    case MSGPACK_OBJECT_MAP: {
        uint32_t n = o->via.map.size;
        lua_createtable(L, 0, n > 1024 ? 1024 : (int)n);
        for (uint32_t i = 0; i < n; i++) {
            const msgpack_object_kv *kv = &o->via.map.ptr[i];
            if (kv->key.type == MSGPACK_OBJECT_NIL) {
                *why = "map key is nil";
                return -1;
            }
            if ((kv->key.type == MSGPACK_OBJECT_FLOAT32 ||
                 kv->key.type == MSGPACK_OBJECT_FLOAT64) &&
                isnan(kv->key.via.f64)) {
                *why = "map key is NaN";
                return -1;
            }
            if (s_to_lua(L, &kv->key, wrap_bin, why) < 0)
                return -1;
            if (s_to_lua(L, &kv->val, wrap_bin, why) < 0)
                return -1;
            lua_rawset(L, -3);
        }
        break;
    }
    default:
        *why = "unsupported object type";
        return -1;
    }
    return 0;
}

/* Lua: decode(s [, {wrap_bin=bool}]) -> value | nil, bai.Error{code="EPROTO"} */
static int l_msgpack_decode(lua_State *L)
{
    size_t len;
    const char *s = luaL_checklstring(L, 1, &len);
    int wrap_bin = 0;
    const char *why = NULL;

    if (!lua_isnoneornil(L, 2)) {
        luaL_checktype(L, 2, LUA_TTABLE);
        lua_getfield(L, 2, "wrap_bin");
        wrap_bin = lua_toboolean(L, -1);
        lua_pop(L, 1);
    }
    if (s_prescan((const unsigned char *)s, len, &why) < 0)
        return bai_lua_push_errf(L, "EPROTO", "msgpack: %s", why);

    lua_settop(L, S_INPUT);
    lua_pushvalue(L, 1);
    lua_replace(L, S_INPUT); /* keep s alive; slots 1..4 are reused below */
    luaL_getmetatable(L, MP_ARRAY_MT);
    lua_replace(L, S_ARRAY_MT);
    luaL_getmetatable(L, MP_BIN_MT);
    lua_replace(L, S_BIN_MT);
    luaL_getmetatable(L, MP_EXT_MT);
    lua_replace(L, S_EXT_MT);

    msgpack_unpacked *u = lua_newuserdata(L, sizeof *u);
    msgpack_unpacked_init(u);
    luaL_getmetatable(L, MP_UNPACKED_MT);
    lua_setmetatable(L, -2);
    lua_replace(L, S_AUX);

    size_t off = 0;
    msgpack_unpack_return rc = msgpack_unpack_next(u, s, len, &off);
    if (rc != MSGPACK_UNPACK_SUCCESS || off != len) {
        msgpack_unpacked_destroy(u);
        return bai_lua_push_errf(L, "EPROTO", "msgpack: malformed input (%d)", (int)rc);
    }
    if (s_to_lua(L, &u->data, wrap_bin, &why) < 0) {
        msgpack_unpacked_destroy(u);
        return bai_lua_push_errf(L, "EPROTO", "msgpack: %s", why);
    }
    msgpack_unpacked_destroy(u);
    return 1;
}

/* ---------------------------------------------------------------- helpers */

static int s_has_mt(lua_State *L, int idx, const char *name)
{
    if (!lua_getmetatable(L, idx))
        return 0;
    luaL_getmetatable(L, name);
    int eq = lua_rawequal(L, -1, -2);
    lua_pop(L, 2);
    return eq;
}

/* Lua: bin(s) -> {data=s} with the bin metatable */
static int l_msgpack_bin(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TSTRING);
    lua_createtable(L, 0, 1);
    lua_pushvalue(L, 1);
    lua_setfield(L, -2, "data");
    luaL_getmetatable(L, MP_BIN_MT);
    lua_setmetatable(L, -2);
    return 1;
}

static int l_msgpack_is_bin(lua_State *L)
{
    lua_pushboolean(L, lua_istable(L, 1) && s_has_mt(L, 1, MP_BIN_MT));
    return 1;
}

/* Lua: ext(code, data) -> {code=, data=} with the ext metatable */
static int l_msgpack_ext(lua_State *L)
{
    lua_Number code = luaL_checknumber(L, 1);
    luaL_checktype(L, 2, LUA_TSTRING);
    luaL_argcheck(L, code == floor(code) && code >= -128 && code <= 127, 1,
                  "ext code must be an integer in -128..127");
    lua_createtable(L, 0, 2);
    lua_pushinteger(L, (lua_Integer)code);
    lua_setfield(L, -2, "code");
    lua_pushvalue(L, 2);
    lua_setfield(L, -2, "data");
    luaL_getmetatable(L, MP_EXT_MT);
    lua_setmetatable(L, -2);
    return 1;
}

static int l_msgpack_is_ext(lua_State *L)
{
    lua_pushboolean(L, lua_istable(L, 1) && s_has_mt(L, 1, MP_EXT_MT));
    return 1;
}

/* Lua: array([t]) -> t (or a new table) with the array metatable */
static int l_msgpack_array(lua_State *L)
{
    if (lua_isnoneornil(L, 1)) {
        lua_settop(L, 0);
        lua_newtable(L);
    } else {
        luaL_checktype(L, 1, LUA_TTABLE);
        lua_settop(L, 1);
    }
    luaL_getmetatable(L, MP_ARRAY_MT);
    lua_setmetatable(L, 1);
    return 1;
}

static int l_msgpack_is_array(lua_State *L)
{
    lua_pushboolean(L, lua_istable(L, 1) && s_has_mt(L, 1, MP_ARRAY_MT));
    return 1;
}

static void s_newmt(lua_State *L, const char *name, lua_CFunction gc)
{
    luaL_newmetatable(L, name);
    lua_pushstring(L, name);
    lua_setfield(L, -2, "__name");
    if (gc) {
        lua_pushcfunction(L, gc);
        lua_setfield(L, -2, "__gc");
    }
    lua_pop(L, 1);
}

int luaopen_bai_msgpack(lua_State *L)
{
    static const luaL_Reg fns[] = {
        {"encode", l_msgpack_encode},
        {"decode", l_msgpack_decode},
        {"bin", l_msgpack_bin},
        {"is_bin", l_msgpack_is_bin},
        {"ext", l_msgpack_ext},
        {"is_ext", l_msgpack_is_ext},
        {"array", l_msgpack_array},
        {"is_array", l_msgpack_is_array},
        {NULL, NULL},
    };
    bai_lua_error_mt(L);
    s_newmt(L, MP_ARRAY_MT, NULL);
    s_newmt(L, MP_BIN_MT, NULL);
    s_newmt(L, MP_EXT_MT, NULL);
    s_newmt(L, MP_BUF_MT, s_buf_gc);
    s_newmt(L, MP_UNPACKED_MT, s_unpacked_gc);

    lua_newtable(L);
    bai_lua_setfuncs(L, fns);
    lua_pushlightuserdata(L, NULL);
    lua_setfield(L, -2, "null");
    luaL_getmetatable(L, MP_ARRAY_MT);
    lua_setfield(L, -2, "array_mt");
    luaL_getmetatable(L, MP_BIN_MT);
    lua_setfield(L, -2, "bin_mt");
    luaL_getmetatable(L, MP_EXT_MT);
    lua_setfield(L, -2, "ext_mt");
    return 1;
}
