-- Pure helpers of kernel creation: image references, service-port labels, config
-- validation, and the environ.txt / resource.txt formats (reference §3, §5).
local kconfig = require("bai.agent.kconfig")
local mp = require("bai.msgpack")

describe("bai.agent.kconfig", function()
  describe("image_ref", function()
    it("builds canonical and short names and picks short for local images", function()
      local r = assert(kconfig.image_ref({ name = "python", project = "stable",
        tag = "3.9-ubuntu20.04", registry = "cr.backend.ai", architecture = "amd64",
        is_local = false }))
      assert.equal("cr.backend.ai/stable/python:3.9-ubuntu20.04", r.canonical)
      assert.equal("stable/python:3.9-ubuntu20.04", r.short)
      assert.equal(r.canonical, r.docker_name)
      assert.equal("x86_64", r.architecture)
      local l = assert(kconfig.image_ref({ name = "busybox", project = "bai-test", tag = "latest",
        registry = "local", is_local = true }))
      assert.equal("bai-test/busybox:latest", l.docker_name)
    end)

    it("skips missing parts anywhere (no registry, no project)", function()
      local r = assert(kconfig.image_ref({ name = "busybox", tag = "1", is_local = true }))
      assert.equal("busybox:1", r.canonical)
      assert.equal("busybox:1", r.docker_name)
      r = assert(kconfig.image_ref({ name = "img", project = mp.null, registry = "reg:5000",
        tag = "2" }))
      assert.equal("reg:5000/img:2", r.canonical)
      assert.equal("img:2", r.short)
    end)

    it("defaults the tag to latest and rejects bad tags and missing names", function()
      assert.equal("x:latest", assert(kconfig.image_ref({ name = "x" })).canonical)
      local r, err = kconfig.image_ref({ name = "x", tag = "-bad" })
      assert.is_nil(r)
      assert.equal("VALUE_ERROR", err.code)
      r, err = kconfig.image_ref({ project = "p" })
      assert.is_nil(r)
      assert.equal("VALUE_ERROR", err.code)
    end)

    it("rejects malformed names, projects and registries", function()
      for _, ref in ipairs({ { name = " " }, { name = "a b" }, { name = "../x" }, { name = "x?y" },
        { name = "X" }, { name = "a//b" }, { name = "a/" }, { name = "a", project = "p#" },
        { name = "a", registry = "bad host" }, { name = "a..b" } }) do
        local r, err = kconfig.image_ref(ref)
        assert.is_nil(r, ref.name)
        assert.equal("VALUE_ERROR", err.code)
      end
      assert.truthy(kconfig.image_ref({ name = "my_img.v2-x", project = "a/b", registry = "r:5000" }))
      for _, c in ipairs({ "/:latest", "bai-test/busybox:latest/", "bai-test//busybox:latest" }) do
        local r, err = kconfig.image_ref_from_config({ canonical = c, is_local = true })
        assert.is_nil(r, c)
        assert.equal("VALUE_ERROR", err.code)
      end
    end)

    it("parses an ImageConfig's canonical name", function()
      local r = assert(kconfig.image_ref_from_config({ canonical = "bai-test/busybox:latest",
        is_local = true }))
      assert.equal("bai-test/busybox:latest", r.docker_name)
      r = assert(kconfig.image_ref_from_config({ canonical = "cr.backend.ai/stable/python:3.9",
        is_local = false }))
      assert.equal("cr.backend.ai", r.registry)
      assert.equal("stable", r.project)
      assert.equal("cr.backend.ai/stable/python:3.9", r.docker_name)
      r = assert(kconfig.image_ref_from_config({ canonical = "busybox", is_local = true }))
      assert.equal("busybox:latest", r.docker_name)
    end)
  end)

  it("names containers kernel.<image basename>.<kernel id>", function()
    local r = assert(kconfig.image_ref({ name = "python", project = "stable", tag = "3" }))
    assert.equal("kernel.python.abc", kconfig.container_name(r, "abc"))
  end)

  describe("parse_service_ports", function()
    it("parses single ports and port lists", function()
      local sp = assert(kconfig.parse_service_ports(
        "jupyter:http:8080,vscode:http:[8180,8181],term:pty:9000"))
      assert.equal(2, #sp)
      assert.same({ name = "jupyter", protocol = "http", container_ports = { 8080 } }, sp[1])
      assert.same({ 8180, 8181 }, sp[2].container_ports)
    end)

    it("rejects reserved ports, bad protocols and garbage", function()
      for _, label in ipairs({ "x:http:2000", "x:tcp:7681", "x:ftp:8080", "nonsense", "x:http:80" }) do
        local sp, err = kconfig.parse_service_ports(label)
        assert.is_nil(sp, label)
        assert.equal("VALUE_ERROR", err.code)
      end
    end)
  end)

  describe("validate_config", function()
    local function cfg(over)
      local c = { resource_slots = { cpu = "1", mem = "268435456" }, environ = { A = "1" } }
      for k, v in pairs(over or {}) do
        c[k] = v
      end
      return c
    end

    it("digests a valid config", function()
      local d = assert(kconfig.validate_config(cfg({ preopen_ports = { 8888 },
        resource_opts = { shmem = "64m" } })))
      assert.equal(1, d.request.cpu)
      assert.equal(268435456, d.request.mem)
      assert.same({ 8888 }, d.preopen_ports)
      assert.equal(64 * 1048576, d.shmem)
      assert.equal("main", d.cluster_role)
    end)

    it("rejects bad environment names and values", function()
      for _, env in ipairs({ { ["1X"] = "a" }, { ["A B"] = "a" }, { A = "x\ny" }, { A = {} } }) do
        local d, err = kconfig.validate_config(cfg({ environ = env }))
        assert.is_nil(d)
        assert.equal("VALUE_ERROR", err.code)
      end
    end)

    it("rejects uid/main_gid that are not plain ids, and duplicate preopen ports", function()
      for _, over in ipairs({ { uid = 1e20 }, { uid = -1 }, { main_gid = -5 }, { uid = 1.5 },
        { uid = "0" }, { preopen_ports = { 8080, 8080 } } }) do
        local d, err = kconfig.validate_config(cfg(over))
        assert.is_nil(d)
        assert.equal("VALUE_ERROR", err.code)
      end
      assert.equal(1000, assert(kconfig.validate_config(cfg({ uid = 1000 }))).uid)
    end)

    it("rejects preopen ports that collide with intrinsic ones", function()
      for _, p in ipairs({ 2000, 2001, 2002, 2200, 7681, 80, 70000 }) do
        local d, err = kconfig.validate_config(cfg({ preopen_ports = { p } }))
        assert.is_nil(d, p)
        assert.equal("VALUE_ERROR", err.code)
      end
    end)
  end)

  it("writes environ.txt as sorted KEY=VALUE lines", function()
    assert.equal("A=1\nB=x=y\n", kconfig.environ_txt({ B = "x=y", A = "1" }))
    assert.equal("", kconfig.environ_txt({}))
  end)

  it("writes resource.txt in the reference format and reads it back", function()
    local text = kconfig.resource_txt({
      mounts = { "/s/config:/home/config:ro", "/s/work:/home/work:rw" },
      slots = { cpu = 2, mem = 4294967296 },
      alloc = { cpu = { ["0"] = 1, ["1"] = 1 }, mem = { root = 4294967296 } },
    })
    assert.equal(table.concat({
      "SCRATCH_SIZE=0m",
      "MOUNTS=/s/config:/home/config:ro,/s/work:/home/work:rw",
      'SLOTS={"cpu":"2","mem":"4294967296"}',
      "UNIFIED_DEVICES=[]",
      "CPU_SHARES=0:1,1:1",
      "MEM_SHARES=root:4g",
      "",
    }, "\n"), text)
    local back = kconfig.parse_resource_txt(text .. "CID=abc\n")
    assert.equal("0m", back.SCRATCH_SIZE)
    assert.same({ cpu = "2", mem = "4294967296" }, back.slots)
    assert.same({ ["0"] = "1", ["1"] = "1" }, back.shares.cpu)
    assert.same({ root = "4g" }, back.shares.mem)
    assert.equal("abc", back.CID)
  end)
end)
