// Package slo is augur's model of a service-level objective: one
// normalised type, SLO, read from any of the spec formats augur accepts
// (Sloth's prometheus/v1, OpenSLO v1 and augur's own short form), and the
// facts about it that both the rule generator and the live burn-rate
// enricher need: the multi-window multi-burn-rate alert policy, the SLI
// windows, the error-ratio PromQL for a window and the name and selector
// of the recording rule that holds it.
//
// The package does no I/O: Parse takes bytes and a file name for its
// error messages. Unlike Sloth, which keeps one Go type per spec format
// all the way to rule generation, every format is converted here and then
// validated once, so an error reads the same whatever the source format:
//
//	slos.yml: slo "checkout-availability": objective 100.5: must be in (0, 100)
package slo
