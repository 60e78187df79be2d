/*
 * toml_lua.cc — "bai.core.toml": parses TOML text (toml++, exceptions disabled) into Lua
 * tables, plus a table of source positions so configuration errors can name the line.
 * Called from Lua on the loop thread only; it never yields and never lets a C++ exception
 * reach Lua.
 */
#define TOML_EXCEPTIONS 0
#include <toml++/toml.h>

#include <cstdio>
#include <new>
#include <string>

#include "bai_lua.h"

namespace
{

/* Stack on entry of s_push_node: ..., positions table at index `pos`. */
void s_set_position(lua_State *L, int pos, const std::string &path, const toml::source_position &at)
{
    lua_pushlstring(L, path.data(), path.size());
    lua_createtable(L, 0, 2);
    lua_pushinteger(L, static_cast<lua_Integer>(at.line));
    lua_setfield(L, -2, "line");
    lua_pushinteger(L, static_cast<lua_Integer>(at.column));
    lua_setfield(L, -2, "column");
    lua_rawset(L, pos);
}

void s_push_offset(std::string &out, const toml::time_offset &off)
{
    char buf[16];
    if (off.minutes == 0) {
        out += 'Z';
        return;
    }
    int m = off.minutes < 0 ? -off.minutes : off.minutes;
    std::snprintf(buf, sizeof buf, "%c%02d:%02d", off.minutes < 0 ? '-' : '+', m / 60, m % 60);
    out += buf;
}

void s_format_date(std::string &out, const toml::date &d)
{
    char buf[32];
    std::snprintf(buf, sizeof buf, "%04u-%02u-%02u", static_cast<unsigned>(d.year),
                  static_cast<unsigned>(d.month), static_cast<unsigned>(d.day));
    out += buf;
}

void s_format_time(std::string &out, const toml::time &t)
{
    char buf[32];
    std::snprintf(buf, sizeof buf, "%02u:%02u:%02u", static_cast<unsigned>(t.hour),
                  static_cast<unsigned>(t.minute), static_cast<unsigned>(t.second));
    out += buf;
    if (t.nanosecond) {
        std::snprintf(buf, sizeof buf, ".%09u", static_cast<unsigned>(t.nanosecond));
        std::string frac(buf);
        while (frac.back() == '0')
            frac.pop_back();
        out += frac;
    }
}

void s_push_node(lua_State *L, int pos, const toml::node &node, const std::string &path);

void s_push_table(lua_State *L, int pos, const toml::table &tbl, const std::string &path)
{
    lua_createtable(L, 0, static_cast<int>(tbl.size()));
    for (auto &&[key, value] : tbl) {
        std::string sub = path;
        if (!sub.empty())
            sub += '.';
        sub.append(key.str().data(), key.str().size());
        const toml::source_position &at =
            key.source().begin ? key.source().begin : value.source().begin;
        s_set_position(L, pos, sub, at);
        lua_pushlstring(L, key.str().data(), key.str().size());
        s_push_node(L, pos, value, sub);
        lua_rawset(L, -3);
    }
}

void s_push_node(lua_State *L, int pos, const toml::node &node, const std::string &path)
{
    luaL_checkstack(L, 6, "toml: nesting too deep");
    switch (node.type()) {
    case toml::node_type::table:
        s_push_table(L, pos, *node.as_table(), path);
        break;
    case toml::node_type::array: {
        const toml::array &arr = *node.as_array();
        lua_createtable(L, static_cast<int>(arr.size()), 0);
        for (size_t i = 0; i < arr.size(); i++) {
            std::string sub = path + "[" + std::to_string(i + 1) + "]";
            s_set_position(L, pos, sub, arr[i].source().begin);
            s_push_node(L, pos, arr[i], sub);
            lua_rawseti(L, -2, static_cast<int>(i + 1));
        }
        break;
    }
    case toml::node_type::string: {
        const std::string &s = node.as_string()->get();
        lua_pushlstring(L, s.data(), s.size());
        break;
    }
    case toml::node_type::integer:
        /* lua_Number is a double: integers beyond 2^53 lose precision */
        lua_pushnumber(L, static_cast<lua_Number>(node.as_integer()->get()));
        break;
    case toml::node_type::floating_point:
        lua_pushnumber(L, static_cast<lua_Number>(node.as_floating_point()->get()));
        break;
    case toml::node_type::boolean:
        lua_pushboolean(L, node.as_boolean()->get() ? 1 : 0);
        break;
    case toml::node_type::date: {
        std::string s;
        s_format_date(s, node.as_date()->get());
        lua_pushlstring(L, s.data(), s.size());
        break;
    }
    case toml::node_type::time: {
        std::string s;
        s_format_time(s, node.as_time()->get());
        lua_pushlstring(L, s.data(), s.size());
        break;
    }
    case toml::node_type::date_time: {
        const toml::date_time &dt = node.as_date_time()->get();
        std::string s;
        s_format_date(s, dt.date);
        s += 'T';
        s_format_time(s, dt.time);
        if (dt.offset)
            s_push_offset(s, *dt.offset);
        lua_pushlstring(L, s.data(), s.size());
        break;
    }
    default:
        lua_pushnil(L);
        break;
    }
}

/* Lua: parse(text [, source_name]) -> table, positions | nil, bai.Error{code="EINVAL"} */
int l_toml_parse(lua_State *L)
{
    size_t len = 0;
    const char *text = luaL_checklstring(L, 1, &len);
    const char *source = luaL_optstring(L, 2, "<string>");
    char failure[512] = "";

    lua_settop(L, 2);
    lua_newtable(L); /* 3: positions */
    try {
        toml::parse_result res = toml::parse(std::string_view(text, len), std::string_view(source));
        if (res) {
            s_push_table(L, 3, res.table(), std::string());
            lua_pushvalue(L, 3);
            return 2;
        }
        const toml::parse_error &e = res.error();
        std::string desc(e.description());
        std::snprintf(failure, sizeof failure, "%s:%u:%u: %s", source,
                      static_cast<unsigned>(e.source().begin.line),
                      static_cast<unsigned>(e.source().begin.column), desc.c_str());
    } catch (const std::bad_alloc &) {
        std::snprintf(failure, sizeof failure, "%s: out of memory", source);
    } catch (const std::exception &ex) {
        std::snprintf(failure, sizeof failure, "%s: %s", source, ex.what());
    }
    /* report outside the handler: pushing may raise a Lua error */
    return bai_lua_push_errf(L, "EINVAL", "%s", failure);
}

} // namespace

extern "C" int luaopen_bai_toml(lua_State *L)
{
    static const luaL_Reg fns[] = {{"parse", l_toml_parse}, {nullptr, nullptr}};
    lua_newtable(L);
    bai_lua_setfuncs(L, fns);
    return 1;
}
