-- bai-agent module manifest (builtin type). Documents and installs the Lua tree; it is
-- never used to fetch dependencies (those are Debian packages; see scripts/lib.sh).
-- tests/unit/manifest_spec.lua checks that it lists every module under lua/ and runner/lua/.
rockspec_format = "3.0"
package = "bai-agent"
version = "scm-1"
source = { url = "git+file:///bai-agent" }
description = {
  summary = "Backend.AI compute agent in C and LuaJIT",
  license = "LGPL-3.0-or-later",
}
dependencies = { "lua == 5.1" }
build = {
  type = "builtin",
  modules = {
    ["bai.agent"] = "lua/bai/agent/init.lua",
    ["bai.agent.kconfig"] = "lua/bai/agent/kconfig.lua",
    ["bai.agent.kernel"] = "lua/bai/agent/kernel.lua",
    ["bai.agent.monitor"] = "lua/bai/agent/monitor.lua",
    ["bai.agent.resources"] = "lua/bai/agent/resources.lua",
    ["bai.agent.runner_client"] = "lua/bai/agent/runner_client.lua",
    ["bai.cli.call"] = "lua/bai/cli/call.lua",
    ["bai.cli.serve"] = "lua/bai/cli/serve.lua",
    ["bai.config"] = "lua/bai/config.lua",
    ["bai.docker"] = "lua/bai/docker.lua",
    ["bai.errors"] = "lua/bai/errors.lua",
    ["bai.fs"] = "lua/bai/fs.lua",
    ["bai.http"] = "lua/bai/http.lua",
    ["bai.json"] = "lua/bai/json.lua",
    ["bai.log"] = "lua/bai/log.lua",
    ["bai.main"] = "lua/bai/main.lua",
    ["bai.msgpack"] = "lua/bai/msgpack.lua",
    ["bai.proc"] = "lua/bai/proc.lua",
    ["bai.rpc.client"] = "lua/bai/rpc/client.lua",
    ["bai.rpc.codec"] = "lua/bai/rpc/codec.lua",
    ["bai.rpc.handlers"] = "lua/bai/rpc/handlers/init.lua",
    ["bai.rpc.handlers.agent"] = "lua/bai/rpc/handlers/agent.lua",
    ["bai.rpc.handlers.execution"] = "lua/bai/rpc/handlers/execution.lua",
    ["bai.rpc.handlers.kernels"] = "lua/bai/rpc/handlers/kernels.lua",
    ["bai.rpc.handlers.networks"] = "lua/bai/rpc/handlers/networks.lua",
    ["bai.rpc.server"] = "lua/bai/rpc/server.lua",
    ["bai.sched"] = "lua/bai/sched.lua",
    ["bai.schema"] = "lua/bai/schema.lua",
    ["bai.tar"] = "lua/bai/tar.lua",
    ["bai.typedefs"] = "lua/bai/typedefs.lua",
    ["bai.zmq"] = "lua/bai/zmq.lua",
    ["bai.runner.log"] = "runner/lua/bai/runner/log.lua",
    ["bai.runner.main"] = "runner/lua/bai/runner/main.lua",
    ["bai.runner.server"] = "runner/lua/bai/runner/server.lua",
  },
}
