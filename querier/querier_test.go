package querier

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/require"

	"github.com/augur-sre/augur/config"
)

// fakePrometheus answers the query API the way Prometheus does, for one
// query, and records the requests.
func fakePrometheus(t *testing.T, delay time.Duration) (*httptest.Server, *[]url.Values) {
	var seen []url.Values
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		require.NoError(t, r.ParseForm())
		seen = append(seen, r.Form)
		time.Sleep(delay)
		w.Header().Set("Content-Type", "application/json")
		switch r.URL.Path {
		case "/api/v1/query":
			_, _ = w.Write([]byte(`{"status":"success","data":{"resultType":"vector","result":[{"metric":{"job":"x"},"value":[1764338400,"0.5"]}]}}`)) //nolint:errcheck
		case "/api/v1/query_range":
			_, _ = w.Write([]byte(`{"status":"success","data":{"resultType":"matrix","result":[{"metric":{"job":"x"},"values":[[1764338400,"1"],[1764338460,"2"]]}]}}`)) //nolint:errcheck
		default:
			w.WriteHeader(http.StatusBadRequest)
			_, _ = w.Write([]byte(`{"status":"error","errorType":"bad_data","error":"unknown endpoint"}`)) //nolint:errcheck
		}
	}))
	t.Cleanup(srv.Close)
	return srv, &seen
}

func newQuerier(t *testing.T, srvURL string, timeout time.Duration) *Querier {
	t.Helper()
	cfg := config.DefaultPrometheusConfig
	u, err := url.Parse(srvURL)
	require.NoError(t, err)
	cfg.URL = &config.URL{URL: u}
	cfg.Timeout = model.Duration(timeout)
	q, err := New(cfg, slog.New(slog.DiscardHandler))
	require.NoError(t, err)
	return q
}

func TestQuery(t *testing.T) {
	srv, seen := fakePrometheus(t, 0)
	q := newQuerier(t, srv.URL, time.Second)
	ts := time.Unix(1764338400, 0)

	v, err := q.Query(context.Background(), `rate(x[5m])`, ts)
	require.NoError(t, err)
	vec, ok := v.(model.Vector)
	require.True(t, ok)
	require.Len(t, vec, 1)
	require.Equal(t, model.SampleValue(0.5), vec[0].Value)
	require.Equal(t, "rate(x[5m])", (*seen)[0].Get("query"))
	require.Equal(t, "1764338400", (*seen)[0].Get("time"))

	v, err = q.QueryRange(context.Background(), `x`, ts, ts.Add(time.Minute), 15*time.Second)
	require.NoError(t, err)
	m, ok := v.(model.Matrix)
	require.True(t, ok)
	require.Len(t, m[0].Values, 2)
	require.Equal(t, "15", (*seen)[1].Get("step"))
	require.Equal(t, "1764338460", (*seen)[1].Get("end"))
}

func TestQueryTimeout(t *testing.T) {
	srv, _ := fakePrometheus(t, 200*time.Millisecond)
	q := newQuerier(t, srv.URL, 20*time.Millisecond)
	_, err := q.Query(context.Background(), `up`, time.Now())
	require.ErrorIs(t, err, context.DeadlineExceeded)
	require.ErrorContains(t, err, `query "up"`)
}
