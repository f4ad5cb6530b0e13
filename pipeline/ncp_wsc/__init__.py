"""A client for NAVER Cloud's Web Security Checker (WSC), the cloud DAST service.

Sources: the NAVER Cloud API documentation pages `security-websecuritychecker` (overview, common
headers and errors), `-createjob`, `-getjobs`, `-searchjobs`, `-getreport`, `-canceljob` and
`-stopjob` on api.ncloud-docs.com (public) and api-gov.ncloud-docs.com (gov), read in 2026, and
the service description in Tollgate's project brief. No request was ever sent to the real
service from here; the tests run against a stub built from the same pages (tests/ncp_wsc_stub.py).

Documented, and followed as written:
- Hosts: public `https://wsc.apigw.ntruss.com`, gov `https://wsc.apigw.gov-ntruss.com`.
- createJob `PUT /api/v1/job` with `StartUrl` (required), `ExcludeUrl` (list), `Headers` (object),
  `VulnItems` (required list: `["ALL"]` or names), `UserAgent` (`PC Chrome`, `PC IE`, `iPhone`,
  `Android`), `Speed` (`"1"` normal, `"2"` faster, `"3"` fastest), `Memo`, and `MasterInstanceNo`
  (re-scan of a finished job). The call is billed and starts at once; it scans only servers created
  in the caller's NAVER Cloud account (others are refused: 160451 Assets_Check_Fail).
- getJobs `GET /api/v1/jobs?limit=&page=`: `total_cnt`, `total_page_cnt`, `record_data[]` with
  `instanceNo`, `start_date`, `end_date`, `status`, `progress`, `start_url`, `crawl_cnt`, `scan_cnt`,
  `memo`, `result_button` (`report` report ready, `cancel` cancelled, `terminate` stopped,
  `expired`, `cause` failed with a cause) and `rescan_button` (`possible`).
- searchJobs takes `searchType` (`url`, `memo` or blank), `searchKeyword`, `statusCode`, `limit`,
  `page`; the status codes are 2 scan pending, 3 scanning, 4 scan complete, 5 scan failed,
  12 crawl pending, 13 crawling, 14 crawl complete, 15 crawl failed, 91 cancelled, 92 stopping,
  93 stopped.
- cancelJob `PATCH /api/v1/jobs/{instanceId}/cancel` (before the job starts) and stopJob
  `PATCH /api/v1/jobs/{instanceId}/stop` (while it runs) answer `{"returnCode": "0", "returnDesc",
  "returnMessage", "resources"}`; service errors are `{"error": {"errorCode": 901, "message": ...}}`.
- getReport `GET /api/v1/jobs/{instanceId}/report` (its curl example): see
  normalizers/parsers/ncp_wsc.py for the fields.
- Signing: headers `x-ncp-apigw-timestamp` (ms since the epoch; more than 5 minutes off is
  refused), `x-ncp-iam-access-key`, and `x-ncp-apigw-signature-v2` = base64(HMAC-SHA256(secret,
  "{METHOD} {path?query}\\n{timestamp}\\n{accessKey}")).
- API gateway errors: HTTP 429 with codes 400 Quota Exceeded, 410 Throttle Limited, 420 Rate
  Limited; 503/500 Endpoint Error; 401 with 200 Authentication Failed and 210 Permission Denied;
  400/100, 404/300, 413/430, 504/510, 500/900. Service errors: 901 API Call Fail, 169201 Auth
  Check Error, 169202 User Check Error, 160331, 160332, 160351, 160353 and (from the brief) 160431
  VulnItems should be list, 160433 Param Value Not Define - VulnItems, 160451 Assets_Check_Fail.

Inferred, where the pages disagree or are silent (each choice is the one place to change):
- The fin host `https://wsc.apigw.fin-ntruss.com`, by the platform's naming (`*.apigw.fin-ntruss.com`).
- The pages give two paths for searchJobs (`/api/v1/jobs/search` in the overview, `/api/v1/search`
  on its own page) and for getReport (`/api/v1/jobs/report` in the overview); the overview's
  `/api/v1/jobs/...` family and getReport's curl example are used.
- Service errors come with HTTP 200 on the Korean overview and 400 on the English one, so the
  body is read whatever the status; a `returnCode` other than "0" is an error too.
- createJob's answer is not shown: the instance number is read from `resources` (a number, or an
  object with `instanceNo`); without one, the newest job on that StartUrl is taken from getJobs.
- getJobs' `status` values are not listed: digits are read as searchJobs' status codes, and the
  documented `result_button` values decide the end of a job (see jobs.py).
- Retries: 429 (400/410/420) and 503 are retried with exponential backoff (Retry-After honoured)
  within the scan's deadline; 503 is retried for createJob too, since the gateway answered that
  the service could not be reached. Nothing else is retried: 401s, 160431, 160433, 160451 and
  every other error get one line naming the call, the code and what to do.
"""
