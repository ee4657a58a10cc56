// A scheduled report run is claimed before it runs (graph/reports.go, ClaimReportRun): of the
// replicas whose schedulers fire for the same run, only the one whose claim creates the node
// runs it. The key (twin, schedule, due time) is unique, so concurrent claims of one run
// cannot both create it.
CREATE CONSTRAINT report_claim_key IF NOT EXISTS FOR (c:ReportClaim) REQUIRE c.key IS UNIQUE;
