-- bai.http and bai.docker against the local Docker daemon's unix socket (tagged #docker:
-- the daemon must be up; these fail loudly without it, never skip).
local sched = require("bai.sched")
local http = require("bai.http")
local docker = require("bai.docker")

local run = require("helpers.async").run

local PING = "http://localhost" .. docker.API .. "/_ping"

describe("bai.http #docker", function()
  it("GETs /_ping over the Docker unix socket: 200 OK", function()
    run(function()
      local res = assert(http.request({ url = PING, unix_socket = docker.socket, timeout = 5 }))
      assert.equal(200, res.status)
      assert.equal("OK", res.body)
      assert.equal("1.41", res.header["api-version"])
      assert.matches("^HTTP/1%.1 200", res.headers)
    end)
  end)

  it("returns a transport error (EHTTP), not a hang, for a missing socket path", function()
    run(function()
      local t0 = sched.now()
      local res, err = http.request({
        url = PING,
        unix_socket = "/nonexistent/bai-no-such.sock",
        timeout = 10,
      })
      assert.is_nil(res)
      assert.equal("EHTTP", err.code)
      assert.is_true(sched.now() - t0 < 2)
    end)
  end)

  it("fails with E2BIG when the body exceeds max_body", function()
    run(function()
      local res, err = http.request({
        url = "http://localhost" .. docker.API .. "/version",
        unix_socket = docker.socket,
        timeout = 5,
        max_body = 10,
      })
      assert.is_nil(res)
      assert.equal("E2BIG", err.code)
      -- the same request with room for the body succeeds
      local ok = assert(http.request({
        url = "http://localhost" .. docker.API .. "/version",
        unix_socket = docker.socket,
        timeout = 5,
        max_body = 1024 * 1024,
      }))
      assert.equal(200, ok.status)
    end)
  end)

  it("returns ETIMEDOUT when the server does not finish in time", function()
    run(function()
      -- /events streams until `until`: it stays open for seconds
      local now = math.floor(require("bai.core.loop").time())
      local t0 = sched.now()
      local res, err = http.request({
        url = "http://localhost" .. docker.API .. "/events?since=" .. now .. "&until=" .. (now + 10),
        unix_socket = docker.socket,
        timeout = 0.3,
      })
      assert.is_nil(res)
      assert.equal("ETIMEDOUT", err.code)
      assert.is_true(sched.now() - t0 < 3)
    end)
  end)

  it("completes 20 concurrent requests from separate tasks", function()
    run(function()
      local tasks = {}
      for i = 1, 20 do
        tasks[i] = sched.spawn(function()
          local path = (i % 2 == 0) and "/_ping" or "/version"
          local res, err = http.request({
            url = "http://localhost" .. docker.API .. path,
            unix_socket = docker.socket,
            timeout = 10,
          })
          if not res then
            return nil, err
          end
          return res.status
        end, "req" .. i)
      end
      for i = 1, 20 do
        local status, err = tasks[i]:join(15)
        assert.is_nil(err)
        assert.equal(200, status)
      end
    end)
  end)

  it("reports a stream that fails mid-body as an error, not as its end", function()
    run(function()
      -- the event stream never ends by itself: the transfer limit cuts it (filtered to
      -- a label nothing carries, so other users of the daemon add no events)
      local s = assert(docker.stream("GET", "/events", { timeout = 0.5,
        query = { filters = { label = { "bai-test-nothing-has-this=1" } } } }))
      local d, err = s:read(5)
      assert.is_nil(d)
      assert.equal("ETIMEDOUT", err.code)
      local res, rerr = s:result(5)
      assert.is_nil(res)
      assert.equal("ETIMEDOUT", rerr.code)
      s:close()
    end)
  end)

  it("keeps its connections out of child processes", function()
    run(function()
      local s = assert(docker.stream("GET", "/events"))
      sched.sleep(0.2)
      assert.equal("1.41", s:headers()["api-version"], "the event stream is not connected")
      local r = assert(require("bai.proc").run({ "sh", "-c", "ls /proc/$$/fd" }))
      s:close()
      assert.equal("0\n1\n2\n", r.stdout)
    end)
  end)

  it("streams a body with :read() and reports the status", function()
    run(function()
      local s = assert(http.stream({ url = PING, unix_socket = docker.socket, timeout = 5 }))
      local chunks = {}
      while true do
        local d, err = s:read(5)
        assert.is_nil(err)
        if not d then
          break
        end
        chunks[#chunks + 1] = d
      end
      local res = assert(s:result(5))
      s:close()
      assert.equal(200, res.status)
      assert.equal("OK", table.concat(chunks))
    end)
  end)

  describe("bai.docker", function()
    after_each(function()
      docker.configure({ socket = "/var/run/docker.sock" })
    end)

    it("ping and version answer", function()
      run(function()
        assert.is_true(docker.ping())
        local v = assert(docker.version())
        assert.equal("string", type(v.Version))
        assert.equal("string", type(v.ApiVersion))
      end)
    end)

    it("image_inspect of a missing image is DOCKER_NOT_FOUND with status 404", function()
      run(function()
        local info, err = docker.image_inspect("bai-test/definitely-missing:nope")
        assert.is_nil(info)
        assert.equal("DOCKER_NOT_FOUND", err.code)
        assert.equal(404, err.status)
      end)
    end)

    it("is DOCKER_UNAVAILABLE when the socket does not exist", function()
      run(function()
        docker.configure({ socket = "/nonexistent/docker.sock" })
        local ok, err = docker.ping()
        assert.is_nil(ok)
        assert.equal("DOCKER_UNAVAILABLE", err.code)
      end)
    end)

    it("demux strips stream headers and leaves plain text alone", function()
      local function frame(stream, payload)
        local n = #payload
        return string.char(stream, 0, 0, 0, math.floor(n / 16777216) % 256,
          math.floor(n / 65536) % 256, math.floor(n / 256) % 256, n % 256) .. payload
      end
      local big = string.rep("z", 300)
      local buf = frame(1, "hello ") .. frame(2, "world\n") .. frame(1, "") .. frame(1, big)
      assert.equal("hello world\n" .. big, docker.demux(buf))
      assert.equal("", docker.demux(""))
      assert.equal("plain log line\n", docker.demux("plain log line\n"))
      assert.equal("abc", docker.demux("abc"))
    end)

    it("urlencode escapes reserved characters", function()
      assert.equal("a%20b%2Fc%3D~", docker.urlencode("a b/c=~"))
    end)
  end)
end)
