// Package examples holds augur's runnable example configuration. The example
// augur.yml doubles as the default configuration compiled into the binary.
package examples

import _ "embed" // for augur.yml

// DefaultConfig is examples/augur.yml.
//
//go:embed augur.yml
var DefaultConfig []byte
