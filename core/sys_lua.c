/*
 * sys_lua.c — luaopen_bai_sys ("bai.core.sys"): host facts for the agent's heartbeat and
 * resource reports (hostname, arch, kernel, CPUs, memory) plus small process helpers
 * (ids, clocks, environment, random ids). Synchronous; call from the loop thread.
 */
#include "bai_lua.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/sysinfo.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#define S_MAX_RANDOM 4096

static int s_push_sys_err(lua_State *L, const char *what)
{
    bai_err_t err = NULL;
    bai_err_sys(&err, "%s", what);
    return bai_lua_push_err(L, &err);
}

/* Lua: sys.hostname() -> string | nil, err */
static int l_sys_hostname(lua_State *L)
{
    char name[256];
    if (gethostname(name, sizeof(name)) < 0)
        return s_push_sys_err(L, "gethostname");
    name[sizeof(name) - 1] = '\0';
    lua_pushstring(L, name);
    return 1;
}

static int s_push_uname_field(lua_State *L, int release)
{
    struct utsname u;
    if (uname(&u) < 0)
        return s_push_sys_err(L, "uname");
    lua_pushstring(L, release ? u.release : u.machine);
    return 1;
}

/* Lua: sys.arch() -> uname machine, e.g. "x86_64" */
static int l_sys_arch(lua_State *L)
{
    return s_push_uname_field(L, 0);
}

/* Lua: sys.kernel() -> uname release, e.g. "6.1.0-18-amd64" */
static int l_sys_kernel(lua_State *L)
{
    return s_push_uname_field(L, 1);
}

/* Fill a dynamically sized CPU set with this process's affinity; returns its size or
 * 0 on failure (errno set). The caller CPU_FREEs *out. */
static size_t s_affinity(cpu_set_t **out)
{
    for (int ncpu = 1024; ncpu <= 1 << 20; ncpu *= 2) {
        cpu_set_t *set = CPU_ALLOC(ncpu);
        if (!set)
            BAI_OOM();
        size_t size = CPU_ALLOC_SIZE(ncpu);
        if (sched_getaffinity(0, size, set) == 0) {
            *out = set;
            return size;
        }
        int e = errno;
        CPU_FREE(set);
        if (e != EINVAL) {
            errno = e;
            return 0;
        }
    }
    errno = EINVAL;
    return 0;
}

/* Lua: sys.cpu_list() -> sorted array of CPU ids this process may run on | nil, err */
static int l_sys_cpu_list(lua_State *L)
{
    cpu_set_t *set = NULL;
    size_t size = s_affinity(&set);
    if (!size)
        return s_push_sys_err(L, "sched_getaffinity");
    lua_newtable(L);
    int k = 0;
    for (size_t cpu = 0; cpu < size * 8; cpu++) {
        if (CPU_ISSET_S(cpu, size, set)) {
            lua_pushinteger(L, (lua_Integer)cpu);
            lua_rawseti(L, -2, ++k);
        }
    }
    CPU_FREE(set);
    return 1;
}

/* Lua: sys.cpu_count() -> number of CPUs this process may run on */
static int l_sys_cpu_count(lua_State *L)
{
    cpu_set_t *set = NULL;
    size_t size = s_affinity(&set);
    if (!size) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        lua_pushinteger(L, n > 0 ? n : 1);
        return 1;
    }
    lua_pushinteger(L, CPU_COUNT_S(size, set));
    CPU_FREE(set);
    return 1;
}

/* Lua: sys.mem_total() -> bytes of RAM (MemTotal, else sysinfo) | nil, err */
static int l_sys_mem_total(lua_State *L)
{
    FILE *f = fopen("/proc/meminfo", "re");
    if (f) {
        char line[256];
        unsigned long long kb = 0;
        int found = 0;
        while (fgets(line, sizeof(line), f)) {
            if (sscanf(line, "MemTotal: %llu kB", &kb) == 1) {
                found = 1;
                break;
            }
        }
        fclose(f);
        if (found) {
            lua_pushnumber(L, (lua_Number)kb * 1024.0);
            return 1;
        }
    }
    struct sysinfo si;
    if (sysinfo(&si) < 0)
        return s_push_sys_err(L, "sysinfo");
    lua_pushnumber(L, (lua_Number)si.totalram * (lua_Number)si.mem_unit);
    return 1;
}

/* Lua: sys.cpu_model() -> the first "model name" in /proc/cpuinfo, or "" */
static int l_sys_cpu_model(lua_State *L)
{
    FILE *f = fopen("/proc/cpuinfo", "re");
    if (f) {
        char line[512];
        while (fgets(line, sizeof(line), f)) {
            if (strncmp(line, "model name", 10) != 0)
                continue;
            char *colon = strchr(line, ':');
            if (!colon)
                continue;
            char *v = colon + 1;
            while (*v == ' ' || *v == '\t')
                v++;
            size_t n = strlen(v);
            while (n > 0 && (v[n - 1] == '\n' || v[n - 1] == ' ' || v[n - 1] == '\t'))
                n--;
            fclose(f);
            lua_pushlstring(L, v, n);
            return 1;
        }
        fclose(f);
    }
    lua_pushliteral(L, "");
    return 1;
}

/* Lua: sys.pid() / getuid() / geteuid() / getgid() -> integer */
static int l_sys_pid(lua_State *L)
{
    lua_pushinteger(L, (lua_Integer)getpid());
    return 1;
}

static int l_sys_getuid(lua_State *L)
{
    lua_pushnumber(L, (lua_Number)getuid());
    return 1;
}

static int l_sys_geteuid(lua_State *L)
{
    lua_pushnumber(L, (lua_Number)geteuid());
    return 1;
}

static int l_sys_getgid(lua_State *L)
{
    lua_pushnumber(L, (lua_Number)getgid());
    return 1;
}

static int s_push_clock(lua_State *L, clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    lua_pushnumber(L, (lua_Number)ts.tv_sec + (lua_Number)ts.tv_nsec / 1e9);
    return 1;
}

/* Lua: sys.time() -> wall-clock seconds since the epoch (float) */
static int l_sys_time(lua_State *L)
{
    return s_push_clock(L, CLOCK_REALTIME);
}

/* Lua: sys.monotonic() -> monotonic seconds (float), for measuring intervals */
static int l_sys_monotonic(lua_State *L)
{
    return s_push_clock(L, CLOCK_MONOTONIC);
}

/* Lua: sys.getenv(name) -> string | nil */
static int l_sys_getenv(lua_State *L)
{
    const char *v = getenv(luaL_checkstring(L, 1));
    if (v)
        lua_pushstring(L, v);
    else
        lua_pushnil(L);
    return 1;
}

/* Lua: sys.exe_path() -> absolute path of the running binary | nil, err */
static int l_sys_exe_path(lua_State *L)
{
    char buf[4096];
    ssize_t n = readlink("/proc/self/exe", buf, sizeof(buf));
    if (n < 0)
        return s_push_sys_err(L, "readlink /proc/self/exe");
    if ((size_t)n >= sizeof(buf))
        return bai_lua_push_errf(L, "ENAMETOOLONG", "readlink /proc/self/exe: path too long");
    lua_pushlstring(L, buf, (size_t)n);
    return 1;
}

/* Lua: sys.isatty(fd) -> boolean */
static int l_sys_isatty(lua_State *L)
{
    lua_pushboolean(L, isatty((int)luaL_checkinteger(L, 1)) == 1);
    return 1;
}

/* Lua: sys.tcp_port_free(ipv4, port) -> whether a TCP listener could bind there now.
 * SO_REUSEADDR, so ports in TIME_WAIT count as free (as they do for docker-proxy). */
static int l_sys_tcp_port_free(lua_State *L)
{
    const char *host = luaL_checkstring(L, 1);
    int port = (int)luaL_checkinteger(L, 2);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    if (port <= 0 || port > 65535 || inet_pton(AF_INET, host, &sa.sin_addr) != 1)
        return luaL_argerror(L, 1, "expected an IPv4 address and a port");
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return bai_lua_push_errf(L, "ESYS", "socket: %s", strerror(errno));
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    int ok = bind(fd, (struct sockaddr *)&sa, sizeof sa) == 0;
    close(fd);
    lua_pushboolean(L, ok);
    return 1;
}

/* Lua: sys.random_hex(nbytes) -> 2*nbytes lowercase hex digits from getrandom(2) */
static int l_sys_random_hex(lua_State *L)
{
    lua_Integer n = luaL_checkinteger(L, 1);
    luaL_argcheck(L, n >= 0 && n <= S_MAX_RANDOM, 1, "nbytes must be 0..4096");
    unsigned char raw[S_MAX_RANDOM];
    size_t got = 0;
    while (got < (size_t)n) {
        ssize_t r = getrandom(raw + got, (size_t)n - got, 0);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            return s_push_sys_err(L, "getrandom");
        }
        got += (size_t)r;
    }
    static const char hex[] = "0123456789abcdef";
    char out[2 * S_MAX_RANDOM];
    for (size_t i = 0; i < (size_t)n; i++) {
        out[2 * i] = hex[raw[i] >> 4];
        out[2 * i + 1] = hex[raw[i] & 15];
    }
    lua_pushlstring(L, out, 2 * (size_t)n);
    return 1;
}

int luaopen_bai_sys(lua_State *L)
{
    static const luaL_Reg fns[] = {
        {"hostname", l_sys_hostname},
        {"arch", l_sys_arch},
        {"kernel", l_sys_kernel},
        {"cpu_list", l_sys_cpu_list},
        {"cpu_count", l_sys_cpu_count},
        {"mem_total", l_sys_mem_total},
        {"cpu_model", l_sys_cpu_model},
        {"pid", l_sys_pid},
        {"getuid", l_sys_getuid},
        {"geteuid", l_sys_geteuid},
        {"getgid", l_sys_getgid},
        {"time", l_sys_time},
        {"monotonic", l_sys_monotonic},
        {"getenv", l_sys_getenv},
        {"exe_path", l_sys_exe_path},
        {"isatty", l_sys_isatty},
        {"random_hex", l_sys_random_hex},
        {"tcp_port_free", l_sys_tcp_port_free},
        {NULL, NULL},
    };
    lua_newtable(L);
    bai_lua_setfuncs(L, fns);
    return 1;
}
