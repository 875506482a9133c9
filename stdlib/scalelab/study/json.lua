-- Canonical JSON for studies: the text whose SHA-256 identifies a run, and the JSON reports.
-- Canonical: object keys sorted, no spaces, integral numbers without a fraction (1e6 and 1000000
-- encode alike), other numbers with 17 significant digits, so equal configurations give equal text.
local json = {}

local escapes = { ['"'] = '\\"', ['\\'] = '\\\\', ['\n'] = '\\n', ['\r'] = '\\r', ['\t'] = '\\t' }

local function encode_string(s)
  return '"' .. s:gsub('[%c"\\]', function(c)
    return escapes[c] or string.format("\\u%04x", c:byte())
  end) .. '"'
end

function json.number(x)
  if x ~= x or x == math.huge or x == -math.huge then return "null" end
  if math.type(x) == "integer" then return tostring(x) end
  if x == math.floor(x) and math.abs(x) < 2^53 then return string.format("%d", x) end
  for digits = 6, 17 do  -- the shortest text that reads back to the same number
    local text = string.format("%." .. digits .. "g", x)
    if tonumber(text) == x then return text end
  end
  return string.format("%.17g", x)
end

-- json.array(t): t marked to be written as an array even when empty ("[]", not "{}"). Unmarked
-- tables keep the rule above, on which canonical encodings (run identities) rest.
json.Array = {}
function json.array(t) return setmetatable(t or {}, json.Array) end

-- json.null: a value written as null, for a key that a document always has (a report's schema) where
-- it has no value; nil leaves the key out.
json.null = setmetatable({}, { __name = "JSON null", __tostring = function() return "null" end })

local function is_array(t)
  local n = #t
  for k in pairs(t) do
    if math.type(k) ~= "integer" or k < 1 or k > n then return false end
  end
  return true
end

local function encode(value, indent, depth, seen)
  local kind = type(value)
  if kind == "nil" or value == json.null then return "null" end
  if kind == "boolean" then return tostring(value) end
  if kind == "number" then return json.number(value) end
  if kind == "string" then return encode_string(value) end
  if kind ~= "table" then return encode_string(tostring(value)) end
  if seen[value] then error("json: a table contains itself", 0) end
  seen[value] = true
  local newline, pad, inner = "", "", ""
  if indent then
    newline = "\n"
    pad = string.rep(indent, depth)
    inner = string.rep(indent, depth + 1)
  end
  local parts = {}
  local out
  -- A table's first entry by its pairs (a read-only view such as law.params shows its entries only there).
  local step, state, start = pairs(value)
  local first = step(state, start)
  if getmetatable(value) == json.Array or (first ~= nil and is_array(value)) then
    for i = 1, #value do parts[i] = inner .. encode(value[i], indent, depth + 1, seen) end
    out = "[" .. newline .. table.concat(parts, "," .. newline) .. newline .. pad .. "]"
  elseif first == nil then
    out = indent and "{}" or "{}"
  else
    local keys = {}
    for k in pairs(value) do keys[#keys + 1] = tostring(k) end
    table.sort(keys)
    for i, k in ipairs(keys) do
      local v = value[k]
      if v == nil then v = value[tonumber(k)] end
      parts[i] = inner .. encode_string(k) .. (indent and ": " or ":") .. encode(v, indent, depth + 1, seen)
    end
    out = "{" .. newline .. table.concat(parts, "," .. newline) .. newline .. pad .. "}"
  end
  seen[value] = nil
  return out
end

-- json.encode(value [, indent]): canonical when indent is nil; pretty with indent = "  ".
function json.encode(value, indent)
  return encode(value, indent, 0, {})
end

-- JSON text is UTF-8, and a reader refuses the whole file for one byte that is not: a report or an
-- export for other programs goes through json.valid_utf8, which replaces each byte that is no part of
-- valid UTF-8 (a description or a path in Latin-1) by U+FFFD. The store keeps the bytes as they were,
-- and so does the canonical encoding, which must tell any two strings apart (a run's identity).
function json.valid_utf8(text)
  return require("scalelab.pretty").replace_invalid_utf8(text, function() return "\u{FFFD}" end)
end

return json
