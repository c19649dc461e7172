-- wrk script: etcd v3 through its HTTP JSON gateway, the keys and values
-- pegasus-bench uses ("user" + 12 digits, random letters).
--   BENCH_OP       put | range | load   (load: every key once, in order)
--   BENCH_RECORDS  key space (default 10000)
--   BENCH_VALUE    value bytes (default 100)
--   BENCH_THREADS  wrk's -t, so load threads split the keys
-- Keys are chosen uniformly; each thread seeds its own generator.

local op = os.getenv("BENCH_OP") or "put"
local records = tonumber(os.getenv("BENCH_RECORDS") or "10000")
local value_size = tonumber(os.getenv("BENCH_VALUE") or "100")
local nthreads = tonumber(os.getenv("BENCH_THREADS") or "1")

local alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"

local function base64(s)
   local out = {}
   for i = 1, #s, 3 do
      local a, b, c = s:byte(i, i + 2)
      local n = a * 65536 + (b or 0) * 256 + (c or 0)
      local c1 = math.floor(n / 262144) % 64
      local c2 = math.floor(n / 4096) % 64
      local c3 = math.floor(n / 64) % 64
      local c4 = n % 64
      out[#out + 1] = alphabet:sub(c1 + 1, c1 + 1) .. alphabet:sub(c2 + 1, c2 + 1)
         .. (b and alphabet:sub(c3 + 1, c3 + 1) or "=") .. (c and alphabet:sub(c4 + 1, c4 + 1) or "=")
   end
   return table.concat(out)
end

local started = 0

function setup(thread)
   thread:set("index", started)
   started = started + 1
end

local keys = {}
local value64
local next_key
local headers = { ["Content-Type"] = "application/json" }

function init(args)
   math.randomseed(os.time() * 1000 + (index or 0))
   local letters = {}
   for i = 1, value_size do
      letters[i] = string.char(97 + math.random(0, 25))
   end
   value64 = base64(table.concat(letters))
   next_key = index or 0
end

local function key64(id)
   local k = keys[id]
   if not k then
      k = base64(string.format("user%012d", id))
      keys[id] = k
   end
   return k
end

function request()
   local id
   if op == "load" then
      id = next_key % records
      next_key = next_key + nthreads
   else
      id = math.random(0, records - 1)
   end
   if op == "range" then
      return wrk.format("POST", "/v3/kv/range", headers, '{"key":"' .. key64(id) .. '"}')
   end
   return wrk.format("POST", "/v3/kv/put", headers,
                     '{"key":"' .. key64(id) .. '","value":"' .. value64 .. '"}')
end
