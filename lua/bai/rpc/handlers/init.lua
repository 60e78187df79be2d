--- The RPC method table: every handler family merged into one map.
local M = {}

M.FAMILIES = { "agent", "kernels", "execution", "networks" }

--- Build the method -> handler map for an agent.
---@param agent bai.Agent
---@param stats table the server's counters (exposed by bai_stats)
---@return table<string, bai.rpc.Handler>
function M.build(agent, stats)
  local all = {}
  for _, fam in ipairs(M.FAMILIES) do
    for name, h in pairs(require("bai.rpc.handlers." .. fam)(agent, stats)) do
      assert(all[name] == nil, "duplicate RPC method " .. name)
      all[name] = h
    end
  end
  return all
end

return M
