package topology

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestGraphConstructors(t *testing.T) {
	cases := []struct {
		name           string
		g              *Graph
		services       []string
		deps           map[string][]string
		dependents     map[string][]string
		entries        []string
		unknownService string
	}{
		{
			name: "static with self-loop, duplicate, empty names and an undeclared dependency",
			g: FromStatic(map[string][]string{
				"checkout": {"payment", "checkout", "", "payment"},
				"payment":  {"postgres"},
				"":         {"ghost"},
			}),
			services:       []string{"checkout", "payment", "postgres"},
			deps:           map[string][]string{"checkout": {"payment"}, "payment": {"postgres"}, "postgres": nil},
			dependents:     map[string][]string{"postgres": {"payment"}, "payment": {"checkout"}, "checkout": nil},
			entries:        []string{"checkout"},
			unknownService: "ghost",
		},
		{
			name: "observed edges with duplicates and a self-call",
			g: FromEdges([]Edge{
				{Client: "frontend", Server: "cart"},
				{Client: "frontend", Server: "cart"},
				{Client: "cart", Server: "redis"},
				{Client: "redis", Server: "redis"},
				{Client: "", Server: "orphan"},
			}),
			services:   []string{"cart", "frontend", "redis"},
			deps:       map[string][]string{"frontend": {"cart"}, "cart": {"redis"}, "redis": nil},
			dependents: map[string][]string{"redis": {"cart"}, "cart": {"frontend"}},
			entries:    []string{"frontend"},
		},
		{
			name: "merge of static and observed",
			g: Merge(
				FromStatic(map[string][]string{"checkout": {"payment"}, "lonely": nil}),
				nil,
				FromEdges([]Edge{{Client: "payment", Server: "postgres"}, {Client: "checkout", Server: "postgres"}}),
			),
			services:   []string{"checkout", "lonely", "payment", "postgres"},
			deps:       map[string][]string{"checkout": {"payment", "postgres"}, "payment": {"postgres"}, "lonely": nil},
			dependents: map[string][]string{"postgres": {"checkout", "payment"}},
			entries:    []string{"checkout", "lonely"},
		},
		{
			name:           "zero value",
			g:              &Graph{},
			unknownService: "x",
		},
		{
			name:           "nil graph",
			g:              nil,
			unknownService: "x",
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.services, tc.g.Services())
			for svc, want := range tc.deps {
				require.Equal(t, want, tc.g.Dependencies(svc), "dependencies of %s", svc)
				require.True(t, tc.g.Has(svc))
			}
			for svc, want := range tc.dependents {
				require.Equal(t, want, tc.g.Dependents(svc), "dependents of %s", svc)
			}
			require.Equal(t, tc.entries, tc.g.Entries())
			if tc.unknownService != "" {
				require.False(t, tc.g.Has(tc.unknownService))
				require.Nil(t, tc.g.Dependencies(tc.unknownService))
			}
		})
	}
}

func TestGraphWithin(t *testing.T) {
	// frontend → checkout → payment → postgres; frontend → search → elastic;
	// inventory → postgres; island alone.
	g := Merge(
		FromStatic(map[string][]string{
			"frontend":  {"checkout", "search"},
			"checkout":  {"payment"},
			"payment":   {"postgres"},
			"search":    {"elastic"},
			"inventory": {"postgres"},
			"island":    nil,
		}),
	)
	cases := []struct {
		a, b   string
		n      int
		within bool
		dist   int
		ok     bool
	}{
		{a: "payment", b: "payment", n: 0, within: true, dist: 0, ok: true},
		{a: "checkout", b: "payment", n: 1, within: true, dist: 1, ok: true},
		{a: "payment", b: "checkout", n: 1, within: true, dist: 1, ok: true},
		{a: "payment", b: "inventory", n: 1, within: false, dist: 2, ok: true},
		{a: "payment", b: "inventory", n: 2, within: true, dist: 2, ok: true},
		{a: "postgres", b: "elastic", n: 4, within: false, dist: 5, ok: true},
		{a: "postgres", b: "island", n: 10, within: false, ok: false},
		{a: "postgres", b: "unknown", n: 10, within: false, ok: false},
	}
	for _, tc := range cases {
		t.Run(tc.a+"-"+tc.b, func(t *testing.T) {
			require.Equal(t, tc.within, g.Within(tc.a, tc.b, tc.n))
			d, ok := g.Distance(tc.a, tc.b)
			require.Equal(t, tc.ok, ok)
			require.Equal(t, tc.dist, d)
		})
	}
}
