//go:build race

package eval

// raceEnabled is true when built with the race detector, under which the
// replays over the whole data set take too long to run with the unit
// tests.
const raceEnabled = true
