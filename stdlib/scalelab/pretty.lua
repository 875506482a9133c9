-- Pretty printing for the REPL and for reports: tables with depth and length limits, cycles marked,
-- bound objects as their one-line summaries (__tostring).
local pretty = {}

local DEFAULTS = { depth = 3, length = 30, width = 100, indent = "  " }

local KEYWORDS = {}
for word in ([[and break do else elseif end false for function goto if in local nil not or repeat
  return then true until while]]):gmatch("%a+") do KEYWORDS[word] = true end

local function is_identifier(key)
  return type(key) == "string" and key:match("^[%a_][%w_]*$") ~= nil and not KEYWORDS[key]
end

-- A string as a Lua literal on one line: "a\nb" (string.format's %q would break the line).
local ESCAPES = { ["\\"] = "\\\\", ['"'] = '\\"', ["\n"] = "\\n", ["\r"] = "\\r", ["\t"] = "\\t" }
local function quoted(text)
  return '"' .. text:gsub('[%c"\\]', function(c) return ESCAPES[c] or string.format("\\%03d", c:byte()) end) .. '"'
end

local function format_scalar(value, quote)
  local kind = type(value)
  if kind == "string" then
    return quote and quoted(value) or value
  elseif kind == "number" then
    if math.type(value) == "float" and value == math.floor(value) and math.abs(value) < 1e15 then
      return string.format("%.1f", value)
    end
    return tostring(value)
  elseif kind == "function" then
    local info = debug.getinfo(value, "S")
    if info.what == "C" then return "function: builtin" end
    return string.format("function: %s:%d", info.short_src, info.linedefined)
  end
  return tostring(value)  -- nil, booleans, userdata with __tostring, threads
end

-- Keys in a stable order: the array part first, then numbers, then strings, then the rest.
local function sorted_keys(t)
  local n = #t
  local keys = {}
  for k in pairs(t) do
    if not (math.type(k) == "integer" and k >= 1 and k <= n) then keys[#keys + 1] = k end
  end
  local rank = { number = 1, string = 2 }
  table.sort(keys, function(a, b)
    local ra, rb = rank[type(a)] or 3, rank[type(b)] or 3
    if ra ~= rb then return ra < rb end
    if ra <= 2 then return a < b end
    return tostring(a) < tostring(b)
  end)
  return n, keys
end

local function format_value(value, options, level, seen, indent)
  if type(value) ~= "table" then return format_scalar(value, level > 0) end
  local meta = getmetatable(value)
  if meta and meta.__tostring then return tostring(value) end
  if seen[value] then return "<cycle>" end
  local n, keys = sorted_keys(value)
  local count = n + #keys
  if count == 0 then return "{}" end
  if level >= options.depth then return string.format("{...%d %s}", count, count == 1 and "item" or "items") end
  seen[value] = true
  local items = {}
  local shown = 0
  local inner = indent .. options.indent
  local function add(text)
    shown = shown + 1
    items[#items + 1] = text
  end
  for i = 1, n do
    if shown >= options.length then break end
    add(format_value(value[i], options, level + 1, seen, inner))
  end
  for _, k in ipairs(keys) do
    if shown >= options.length then break end
    local key = is_identifier(k) and k or ("[" .. format_scalar(k, true) .. "]")
    add(key .. " = " .. format_value(value[k], options, level + 1, seen, inner))
  end
  if count > shown then items[#items + 1] = string.format("...(%d more)", count - shown) end
  seen[value] = nil
  local one_line = "{" .. table.concat(items, ", ") .. "}"
  if #one_line + #indent <= options.width and not one_line:find("\n") then return one_line end
  if #keys == 0 and not one_line:find("\n") then
    -- An array of short values: as many to a line as fit, rather than one per line.
    local lines, line = {}, ""
    for i, item in ipairs(items) do
      local piece = item .. (i < #items and "," or "")
      if line ~= "" and #inner + #line + 1 + #piece > options.width then
        lines[#lines + 1] = line
        line = piece
      else
        line = line == "" and piece or (line .. " " .. piece)
      end
    end
    lines[#lines + 1] = line
    return "{\n" .. inner .. table.concat(lines, "\n" .. inner) .. "\n" .. indent .. "}"
  end
  return "{\n" .. inner .. table.concat(items, ",\n" .. inner) .. "\n" .. indent .. "}"
end

-- pretty.format(value [, { depth = 3, length = 30, width = 100 }]) -> string
function pretty.format(value, options)
  local o = {}
  for k, v in pairs(DEFAULTS) do o[k] = v end
  for k, v in pairs(options or {}) do
    if DEFAULTS[k] == nil then error("pretty.format: unknown option '" .. tostring(k) .. "'", 2) end
    o[k] = v
  end
  return format_value(value, o, 0, {}, "")
end

return pretty
