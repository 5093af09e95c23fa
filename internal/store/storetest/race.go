//go:build race

package storetest

// raceEnabled shrinks the randomized tests: the race detector slows the
// transpiled SQLite engine down tenfold.
const raceEnabled = true
