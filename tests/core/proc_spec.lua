-- bai.proc on the real loop: run() collection, env/cwd, timeouts, streaming reads, kill.
local sched = require("bai.sched")
local proc = require("bai.proc")

local run = require("helpers.async").run

describe("bai.proc", function()
  local opened

  before_each(function()
    opened = {}
  end)

  after_each(function()
    for _, p in ipairs(opened) do
      p:close()
    end
  end)

  local function spawn(argv, opts)
    local p, err = proc.spawn(argv, opts)
    if p then
      opened[#opened + 1] = p
    end
    return p, err
  end

  describe("run", function()
    it("collects stdout, stderr and the exit code", function()
      run(function()
        local res = assert(proc.run({ "sh", "-c", "echo out; echo err >&2; exit 3" }))
        assert.equal(3, res.code)
        assert.equal(0, res.signal)
        assert.equal("out\n", res.stdout)
        assert.equal("err\n", res.stderr)
      end)
    end)

    it("feeds input to stdin", function()
      run(function()
        local res = assert(proc.run({ "cat" }, { input = "line 1\nline 2\n" }))
        assert.equal(0, res.code)
        assert.equal("line 1\nline 2\n", res.stdout)
      end)
    end)

    it("collects output larger than a pipe buffer", function()
      run(function()
        local res = assert(proc.run({ "sh", "-c", "head -c 300000 /dev/zero | tr '\\0' x" }))
        assert.equal(0, res.code)
        assert.equal(300000, #res.stdout)
        assert.equal(string.rep("x", 300000), res.stdout)
      end)
    end)

    it("passes env as a map and as a list, replacing the environment", function()
      run(function()
        local env = { FOO = "bar", BAZ = "with space", A = "1", B = "2", C = "3", D = "4" }
        local res = assert(proc.run({ "sh", "-c", 'echo "$FOO|$BAZ|$A$B$C$D|${HOME:-unset}"' },
          { env = env }))
        assert.equal("bar|with space|1234|unset\n", res.stdout)
        -- the caller's table is not modified
        local n = 0
        for _ in pairs(env) do
          n = n + 1
        end
        assert.equal(6, n)
        local res2 = assert(proc.run({ "sh", "-c", 'echo "$X-$Y"' }, { env = { "X=1", "Y=2" } }))
        assert.equal("1-2\n", res2.stdout)
      end)
    end)

    it("runs in cwd", function()
      run(function()
        local res = assert(proc.run({ "pwd" }, { cwd = "/" }))
        assert.equal("/\n", res.stdout)
      end)
    end)

    it("returns ENOENT for a missing program or cwd (a spawn error, not an exit code)", function()
      run(function()
        local res, err = proc.run({ "/nonexistent/bai-no-such-program" })
        assert.is_nil(res)
        assert.equal("ENOENT", err.code)
        local res2, err2 = proc.run({ "true" }, { cwd = "/nonexistent/dir" })
        assert.is_nil(res2)
        assert.equal("ENOENT", err2.code)
      end)
    end)

    it("kills a command past its timeout and returns ETIMEDOUT quickly", function()
      run(function()
        local t0 = sched.now()
        local res, err = proc.run({ "sleep", "30" }, { timeout = 0.2 })
        local dt = sched.now() - t0
        assert.is_nil(res)
        assert.equal("ETIMEDOUT", err.code)
        assert.is_true(dt < 3, "took " .. dt)
      end)
    end)
  end)

  describe("Process", function()
    it("allows one reader per stream (EBUSY for a second)", function()
      run(function()
        local p = assert(spawn({ "sh", "-c", "sleep 0.5; echo done" }))
        local first = sched.spawn(function()
          return p:read("stdout", 5)
        end)
        sched.sleep(0.05)
        local d, err = p:read("stdout", 5)
        assert.is_nil(d)
        assert.equal("EBUSY", err.code)
        assert.equal("done\n", first:join(5))
        p:wait(5)
      end)
    end)

    it("streams output in chunks before the process exits", function()
      run(function()
        local p = assert(spawn({ "sh", "-c", "echo one; sleep 0.3; echo two; sleep 0.3; echo three" }))
        local chunks, running_at = {}, {}
        while true do
          local d, err = p:read("stdout", 5)
          assert.is_nil(err)
          if not d then
            break
          end
          chunks[#chunks + 1] = d
          running_at[#running_at + 1] = (p.handle:status() == nil)
        end
        assert.equal("one\ntwo\nthree\n", table.concat(chunks))
        assert.is_true(#chunks >= 2)
        assert.is_true(running_at[1], "first chunk arrived only after exit")
        assert.equal(0, (p:wait(5)))
      end)
    end)

    it("read returns ETIMEDOUT while no output arrives", function()
      run(function()
        local p = assert(spawn({ "sleep", "30" }))
        local d, err = p:read("stdout", 0.05)
        assert.is_nil(d)
        assert.equal("ETIMEDOUT", err.code)
        local code, werr = p:wait(0.05)
        assert.is_nil(code)
        assert.equal("ETIMEDOUT", werr.code)
      end)
    end)

    it("kill with TERM ends it with code -1 and signal 15", function()
      run(function()
        local p = assert(spawn({ "sleep", "30" }, { stdout = "null", stderr = "null" }))
        assert.is_true(p:pid() > 0)
        assert.is_true(p:kill("TERM"))
        local code, sig = p:wait(5)
        assert.equal(-1, code)
        assert.equal(15, sig)
      end)
    end)

    it("writes stdin and ends on close_stdin", function()
      run(function()
        local p = assert(spawn({ "cat" }, { stdin = true }))
        assert.is_true(p:write("ping\n"))
        assert.equal("ping\n", p:read("stdout", 5))
        p:close_stdin()
        assert.is_nil(p:read("stdout", 5))
        assert.equal(0, (p:wait(5)))
        local ok, err = p:write("late")
        assert.is_nil(ok)
        assert.equal("ECLOSED", err.code)
      end)
    end)

    it("merges stderr into stdout with stderr = \"stdout\"", function()
      run(function()
        local p = assert(spawn({ "sh", "-c", "echo a; echo b >&2" }, { stderr = "stdout" }))
        local out = {}
        while true do
          local d = p:read("stdout", 5)
          if not d then
            break
          end
          out[#out + 1] = d
        end
        assert.equal("a\nb\n", table.concat(out))
        assert.is_nil(p:read("stderr", 1))
        assert.equal(0, (p:wait(5)))
      end)
    end)
  end)
end)
