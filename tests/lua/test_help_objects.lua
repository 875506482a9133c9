-- help(x) on what the API gives back: every object a call returns, and the settings tables of the
-- modules, is documented (none says "(a table with no documentation)").
local t = require "scalelab.test"

local root = t.scratch("help-objects")

local help_text = t.help_text

-- Runs drawn from Chinchilla's published law: the points of an IsoFLOP sweep, and loss curves.
local chinchilla = fit.published.chinchilla
local function isoflop_rows()
  local rows = {}
  for p in sweep.isoflop({ budgets = { 1e18, 1e19, 1e20 }, sizes = { 3e7, 1e8, 3e8, 1e9, 3e9 } }):each() do
    rows[#rows + 1] = { N = p.N, D = p.D, loss = chinchilla:predict { N = p.N, D = p.D }, budget = p.budget }
  end
  return rows
end
local function curves()
  local runs = {}
  for i, n in ipairs(sweep.log(1e7, 1e10, 6)) do
    runs[i] = { N = n, curve = {} }
    for j, d in ipairs(sweep.log(1e8, 1e12, 15)) do runs[i].curve[j] = { tokens = d, train_loss = chinchilla:predict { N = n, D = d } } end
  end
  return runs
end

t.test("help documents every object the API returns", function()
  local rows = isoflop_rows()
  local obs = fit.observations(rows)
  local law = fit.chinchilla(obs, { threads = 1 })
  local gpt = model.gpt { vocab = 256, ctx = 16, d_model = 16, n_layer = 1, n_head = 2 }
  local corpus = data.synthetic { kind = "markov", seed = 1, tokens = 2e4, document_tokens = 512 }
  local sampler = data.sampler { corpus = corpus, tokens = 4096, seq_len = 16, batch = 2 }
  local objects = {
    ["model.gpt"] = gpt,
    ["data.synthetic"] = corpus,
    ["data.sampler"] = sampler,
    ["data.held_out"] = data.held_out { corpus = corpus, seq_len = 16, batch = 2 },
    ["train.run (simulated)"] = train.run { model = gpt, tokens = 1e5, batch = 8, seq_len = 16, backend = "simulated",
      progress = false },
    ["fit.observations"] = obs,
    ["fit.chinchilla"] = law,
    ["fit.published"] = fit.published,
    ["law:allocation(C)"] = law:allocation(1e21),
    ["fit.published.chinchilla:allocation(C)"] = chinchilla:allocation(1e21),
    ["fit.extrapolate"] = fit.extrapolate(chinchilla, obs, { below = 5e19, threads = 1 }),
    ["fit.isoflop"] = fit.isoflop(rows),
    ["fit.approach1"] = fit.approach1(curves()),
    ["fit.power_law"] = fit.power_law { x = { 1e18, 1e19, 1e20 }, y = { 1e8, 3e8, 1e9 }, input = "C" },
    ["plan.optimal (a question)"] = plan.optimal { compute = 1e21 },
    ["plan.optimal (an answer)"] = plan.optimal { compute = 1e21, law = chinchilla },
    ["plan.cost"] = plan.cost { flops = 1e21, gpu = "H100" },
    ["plan.allocation"] = plan.allocation { isoflop = fit.isoflop(rows) },
    ["plot.figure"] = plot.figure { title = "t" },
    ["plot.panels"] = plot.panels { plot.figure {}, plot.figure {} },
    ["sweep.grid"] = sweep.grid { N = { 1e5, 2e5 }, D = { 1e6 } },
    ["store.open"] = store.open(root .. "/help.db"),
    ["plan.gpus"] = plan.gpus,
    ["plot.config"] = plot.config,
    ["plot.colors"] = plot.colors,
    ["plot.palette"] = plot.palette,
    ["plot.formats"] = plot.formats,
    ["study.default_hyper"] = study.default_hyper,
  }
  -- A study simulated from a law, and its IsoFLOP and approach-1 fits.
  local saved_arg = arg
  arg = { [-1] = "scalelab", [0] = "help.lua" }
  local s = study "help-objects" {
    sweep = sweep.isoflop { budgets = { 1e12, 3e12, 1e13 }, sizes = { 5e4, 1e5, 2e5, 4e5, 8e5 } },
    backend = { kind = "simulated", law = { E = 1, A = 20, B = 20, alpha = 0.3, beta = 0.3 }, noise = 0.001 },
    store = root .. "/study.db", quiet = true, fits = { "isoflop", "approach1" },
  }
  arg = saved_arg
  objects["study"], objects["s.fits.isoflop"], objects["s.fits.approach1"] = s, s.fits.isoflop, s.fits.approach1
  objects["s.fits.isoflop:optimal(C)"] = s.fits.isoflop:optimal(1e15)
  local undocumented = {}
  for name, value in pairs(objects) do
    local text = help_text(value)
    if text:find("no documentation", 1, true) then undocumented[#undocumented + 1] = name .. ": " .. text end
  end
  table.sort(undocumented)
  t.ok(#undocumented == 0, "help documents none of these:\n" .. table.concat(undocumented, "\n"))
  -- The results printed through their summary say what they are and name each of their fields.
  for _, name in ipairs { "law:allocation(C)", "fit.extrapolate", "s.fits.isoflop", "s.fits.approach1",
                          "s.fits.isoflop:optimal(C)" } do
    local text = help_text(objects[name])
    t.ok(text:find(name, 1, true), name .. ": " .. text)
    for key in pairs(objects[name]) do
      t.ok(text:find(key, 1, true), name .. ": help does not name the field " .. key .. "\n" .. text)
    end
    local summary = objects[name].summary
    t.eq(tostring(objects[name]), type(summary) == "function" and objects[name]:summary() or summary)
  end
  -- A study fit's answer prints as plan.optimal's answers do, not as a table of 15-digit numbers.
  local optimal = pretty(objects["s.fits.isoflop:optimal(C)"])
  t.ok(optimal:find("^compute%-optimal allocation at 1%.00e15 FLOP\n  law: isoflop "), optimal)
  t.ok(optimal:find("\n  params        %S+ %[%S+, %S+%]\n"), optimal)
  -- Help's listing of methods follows the __index chain as Tab does: an approach-1 fit inherits
  -- :N_opt, :D_opt and :optimal from the IsoFLOP fit's class, and its help lists them with their text.
  local approach1_help = help_text(s.fits.approach1)
  for _, method in ipairs { "N_opt", "D_opt", "optimal", "summary" } do
    t.ok(approach1_help:find("\n  :" .. method .. " +law:" .. method .. "%("),
      "help(s.fits.approach1) does not list :" .. method .. "\n" .. approach1_help)
  end
end)


-- help(study.Study) listed "__tostring" among a study's functions, with an empty summary: a metamethod
-- is no function a user calls. No listing of a module or a documented table of one names one.
t.test("help lists no metamethod among a table's functions", function()
  local core = require "scalelab.native.core"
  local listed = {}
  local function check(name, value)
    for line in (help_text(value) .. "\n"):gmatch("([^\n]*)\n") do
      if line:find("^  :?__%a") then listed[#listed + 1] = name .. ": " .. line end
    end
  end
  for _, module in ipairs(require("scalelab").modules) do
    check(module, _G[module])
    for key, value in pairs(_G[module]) do
      if type(value) == "table" and core.docs()[value] then check(module .. "." .. key, value) end
    end
  end
  t.ok(help_text(study.Study):find("\n  observations ", 1, true), help_text(study.Study))
  t.eq(table.concat(listed, "\n"), "", "metamethods listed")
end)

-- help(plan) listed plan's functions alone: nothing in it said that plan.published (the published
-- rules) or plan.gpus (the GPUs gpu = names) were there, nor help(study) study.default_hyper. A
-- module's listing names its documented tables, with their summary, and its numbers, with their value.
t.test("help(module) lists the module's documented tables and its numbers", function()
  local core = require "scalelab.native.core"
  local missing, tables = {}, 0
  for _, module in ipairs(require("scalelab").modules) do
    local text = help_text(_G[module]) .. "\n"
    for key, value in pairs(_G[module]) do
      local listed = true
      if type(key) == "string" and type(value) == "table" and core.docs()[value] then
        tables = tables + 1
        local summary = core.docs()[value]:sub(1, 12):gsub("%p", "%%%0")
        listed = text:find("\nTables:\n", 1, true) and text:find("\n  " .. key .. " +" .. summary) ~= nil
      elseif type(key) == "string" and math.type(value) then
        -- Its value as the library writes numbers (8.64e19, not tostring's 8.64e+19), and exactly.
        local shown = text:find("\nNumbers:\n", 1, true) and text:match("\n  " .. key .. " +(%S+)\n")
        listed = shown ~= nil and tonumber(shown) == value
        t.ok(not (shown or ""):find("e[+-]?0") and not (shown or ""):find("e+", 1, true),
          module .. "." .. key .. " is listed as " .. tostring(shown))
      end
      if not listed then missing[#missing + 1] = module .. "." .. key end
    end
  end
  t.ok(tables >= 8, tables .. " documented tables")  -- fit.published, plan.published, plan.gpus, plot.config, ...
  table.sort(missing)
  t.eq(table.concat(missing, ", "), "", "not listed by help(module)")
end)

t.test("no documented formula writes a product with '*': the docs write '·', as REFERENCE.md does", function()
  -- law:allocation's help wrote N_opt = G*(C/6)^a, G = (alpha*A/(beta*B)), fit.isoflop's c1*ln N and
  -- C = 6*N*tokens, law:D_opt C/(6*N_opt), beside y = k·x^a elsewhere; where R_D* is a name ending
  -- in '*', U_D*R_D*(...) reads as a product of three. Every documented value, every module.
  local core = require "scalelab.native.core"
  -- Make sure the modules (and their laws' methods) are loaded and documented before reading.
  local _ = fit.published.chinchilla:allocation(1e22)
  local products, documented = {}, 0
  for _, text in pairs(core.docs()) do
    documented = documented + 1
    local rest = text:gsub("R_[DN]%*", "")
    for product in rest:gmatch("[%w%)]%*[%w%(]") do products[#products + 1] = product .. " in: " .. text:sub(1, 120) end
  end
  t.ok(documented > 100, documented .. " documented values")
  t.eq(#products, 0, table.concat(products, "\n"))
  -- The check sees one: a '*' product in a documented value is found.
  local probe = core.document({}, "N_opt = G*(C/6)^a")
  local found = false
  for value, text in pairs(core.docs()) do
    if value == probe and text:gsub("R_[DN]%*", ""):find("[%w%)]%*[%w%(]") then found = true end
  end
  t.ok(found, "the probe's '*' is found")
end)

t.done()
