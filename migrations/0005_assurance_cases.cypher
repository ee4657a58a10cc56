// Assurance cases (docs/assurance.md): a case per twin and id, its GSN elements keyed inside it,
// and the append-only history of their status changes.
CREATE CONSTRAINT assurance_case_key IF NOT EXISTS FOR (c:AssuranceCase) REQUIRE (c.twin, c.id) IS UNIQUE;
CREATE CONSTRAINT gsn_element_key IF NOT EXISTS FOR (e:GsnElement) REQUIRE (e.twin, e.case, e.id) IS UNIQUE;
CREATE INDEX gsn_element_status IF NOT EXISTS FOR (e:GsnElement) ON (e.twin, e.status);
CREATE INDEX status_change_element IF NOT EXISTS FOR (s:StatusChange) ON (s.twin, s.case, s.element, s.at);
