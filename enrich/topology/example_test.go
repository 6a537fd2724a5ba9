package topology_test

import (
	"fmt"
	"time"

	"github.com/augur-sre/augur/enrich/topology"
)

func ExampleAnalyze() {
	// The static topology, completed with edges seen in service-graph
	// metrics.
	g := topology.Merge(
		topology.FromStatic(map[string][]string{
			"web":      {"checkout"},
			"mobile":   {"search"},
			"checkout": {"payment"},
		}),
		topology.FromEdges([]topology.Edge{{Client: "payment", Server: "postgres"}}),
	)
	start := time.Date(2024, 5, 1, 14, 0, 0, 0, time.UTC)
	states := map[string]topology.State{
		"postgres": {Anomalous: true, Onset: start, Score: 9},
		"payment":  {Anomalous: true, Onset: start.Add(time.Minute), Score: 7},
		"checkout": {Anomalous: true, Onset: start.Add(2 * time.Minute), Score: 5},
		"search":   {}, // observed healthy
	}
	res := topology.Analyze(g, states, topology.Options{Alerting: []string{"checkout"}})
	fmt.Println(res.Summary())
	fmt.Println(res.Affected)
	// Alerts of web and payment can belong to one incident; checkout and
	// search share nothing.
	fmt.Println(g.Within("web", "payment", 2), g.Within("checkout", "search", 10))
	// Output:
	// origin postgres → payment → checkout; blast radius 4 services; user impact major
	// [checkout payment postgres web]
	// true false
}
