-- wrk script: every request adds a batch of new contacts, and every answer is checked.
--
--   wrk -t T -c C -d 8s -s bench/add_contacts.lua URL -- SHAPE BATCH LEAD OK_STATUS TOKEN
--
-- SHAPE      contacthub: POST {"token": TOKEN, "contacts": [...]} (TeleCMI's v3/contact/add)
--            datasette:  POST {"rows": [...]} with "Authorization: Bearer TOKEN"
--                        (Datasette's /<db>/<table>/-/insert), org_id 1 in every row
-- BATCH      contacts per request, 1 to 100
-- LEAD       the first digit (6 to 9) of every national number this run sends
-- OK_STATUS  the status of a successful add: 200 for contacthub, 201 for Datasette
--
-- Phone numbers are Indian mobiles, 91 + LEAD + the wrk thread's index (one digit)
-- + an 8-digit counter of the thread: unique across every thread and connection of
-- the run, and across runs on one database when each run has its own LEAD. The other
-- fields follow from the number, as in bench/_ceiling.py's rows, which the raw insert
-- ceiling stores: keep the two in step.
--
-- Requests made are counted, and every answer whose status is not OK_STATUS is
-- counted by status, its first body kept. done() prints one line "WRK_RESULT {json}"
-- with wrk's own figures and these counts, then "WRK_BAD_SAMPLE <body>" if there was
-- one. Requests made but not answered were cut off at the deadline or failed.

local threads = {}

function setup(thread)
   if #threads >= 10 then
      error("at most 10 wrk threads: the thread index is one digit of the phone number")
   end
   thread:set("thread_index", #threads)
   table.insert(threads, thread)
end

-- Read by done() through thread:get, so they are globals of the thread's state.
sent_count = 0
ok_count = 0
bad_count = 0
bad_statuses = ""
bad_sample = ""

local batch, expected_status, prefix, headers, opening, template, closing
local counter = 0
local bad_by_status = {}

local CONTACT = '{"phone_no":"91%s","first_name":"Bench","last_name":"Contact %s",'
   .. '"email_id":"c%s@example.com","company":"Acme Corp","job_title":"Tester"}'

function init(args)
   local shape, lead, ok_status, token = args[1], args[3], tonumber(args[4]), args[5]
   batch = tonumber(args[2])
   if not (batch and batch >= 1 and batch <= 100) then
      error("BATCH must be 1 to 100, not " .. tostring(args[2]))
   end
   if not (lead and lead:match("^[6-9]$")) then
      error("LEAD must be one digit from 6 to 9, not " .. tostring(lead))
   end
   if not ok_status or not token then
      error("usage: -- SHAPE BATCH LEAD OK_STATUS TOKEN")
   end
   expected_status = ok_status
   prefix = lead .. thread_index
   headers = { ["Content-Type"] = "application/json" }
   if shape == "contacthub" then
      opening = '{"token":"' .. token .. '","contacts":['
      template = CONTACT
   elseif shape == "datasette" then
      headers["Authorization"] = "Bearer " .. token
      opening = '{"rows":['
      template = '{"org_id":1,' .. CONTACT:sub(2)
   else
      error("SHAPE must be contacthub or datasette, not " .. tostring(shape))
   end
   closing = "]}"
end

function request()
   sent_count = sent_count + 1
   local items = {}
   for i = 1, batch do
      counter = counter + 1
      if counter > 99999999 then
         error("this thread ran out of phone numbers")
      end
      local national = string.format("%s%08d", prefix, counter)
      items[i] = string.format(template, national, national, national)
   end
   return wrk.format("POST", nil, headers, opening .. table.concat(items, ",") .. closing)
end

function response(status, _, body)
   if status == expected_status then
      ok_count = ok_count + 1
      return
   end
   bad_count = bad_count + 1
   bad_by_status[status] = (bad_by_status[status] or 0) + 1
   local parts = {}
   for code, count in pairs(bad_by_status) do
      table.insert(parts, code .. ":" .. count)
   end
   bad_statuses = table.concat(parts, " ")
   if bad_sample == "" then
      bad_sample = status .. " " .. (body or ""):sub(1, 500):gsub("[\r\n]", " ")
   end
end

function done(summary, latency, _)
   local sent, ok, bad, sample = 0, 0, 0, ""
   local statuses = {}
   for _, thread in ipairs(threads) do
      sent = sent + thread:get("sent_count")
      ok = ok + thread:get("ok_count")
      bad = bad + thread:get("bad_count")
      for code, count in string.gmatch(thread:get("bad_statuses"), "(%d+):(%d+)") do
         statuses[code] = (statuses[code] or 0) + tonumber(count)
      end
      if sample == "" then
         sample = thread:get("bad_sample")
      end
   end
   local listed = {}
   for code, count in pairs(statuses) do
      table.insert(listed, string.format('"%s":%d', code, count))
   end
   local errors = summary.errors
   io.write(string.format(
      'WRK_RESULT {"duration_us":%d,"requests":%d,"sent":%d,"ok":%d,"bad":%d,"bad_statuses":{%s},'
         .. '"connect":%d,"read":%d,"write":%d,"timeout":%d,'
         .. '"p50_us":%d,"p90_us":%d,"p99_us":%d,"max_us":%d,"mean_us":%.1f}\n',
      summary.duration, summary.requests, sent, ok, bad, table.concat(listed, ","),
      errors.connect, errors.read, errors.write, errors.timeout,
      latency:percentile(50), latency:percentile(90), latency:percentile(99),
      latency.max, latency.mean
   ))
   if sample ~= "" then
      io.write("WRK_BAD_SAMPLE " .. sample .. "\n")
   end
end
