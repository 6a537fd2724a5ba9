package rootcause

import (
	"github.com/augur-sre/augur/enrich"
	"github.com/augur-sre/augur/enrich/rootcause/signature"
	"github.com/augur-sre/augur/enrich/topology"
)

// locate places an incident in the dependency graph: the services whose
// signals were read are anomalous when one of their signals changed, as
// of the earliest change, as strong as the strongest; the others are
// unknown. It returns the enrichment's topology part and its line, or
// nil when no service in the alert's reach is anomalous.
func locate(g *topology.Graph, obs map[string]map[string]signature.Signature, alert string, entries []string) (*enrich.Topology, string) {
	states := make(map[string]topology.State, len(obs))
	for svc, sigs := range obs {
		var st topology.State
		for _, s := range sigs {
			if s.Pattern == signature.Stable {
				continue
			}
			if !st.Anomalous || s.Onset.Before(st.Onset) {
				st.Onset = s.Onset
			}
			st.Anomalous = true
			st.Score = max(st.Score, s.Score)
		}
		states[svc] = st
	}
	r := topology.Analyze(g, states, topology.Options{Alerting: []string{alert}, Entries: entries})
	if r.Origin == "" {
		return nil, ""
	}
	return &enrich.Topology{Origin: r.Origin, Path: r.Path, Affected: r.Affected, BlastRadius: r.BlastRadius, UserImpact: string(r.Impact)}, r.Summary()
}
