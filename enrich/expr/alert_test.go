package expr

import (
	"net/url"
	"testing"

	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/require"
)

func TestOfAlert(t *testing.T) {
	gen := func(e string) string { return "http://prometheus:9090/graph?g0.expr=" + url.QueryEscape(e) }
	c, err := OfAlert(model.Alert{GeneratorURL: gen(`0.05 < rate(errors_total[5m])`)})
	require.NoError(t, err)
	require.Equal(t, Condition{Query: "rate(errors_total[5m])", Comparator: ">", Threshold: 0.05}, Condition{Query: c.Query, Comparator: c.Comparator, Threshold: c.Threshold})

	c, err = OfAlert(model.Alert{GeneratorURL: gen(`x > 1`), Annotations: model.LabelSet{AnnotationQuery: "y", AnnotationThreshold: " 2 ", AnnotationComparator: "<"}})
	require.NoError(t, err)
	require.Equal(t, Condition{Query: "y", Comparator: "<", Threshold: 2}, c, "the annotations win")

	for _, tc := range []struct {
		alert model.Alert
		want  string
	}{
		{model.Alert{}, "nothing says what it watches"},
		{model.Alert{GeneratorURL: gen(`up == 0`)}, `the comparison "==" is a state`},
		{model.Alert{Annotations: model.LabelSet{AnnotationQuery: "y", AnnotationThreshold: "x"}}, `annotation augur_threshold: "x" is not a number`},
		{model.Alert{Annotations: model.LabelSet{AnnotationQuery: "y", AnnotationThreshold: "1", AnnotationComparator: "!="}}, "is a state"},
	} {
		_, err := OfAlert(tc.alert)
		require.ErrorContains(t, err, tc.want)
	}
}

func TestPick(t *testing.T) {
	metric := func(m model.Metric) model.Metric { return m }
	alert := model.LabelSet{"alertname": "X", "instance": "a", "job": "api"}
	series := []model.Metric{
		{"__name__": "up", "job": "api"},
		{"__name__": "up", "job": "api", "instance": "a"},
		{"__name__": "up", "job": "api", "instance": "b"},
	}
	got, err := Pick(series, metric, alert)
	require.NoError(t, err)
	require.Equal(t, series[1], got, "the most specific match")
	got, err = Pick(series[2:], metric, alert)
	require.NoError(t, err)
	require.Equal(t, series[2], got, "the only series, whatever its labels")
	_, err = Pick(series[2:2], metric, alert)
	require.ErrorContains(t, err, "none of its 0 series")
	_, err = Pick([]model.Metric{series[2], {"job": "web"}}, metric, alert)
	require.ErrorContains(t, err, "none of its 2 series has the alert's labels")
}
