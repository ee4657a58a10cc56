// Attack-path analytics (docs/attack-paths.md). Derived ATTACK relationships carry their twin, so a
// twin's attack graph is read through one relationship index; rules name the edges they own.
CREATE INDEX attack_twin IF NOT EXISTS FOR ()-[r:ATTACK]-() ON (r.twin);
CREATE INDEX attack_twin_rule IF NOT EXISTS FOR ()-[r:ATTACK]-() ON (r.twin, r.rule);

// Analyst overrides of an edge's probability: every version is kept, the active one applies.
CREATE INDEX attack_override_twin IF NOT EXISTS FOR (o:AttackOverride) ON (o.twin, o.active);

// Attack-path report runs and their schedules.
CREATE CONSTRAINT report_key IF NOT EXISTS FOR (r:Report) REQUIRE r.id IS UNIQUE;
CREATE INDEX report_twin IF NOT EXISTS FOR (r:Report) ON (r.twin, r.generatedAt);
CREATE CONSTRAINT report_schedule_key IF NOT EXISTS FOR (s:ReportSchedule) REQUIRE (s.twin, s.name) IS UNIQUE;
