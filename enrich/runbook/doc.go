// Package runbook is the runbook enricher: it runs the read-only
// diagnostic steps that the runbooks: section maps to an alert's name or
// root cause, and attaches their results, so that the on-call engineer
// opens the notification with "checkout-health: HTTP 503" already known.
//
// There are five kinds of step and nothing else: http_check (GET or HEAD
// and an expected status and body), prometheus_query (an instant query
// through the shared querier, summarised), log_query (a LogQL query
// against Loki: how many lines, and the latest few), tcp_check (can a
// connection be opened) and dns_lookup (does a name resolve, optionally to
// an expected address). No step can run a shell, a command, or a request
// that changes anything.
//
// Every string parameter is a Go text/template over the alert,
// {{ .Labels.service }} and {{ .Annotations.summary }}; a missing label is
// an error (use {{ index .Labels "x" }} for an optional one) and label
// values are inserted as they are (use urlquery inside URLs). Because
// label values come from whoever can create alerts, the allow-list is
// checked on what a template renders to, never on the template: every
// host a step reaches (a URL's host, every redirect, the host of a
// tcp_check, the name a dns_lookup resolves, and Loki's) must be in
// allowed_hosts, a URL may not carry user information, and the check is
// repeated when the connection is dialled. allowed_hosts entries are host
// names or IP addresses (any port), or "*.domain" for every name below
// domain. Response bodies are read up to max_response_bytes; header
// secrets are read from their file at each request and are replaced by
// <secret> in every output and error a step returns.
//
// Steps run concurrently, each under its own timeout and the caller's
// context. The enricher answers within the enrichment deadline with the
// steps that have finished; when a Followup is configured, the slower
// ones keep running (bounded by their own timeouts) and the complete
// results are handed to it, so that the caller can post them to the
// incident rather than delay the notification.
package runbook
