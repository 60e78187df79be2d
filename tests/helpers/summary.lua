-- A busted output handler: one line per test, failure details, and a closing
-- "N passed, N failed" line that the CI reads.
return function(options)
  local busted = require("busted")
  local handler = require("busted.outputHandlers.base")()
  local out = io.stdout

  local function name_of(element)
    return handler.getFullName(element)
  end

  handler.testEnd = function(element, parent, status, debug)
    local label = ({ success = "ok", failure = "FAIL", error = "ERROR", pending = "skip" })[status]
      or status
    out:write(string.format("%-5s %s\n", label, name_of(element)))
    out:flush()
    return nil, true
  end

  handler.suiteEnd = function()
    local function dump(list, label)
      for _, f in ipairs(list) do
        out:write(string.format("\n%s: %s\n", label, f.name or "?"))
        if f.trace and f.trace.short_src then
          out:write(string.format("  at %s:%s\n", f.trace.short_src, tostring(f.trace.currentline)))
        end
        out:write("  " .. tostring(f.message):gsub("\n", "\n  ") .. "\n")
      end
    end
    dump(handler.failures, "FAILURE")
    dump(handler.errors, "ERROR")
    local passed = handler.successesCount
    local failed = handler.failuresCount + handler.errorsCount
    out:write(string.format("\n%d passed, %d failed\n", passed, failed))
    out:flush()
    return nil, true
  end

  busted.subscribe({ "test", "end" }, handler.testEnd, { predicate = handler.cancelOnPending })
  busted.subscribe({ "suite", "end" }, handler.suiteEnd)
  return handler
end
