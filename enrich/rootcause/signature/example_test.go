package signature_test

import (
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/augur-sre/augur/enrich/rootcause/signature"
)

func ExampleDetect() {
	// An error ratio sampled every 30s for an hour, 0.4% with a little
	// noise, that steps to 7.9% at 14:02.
	start := time.Date(2026, 11, 28, 13, 30, 0, 0, time.UTC)
	s := signature.Series{Start: start, Step: 30 * time.Second}
	for i := range 120 {
		v := 0.004 + 0.0004*math.Sin(float64(i)*2.7)
		if i >= 64 {
			v += 0.075
		}
		s.Values = append(s.Values, v)
	}
	sig, err := signature.Detect(s, nil, signature.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	percent := func(v float64) string { return strconv.FormatFloat(100*v, 'f', 1, 64) + "%" }
	fmt.Println(sig.Line("error_rate", percent))
	fmt.Printf("%s, %.0f noise units, score %.2f\n", sig.Pattern, sig.Sigmas, sig.Score)
	// Output:
	// error_rate 0.4% → 7.9% at 14:02, step
	// step_change, 126 noise units, score 1.00
}
