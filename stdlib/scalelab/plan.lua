-- plan: planning questions answered with scaling laws (runtime/plan/plan.h, bindings/plan.cpp).
--
--   plan.optimal{ compute = 1e22, law = fit.published.chinchilla }          -- closed form
--   plan.optimal{ compute = 1e22, unique_tokens = 25e9,                      -- data-constrained
--                 law = plan.published.datablations_exact }                  --   7.03B, 237B tokens, 9.49 epochs
--   plan.optimal{ compute = 5.76e23, allocation = plan.published.chinchilla_approach1 }
--   plan.loss{ N = 6.34e9, D = 242e9, unique_tokens = 25e9, law = L }       -- 2.2256
--   plan.compute_for{ loss = 2.0, law = L }
--   plan.inference{ compute = 1e23, inference_tokens = 2e12, law = L }      -- Sardana et al.
--   plan.compare{ compute = 5.76e23, law = L, candidates = { Gopher = { N = 280e9, D = 300e9 } } }
--   plan.table{ params = { 400e6, 1e9, 10e9 }, allocation = plan.published.chinchilla_approach1 }
--   plan.returns{ unique_tokens = 25e9, law = L }
--   plan.cost{ flops = 1e22, gpu = "H100", gpus = 1024, mfu = 0.4 }
--
-- Questions as values. Every question asked WITHOUT law = returns a Question instead of an Answer;
-- question:answer(law) answers it later with any law (published, or fitted by a study):
--   local q = plan.optimal{ compute = 1e21, gpu = "H100", gpus = 64 }   -- no law yet
--   ...                                                                  -- fit the study's law
--   print(q:answer(fitted_law))                                          -- Answer, priced on 64 H100s
-- plan.answer(questions, law) answers one question or a list (a table of questions, keys kept).
--
-- Answers print a compact table and carry 95% percentile intervals when the law has bootstrap
-- samples (the question is answered once per sample): answer.intervals.N = { lo, hi }.
local has_fit, native_fit = pcall(require, "scalelab.native.fit")  -- registers the Law type first, when the fit module exists
local native = require "scalelab.native.plan"
local core = require "scalelab.native.core"
-- Errors about plan.answer's arguments, at the user's line: through the C function that calls the
-- module's functions (init.lua), error(message, 2) named no line.
local error_at_user = require("scalelab.study.checks").error_at_user

local plan = {}
for name, value in pairs(native) do plan[name] = value end

function plan.answer(questions, law)
  local mt = getmetatable(questions)
  if mt and mt.__name == "Question" then return questions:answer(law) end
  if type(questions) ~= "table" then
    error_at_user("plan.answer(questions, law): questions must be a Question or a table of Questions (got " ..
      type(questions) .. ")")
  end
  local answers = {}
  for key, question in pairs(questions) do
    local qmt = getmetatable(question)
    if not (qmt and qmt.__name == "Question") then
      -- What it is, and the way to a Question: an Answer (asked with law =) is the usual slip.
      local name = type(qmt) == "table" and type(qmt.__name) == "string" and qmt.__name or type(question)
      local key_text = type(key) == "string" and string.format("%q", key) or tostring(key)
      error_at_user("plan.answer: questions[" .. key_text .. "] is not a Question (got " .. name .. ")"
        .. (name == "Answer" and "; it was asked with law = and answered already: leave law out to declare a question"
            or "; declare one without law =, as plan.optimal{ compute = 1e21 }"))
    end
    answers[key] = question:answer(law)
  end
  return answers
end
core.document(plan.answer,
  "plan.answer(question_or_list, law) -> Answer, or a table of Answers with the same keys: answers questions " ..
  "declared without a law (plan.optimal{ compute = 1e21 }) with the given law")

-- A name plan.published lacks is an error, not a nil that plan.table{ law = plan.published.chinchilla }
-- took for "no law given" (it answered a question without a law): the published laws are fit.published's.
local missing = require "scalelab.missing"
missing.refuse_misses(plan.published, "plan.published", "rule or law", function(name)
  if not has_fit then return nil end
  if rawget(native_fit.published, name) ~= nil then
    return "the published law " .. name .. " is fit.published." .. name, true
  end
  return "the published laws are in fit.published: " .. table.concat(missing.names(native_fit.published), ", ")
end)

-- Documentation of the module table comes from the native half.
core.document(plan, core.docs()[native])
return plan
