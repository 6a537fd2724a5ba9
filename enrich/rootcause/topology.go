package rootcause

import (
	"fmt"
	"strings"
	"time"

	"github.com/augur-sre/augur/enrich"
	"github.com/augur-sre/augur/enrich/rootcause/signature"
)

// PROVISIONAL: replaced by package topology.
func locate(g graph, obs map[string]map[string]signature.Signature, alert string) *enrich.Topology {
	onset := map[string]time.Time{}
	for svc, sigs := range obs {
		for _, s := range sigs {
			if s.Pattern != signature.Stable && (onset[svc].IsZero() || s.Onset.Before(onset[svc])) {
				onset[svc] = s.Onset
			}
		}
	}
	var origin string
	for svc, t := range onset {
		healthy := true
		for _, d := range g.deps[svc] {
			if !onset[d].IsZero() {
				healthy = false
			}
		}
		if healthy && (origin == "" || t.Before(onset[origin]) || (t.Equal(onset[origin]) && svc < origin)) {
			origin = svc
		}
	}
	if origin == "" {
		return nil
	}
	return &enrich.Topology{Origin: origin, Path: []string{origin}, Affected: []string{origin}, BlastRadius: 1, UserImpact: "none"}
}

func topologyLine(t enrich.Topology) string {
	return fmt.Sprintf("origin %s; blast radius %d services; user impact %s", strings.Join(t.Path, " → "), t.BlastRadius, t.UserImpact)
}
