-- store: the results store of studies (runtime/store/store.h, bindings/store.cpp).
--   local s = store.open "isoflop-demo.db"          -- refuses foreign or corrupted files, untouched
--   for _, run in ipairs(s:runs{ status = "done" }) do print(run.label, run.loss) end
--   s:export "runs.csv"; s:export("curves.json", { what = "curves" })   -- pandas reads both as they are
local native = require "scalelab.native.store"
return native
