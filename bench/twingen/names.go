package twingen

import (
	"fmt"
	"math/rand/v2"
	"strings"
)

// Ecosystems, with their share of packages and the well-known packages created first (which
// preferential attachment then makes the most depended-on).
const (
	ecoNpm = iota
	ecoMaven
	ecoPypi
	ecoGolang
	numEcos
)

type ecosystem struct {
	purlType string
	weight   float64
	core     []string
	licenses []string
}

var ecosystems = [numEcos]ecosystem{
	ecoNpm: {"npm", 0.45,
		[]string{"lodash", "tslib", "debug", "ms", "semver", "chalk", "commander", "react", "express", "@babel/core",
			"@types/node", "uuid", "axios", "minimist", "glob"},
		[]string{"MIT", "MIT", "MIT", "ISC", "Apache-2.0", "BSD-3-Clause"}},
	ecoMaven: {"maven", 0.25,
		[]string{"org.slf4j/slf4j-api", "com.google.guava/guava", "com.fasterxml.jackson.core/jackson-databind",
			"org.apache.commons/commons-lang3", "commons-io/commons-io", "org.springframework/spring-core",
			"org.apache.logging.log4j/log4j-core", "io.netty/netty-handler", "org.yaml/snakeyaml"},
		[]string{"Apache-2.0", "Apache-2.0", "Apache-2.0", "MIT", "EPL-2.0", "BSD-3-Clause"}},
	ecoPypi: {"pypi", 0.18,
		[]string{"six", "certifi", "urllib3", "idna", "requests", "setuptools", "numpy", "pyyaml", "typing-extensions"},
		[]string{"MIT", "BSD-3-Clause", "Apache-2.0", "MIT", "PSF-2.0"}},
	ecoGolang: {"golang", 0.12,
		[]string{"golang.org/x/sys", "golang.org/x/net", "golang.org/x/text", "google.golang.org/protobuf",
			"github.com/stretchr/testify", "github.com/sirupsen/logrus", "github.com/spf13/cobra"},
		[]string{"BSD-3-Clause", "MIT", "Apache-2.0"}},
}

var syllables = strings.Fields(`ab ac al am an ar as ax ba be bo bu ca co cu da de di do el en er ex fa fi fo
	ga go ha he io ka ki la le li lo ma me mi mo na ne no nu pa pe pi po ra re ri ro sa se si so ta te ti to
	va ve vi xo ya za zo`)

// word is two or three syllables: "kalo", "rexiva".
func word(r *rand.Rand) string {
	var b strings.Builder
	for range 2 + r.IntN(2) {
		b.WriteString(syllables[r.IntN(len(syllables))])
	}
	return b.String()
}

// packageName makes a plausible package name of an ecosystem, as the purl names it (namespace
// and name joined by a slash).
func packageName(r *rand.Rand, eco int) string {
	switch eco {
	case ecoNpm:
		switch u := r.Float64(); {
		case u < 0.15:
			return "@" + word(r) + "/" + word(r)
		case u < 0.55:
			return word(r) + "-" + word(r)
		case u < 0.62:
			return "eslint-plugin-" + word(r)
		default:
			return word(r)
		}
	case ecoMaven:
		group := []string{"org.", "com.", "io.", "net."}[r.IntN(4)] + word(r)
		if r.Float64() < 0.4 {
			group += "." + word(r)
		}
		name := word(r)
		if r.Float64() < 0.5 {
			name += "-" + []string{"core", "api", "common", "client", "utils", word(r)}[r.IntN(6)]
		}
		return group + "/" + name
	case ecoPypi:
		switch u := r.Float64(); {
		case u < 0.3:
			return word(r) + "-" + word(r)
		case u < 0.4:
			return "py" + word(r)
		default:
			return word(r)
		}
	default:
		host := []string{"github.com/", "github.com/", "github.com/", "gitlab.com/", "go.uber.org/"}[r.IntN(5)]
		if host == "go.uber.org/" {
			return host + word(r)
		}
		return host + word(r) + "/" + word(r)
	}
}

// purl builds the package URL of a version; npm scopes are percent-encoded as the spec says.
func purl(eco int, name, version string) string {
	if eco == ecoNpm && strings.HasPrefix(name, "@") {
		name = "%40" + name[1:]
	}
	return "pkg:" + ecosystems[eco].purlType + "/" + name + "@" + version
}

// displayName is the component's name property: the package name without Maven's group.
func displayName(eco int, name string) string {
	if eco == ecoMaven {
		return name[strings.IndexByte(name, '/')+1:]
	}
	return name
}

// versions makes n ascending semantic versions.
func versions(r *rand.Rand, eco, n int) []string {
	major := []int{0, 1, 1, 2, 3, 4, 5}[r.IntN(7)]
	minor, patch := r.IntN(20), r.IntN(12)
	out := make([]string, n)
	for i := range n {
		if i > 0 {
			switch u := r.Float64(); {
			case u < 0.6:
				patch += 1 + r.IntN(4)
			case u < 0.9:
				minor, patch = minor+1+r.IntN(3), 0
			default:
				major, minor, patch = major+1, 0, 0
			}
		}
		v := fmt.Sprintf("%d.%d.%d", major, minor, patch)
		if eco == ecoGolang {
			v = "v" + v
		}
		out[i] = v
	}
	return out
}

// vulnID is a CVE id, recent years likelier, or now and then a GHSA id.
func vulnID(r *rand.Rand) string {
	if r.Float64() < 0.15 {
		const alphabet = "23456789cfghjmpqrvwx"
		var b strings.Builder
		b.WriteString("GHSA")
		for range 3 {
			b.WriteByte('-')
			for range 4 {
				b.WriteByte(alphabet[r.IntN(len(alphabet))])
			}
		}
		return b.String()
	}
	year := 2025 - int(float64(11)*r.Float64()*r.Float64())
	return fmt.Sprintf("CVE-%d-%d", year, 1000+r.IntN(59000))
}
