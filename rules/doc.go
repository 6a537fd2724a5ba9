// Package rules will generate Prometheus rule files from SLO specs (SLI
// recording rules, error-budget metadata, multi-window multi-burn-rate
// alerts), predictive and seasonal-baseline rules, and validate them with
// Prometheus's own rulefmt and PromQL parser.
//
// It holds no code yet: rule generation is the subject of its own issue.
// The package exists so that the top-level layout is the one of DESIGN.md.
package rules
