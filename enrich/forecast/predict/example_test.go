package predict_test

import (
	"fmt"
	"time"

	"github.com/augur-sre/augur/enrich/forecast/predict"
)

func ExampleForecast_Breach() {
	// An error ratio sampled every 30s, rising 0.0005 a sample.
	s := predict.Series{Start: time.Unix(0, 0), Step: 30 * time.Second}
	for i := range 60 {
		s.Values = append(s.Values, 0.01+0.0005*float64(i))
	}
	f, err := predict.Fit(s, predict.Options{Horizon: 30 * time.Minute})
	if err != nil {
		fmt.Println(err)
		return
	}
	b := f.Breach(">", 0.0502)
	fmt.Printf("%s %s, %.4g/min, crosses 0.0502 in %s (p=%.2f)\n", f.Model, f.Trend, f.Slope*60, b.In.Round(time.Second), b.Probability)
	// Output: linear increasing, 0.001/min, crosses 0.0502 in 10m45s (p=1.00)
}
