package oscal

// The OSCAL assessment-results model, reduced to what Export writes. Field names, nesting and
// required fields (no omitempty) follow the NIST JSON schema of OSCAL 1.1.x
// (oscal_assessment-results_schema.json); see the package documentation for why these are not
// a library's types. Times are RFC 3339 strings in UTC, formatted by Export.

// OSCALVersion is the OSCAL version the exported documents claim to conform to.
const OSCALVersion = "1.1.3"

// NS is the namespace of the props this package adds (sectwin's statuses, reason codes,
// culprits, ids).
const NS = "https://sectwin.dev/ns/oscal"

type document struct {
	AssessmentResults assessmentResults `json:"assessment-results"`
}

type assessmentResults struct {
	UUID       string      `json:"uuid"`
	Metadata   metadata    `json:"metadata"`
	ImportAP   importAP    `json:"import-ap"`
	Results    []result    `json:"results"`
	BackMatter *backMatter `json:"back-matter,omitempty"`
}

type metadata struct {
	Title        string     `json:"title"`
	LastModified string     `json:"last-modified"`
	Version      string     `json:"version"`
	OSCALVersion string     `json:"oscal-version"`
	Props        []property `json:"props,omitempty"`
	Parties      []party    `json:"parties,omitempty"`
}

type party struct {
	UUID string `json:"uuid"`
	Type string `json:"type"`
	Name string `json:"name,omitempty"`
}

type property struct {
	Name    string `json:"name"`
	NS      string `json:"ns,omitempty"`
	Value   string `json:"value"`
	Class   string `json:"class,omitempty"`
	Remarks string `json:"remarks,omitempty"`
}

type link struct {
	Href string `json:"href"`
	Rel  string `json:"rel,omitempty"`
	Text string `json:"text,omitempty"`
}

type importAP struct {
	Href    string `json:"href"`
	Remarks string `json:"remarks,omitempty"`
}

type result struct {
	UUID             string            `json:"uuid"`
	Title            string            `json:"title"`
	Description      string            `json:"description"`
	Start            string            `json:"start"`
	End              string            `json:"end,omitempty"`
	Props            []property        `json:"props,omitempty"`
	LocalDefinitions *localDefinitions `json:"local-definitions,omitempty"`
	ReviewedControls reviewedControls  `json:"reviewed-controls"`
	Observations     []observation     `json:"observations,omitempty"`
	Risks            []risk            `json:"risks,omitempty"`
	Findings         []finding         `json:"findings,omitempty"`
}

type localDefinitions struct {
	Components       []component       `json:"components,omitempty"`
	InventoryItems   []inventoryItem   `json:"inventory-items,omitempty"`
	AssessmentAssets *assessmentAssets `json:"assessment-assets,omitempty"`
}

type component struct {
	UUID        string          `json:"uuid"`
	Type        string          `json:"type"`
	Title       string          `json:"title"`
	Description string          `json:"description"`
	Props       []property      `json:"props,omitempty"`
	Status      componentStatus `json:"status"`
}

type componentStatus struct {
	State   string `json:"state"`
	Remarks string `json:"remarks,omitempty"`
}

type inventoryItem struct {
	UUID        string     `json:"uuid"`
	Description string     `json:"description"`
	Props       []property `json:"props,omitempty"`
}

type assessmentAssets struct {
	Components          []component          `json:"components,omitempty"`
	AssessmentPlatforms []assessmentPlatform `json:"assessment-platforms"`
}

type assessmentPlatform struct {
	UUID          string          `json:"uuid"`
	Title         string          `json:"title,omitempty"`
	UsesComponent []usesComponent `json:"uses-components,omitempty"`
}

type usesComponent struct {
	ComponentUUID string `json:"component-uuid"`
}

type reviewedControls struct {
	Description       string             `json:"description,omitempty"`
	ControlSelections []controlSelection `json:"control-selections"`
}

type controlSelection struct {
	Description     string          `json:"description,omitempty"`
	IncludeAll      *struct{}       `json:"include-all,omitempty"`
	IncludeControls []selectControl `json:"include-controls,omitempty"`
}

type selectControl struct {
	ControlID string `json:"control-id"`
}

type origin struct {
	Actors []actor `json:"actors"`
}

type actor struct {
	Type      string `json:"type"`
	ActorUUID string `json:"actor-uuid"`
}

type observation struct {
	UUID             string             `json:"uuid"`
	Title            string             `json:"title,omitempty"`
	Description      string             `json:"description"`
	Props            []property         `json:"props,omitempty"`
	Methods          []string           `json:"methods"`
	Types            []string           `json:"types,omitempty"`
	Origins          []origin           `json:"origins,omitempty"`
	Subjects         []subjectReference `json:"subjects,omitempty"`
	RelevantEvidence []relevantEvidence `json:"relevant-evidence,omitempty"`
	Collected        string             `json:"collected"`
	Expires          string             `json:"expires,omitempty"`
}

type subjectReference struct {
	SubjectUUID string     `json:"subject-uuid"`
	Type        string     `json:"type"`
	Title       string     `json:"title,omitempty"`
	Props       []property `json:"props,omitempty"`
}

type relevantEvidence struct {
	Href        string `json:"href,omitempty"`
	Description string `json:"description"`
}

type risk struct {
	UUID                string               `json:"uuid"`
	Title               string               `json:"title"`
	Description         string               `json:"description"`
	Statement           string               `json:"statement"`
	Props               []property           `json:"props,omitempty"`
	Status              string               `json:"status"`
	Origins             []origin             `json:"origins,omitempty"`
	Deadline            string               `json:"deadline,omitempty"`
	RiskLog             *riskLog             `json:"risk-log,omitempty"`
	RelatedObservations []relatedObservation `json:"related-observations,omitempty"`
}

type riskLog struct {
	Entries []riskLogEntry `json:"entries"`
}

type riskLogEntry struct {
	UUID         string     `json:"uuid"`
	Title        string     `json:"title,omitempty"`
	Description  string     `json:"description,omitempty"`
	Start        string     `json:"start"`
	LoggedBy     []loggedBy `json:"logged-by,omitempty"`
	StatusChange string     `json:"status-change,omitempty"`
}

type loggedBy struct {
	PartyUUID string `json:"party-uuid"`
}

type finding struct {
	UUID                string               `json:"uuid"`
	Title               string               `json:"title"`
	Description         string               `json:"description"`
	Props               []property           `json:"props,omitempty"`
	Origins             []origin             `json:"origins,omitempty"`
	Target              findingTarget        `json:"target"`
	RelatedObservations []relatedObservation `json:"related-observations,omitempty"`
	RelatedRisks        []relatedRisk        `json:"related-risks,omitempty"`
}

type findingTarget struct {
	Type     string          `json:"type"`
	TargetID string          `json:"target-id"`
	Title    string          `json:"title,omitempty"`
	Status   objectiveStatus `json:"status"`
}

type objectiveStatus struct {
	State   string `json:"state"`
	Reason  string `json:"reason,omitempty"`
	Remarks string `json:"remarks,omitempty"`
}

type relatedObservation struct {
	ObservationUUID string `json:"observation-uuid"`
}

type relatedRisk struct {
	RiskUUID string `json:"risk-uuid"`
}

type backMatter struct {
	Resources []resource `json:"resources"`
}

type resource struct {
	UUID        string     `json:"uuid"`
	Title       string     `json:"title,omitempty"`
	Description string     `json:"description,omitempty"`
	Props       []property `json:"props,omitempty"`
	Rlinks      []rlink    `json:"rlinks,omitempty"`
	Remarks     string     `json:"remarks,omitempty"`
}

type rlink struct {
	Href      string `json:"href"`
	MediaType string `json:"media-type,omitempty"`
	Hashes    []hash `json:"hashes,omitempty"`
}

type hash struct {
	Algorithm string `json:"algorithm"`
	Value     string `json:"value"`
}
