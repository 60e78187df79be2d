-- The floor for RPC latency: a bare ROUTER that echoes every message, with no decoding.
-- Run inside the host: bai-agent script bench/echo_server.lua ENDPOINT
local sched = require("bai.sched")
local zmq = require("bai.zmq")
local loop = require("bai.core.loop")

local endpoint = ...
sched.block_on(function()
  loop.signal_watch("TERM")
  local sock = assert(zmq.socket("ROUTER", { linger = 0 }))
  assert(sock:bind(endpoint))
  sched.spawn(function()
    sched.await(loop.SIGNAL_TOKEN)
    sched.stop()
  end)
  sock:each(function(frames)
    sock:send(frames)
  end)
end)
return 0
