package vulnid_test

import (
	"testing"

	"github.com/sectwin/sectwin/ingest/internal/vulnid"
)

func TestNormalize(t *testing.T) {
	tests := map[string]string{
		"":                       "",
		" CVE-2021-44228 ":       "CVE-2021-44228",
		"cve-2021-44228":         "CVE-2021-44228",
		"CVE-2021-123456":        "CVE-2021-123456",
		"GHSA-JFH8-C2JP-5V3Q":    "GHSA-jfh8-c2jp-5v3q",
		"ghsa-jfh8-c2jp-5v3q":    "GHSA-jfh8-c2jp-5v3q",
		"cve-2021-44228-x":       "cve-2021-44228-x", // not a whole CVE id: only trimmed
		"CVE-2021-123":           "CVE-2021-123",     // too few digits
		"DSA-5678-1":             "DSA-5678-1",
		"RHSA-2024:0001":         "RHSA-2024:0001",
		"GHSA-jfh8-c2jp-5v3q-zz": "GHSA-jfh8-c2jp-5v3q-zz",
	}
	for in, want := range tests {
		if got := vulnid.Normalize(in); got != want {
			t.Errorf("Normalize(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestPrefix(t *testing.T) {
	tests := []struct {
		in, want string
		ok       bool
	}{
		{"CVE-2019-1549", "CVE-2019-1549", true},
		{"CVE-2005-2541-tar", "CVE-2005-2541", true},
		{" cve-2005-2541 ", "CVE-2005-2541", true},
		{"CVE-2005-2541/x", "CVE-2005-2541", true},
		{"GHSA-JFH8-C2JP-5V3Q-log4j", "GHSA-jfh8-c2jp-5v3q", true},
		{"CVE-2005-2541x", "", false}, // the id runs on into letters
		{"CVE-2005-25411", "CVE-2005-25411", true},
		{"go/sql-injection", "", false},
		{"XCVE-2005-2541", "", false},
		{"", "", false},
	}
	for _, tt := range tests {
		if got, ok := vulnid.Prefix(tt.in); got != tt.want || ok != tt.ok {
			t.Errorf("Prefix(%q) = %q, %v; want %q, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}
