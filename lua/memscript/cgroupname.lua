-- cgroupname.lua: what a cgroup's path says about it: the systemd unit and slice, the container, the Kubernetes pod.
--
--   local cgroupname = require "memscript.cgroupname"
--   local names = cgroupname.describe("/system.slice/docker-3cfe7ca0....scope")
--   -- names.unit == "docker-3cfe7ca0....scope", names.slice == "system.slice",
--   -- names.container == {runtime = "docker", id = "3cfe7ca0..."}
--
-- Only the path is read: the names are the ones systemd, container runtimes and the kubelet give
-- the cgroups they make (docs/api.md, "Names in a cgroup's path"). A path that names none of them
-- has no unit, slice, container or pod (nil), never a guess.

local type, ipairs = type, ipairs
local find, match, gsub, sub = string.find, string.match, string.gsub, string.sub

local M = {}

-- The unit types systemd makes a cgroup for (systemd.unit(5)): services, scopes, sockets, mounts, swaps.
local UNIT_SUFFIXES = { "%.service$", "%.scope$", "%.socket$", "%.mount$", "%.swap$" }

local function is_unit(name)
  for _, suffix in ipairs(UNIT_SUFFIXES) do
    if find(name, suffix) then return true end
  end
  return false
end

-- A container id as the runtimes print it: 64 lowercase hexadecimal digits.
local ID = "^" .. ("%x"):rep(64) .. "$"

local function is_id(text)
  return text ~= nil and find(text, ID) ~= nil and not find(text, "%u")
end

-- The container one component names, with the component before it: {runtime, id} or nil.
--   docker-ID.scope             docker with systemd's cgroup driver
--   /docker/ID                  docker with its own (cgroupfs) driver
--   cri-containerd-ID.scope     containerd's CRI plugin, systemd driver
--   ...slice:cri-containerd:ID  the same, as the kubelet names it under a systemd slice
--   crio-ID.scope, /crio-ID     CRI-O (crio-conmon-ID.scope is its monitor, not the container)
--   libpod-ID.scope, /libpod-ID podman (libpod-conmon-ID.scope is its monitor)
--   lxc.payload.NAME, /lxc/NAME LXC (4.0 and later, and before)
--   /kubepods/.../podUID/ID     Kubernetes with the cgroupfs driver: the id alone, no runtime named
local function container_of(name, before, in_kubepods)
  local id = match(name, "^docker%-(%x+)%.scope$")
  if is_id(id) then return { runtime = "docker", id = id } end
  if before == "docker" and is_id(name) then return { runtime = "docker", id = name } end
  id = match(name, "^cri%-containerd%-(%x+)%.scope$") or match(name, ":cri%-containerd:(%x+)$")
  if is_id(id) then return { runtime = "containerd", id = id } end
  id = match(name, "^crio%-(%x+)%.scope$") or match(name, "^crio%-(%x+)$")
  if is_id(id) then return { runtime = "crio", id = id } end
  id = match(name, "^libpod%-(%x+)%.scope$") or match(name, "^libpod%-(%x+)$")
  if is_id(id) then return { runtime = "podman", id = id } end
  id = match(name, "^lxc%.payload%.(.+)$")
  if id then return { runtime = "lxc", id = id } end
  if before == "lxc" then return { runtime = "lxc", id = name } end
  if in_kubepods and before and find(before, "^pod") and is_id(name) then return { id = name } end
  return nil
end

-- The pod one component names: {uid, qos} or nil. The kubelet's cgroups:
--   systemd driver:  kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod<UID with _>.slice
--                    (kubepods-besteffort-pod..., and kubepods-pod<UID>.slice for Guaranteed pods)
--   cgroupfs driver: /kubepods/burstable/pod<UID>, /kubepods/besteffort/pod<UID>, /kubepods/pod<UID>
local function pod_of(name, before, in_kubepods)
  local qos, uid = match(name, "^kubepods%-(%l+)%-pod([%x_]+)%.slice")
  if uid then return { uid = gsub(uid, "_", "-"), qos = qos } end
  uid = match(name, "^kubepods%-pod([%x_]+)%.slice")
  if uid then return { uid = gsub(uid, "_", "-"), qos = "guaranteed" } end
  uid = in_kubepods and match(name, "^pod([%x-]+)$")
  if uid then
    if before == "burstable" or before == "besteffort" then return { uid = uid, qos = before } end
    if before == "kubepods" then return { uid = uid, qos = "guaranteed" } end
  end
  return nil
end

-- The names the path holds: {unit, slice, container, pod}, each nil when the path has none. The
-- unit is the deepest component naming a systemd unit, the slice the deepest slice above it (or
-- the deepest slice of a path without a unit); the container and the pod the deepest ones named.
function M.describe(path)
  local names = {}
  if type(path) ~= "string" then return names end
  local components, before = {}, nil
  for name in path:gmatch("[^/]+") do components[#components + 1] = name end
  local unit_at
  local in_kubepods = false
  for i, name in ipairs(components) do
    if is_unit(name) then
      names.unit, unit_at = name, i
    end
    if name == "kubepods" or find(name, "^kubepods[.-]") then in_kubepods = true end
    names.container = container_of(name, before, in_kubepods) or names.container
    names.pod = pod_of(name, before, in_kubepods) or names.pod
    before = name
  end
  for i = unit_at and unit_at - 1 or #components, 1, -1 do
    local name = components[i]
    if sub(name, -6) == ".slice" then
      names.slice = name
      break
    end
  end
  return names
end

-- Sets t.unit, t.slice, t.container and t.pod from t.path (what proc.cgroup.of returns has them).
function M.annotate(t)
  local names = M.describe(t.path)
  t.unit, t.slice, t.container, t.pod = names.unit, names.slice, names.container, names.pod
  return t
end

return M
